"""Every notebook, executed once in smoke mode: the course and the appendix alike.

For each ``notebooks/NN_*.ipynb`` and ``notebooks/appendix/AN_*.ipynb``: papermill injects the smoke parameters without executing
(``--prepare-only``) into ``build/nb-smoke/NN_*.ipynb``, with ``out_dir`` set to
``build/nb-smoke/NN_*_out/``; then nbval in lax mode executes that copy in a separate pytest
process and compares the outputs of the cells marked ``# NBVAL_CHECK_OUTPUT`` with the ones
stored in git. A cell that raises fails the test, so notebooks check their own claims with
``assert``. By hand::

    pytest tests/test_notebooks.py -k 00_welcome        # one notebook
    pytest tests/test_notebooks.py -k A2                # one appendix notebook
    pytest --nbval-lax --nbval-current-env build/nb-smoke/00_welcome.ipynb   # rerun the copy
"""

import shutil
import subprocess
import sys

import pytest

from mocohd import tour
from mocohd.params import repo_root

ROOT = repo_root()
BUILD = ROOT / "build" / "nb-smoke"
NOTEBOOKS = tour.list_notebooks(appendix=True)  # the course, then the appendix
SMOKE_LIMIT_S = 600  # per notebook; the budget is under 3 minutes, this catches a hang


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=[nb.stem for nb in NOTEBOOKS])
def test_notebook_in_smoke_mode(notebook):
    out_dir = BUILD / f"{notebook.stem}_out"
    shutil.rmtree(out_dir, ignore_errors=True)
    prepared = tour.prepare(notebook, BUILD / notebook.name, {"mode": "smoke", "out_dir": str(out_dir)})
    command = [sys.executable, "-m", "pytest", "--nbval-lax", "--nbval-current-env",
               f"--nbval-cell-timeout={SMOKE_LIMIT_S}", "-p", "no:cacheprovider", "-o", "addopts=", "-q",
               str(prepared)]
    run = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=2 * SMOKE_LIMIT_S)
    assert run.returncode == 0, f"{notebook.name} failed in smoke mode:\n{run.stdout[-6000:]}\n{run.stderr[-2000:]}"
    assert " passed" in run.stdout.splitlines()[-1]
    assert out_dir.is_dir(), "the notebook did not create its out_dir (params.validate makes it)"
