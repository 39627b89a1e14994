"""Every notebook stops at its parameter check when given one bad parameter value.

Each course notebook (``notebooks/NN_*.ipynb``) and appendix notebook
(``notebooks/appendix/AN_*.ipynb``) runs once with papermill, with one parameter set to a value
its check rejects (``BAD`` below: a value per notebook, so that between them they reach
``mocohd.params.validate``'s checks and the notebooks' own). The notebook must stop in the
cell right after the injected parameters (In[3]: In[1] is the ``parameters`` cell, In[2]
papermill's injected one), before any heavy work, with a ``ValueError`` whose message names
the parameter, the bad value and what is allowed.

papermill runs in a subprocess, as ``make tour`` does: a kernel talks to papermill over local
TCP sockets, which pytest-socket keeps closed in the test process itself (see
docs/troubleshooting.md#sockets-blocked-in-tests). The subprocess catches papermill's
``PapermillExecutionError`` and prints its ``ename``, ``evalue`` and ``exec_count`` as JSON.
"""

import json
import subprocess
import sys

import pytest

from mocohd import tour
from mocohd.params import repo_root

ROOT = repo_root()
NOTEBOOKS = tour.list_notebooks(appendix=True)  # the course, then the appendix
CHECK_CELL = 3  # In[1] parameters, In[2] papermill's injected parameters, In[3] the check
LIMIT_S = 120  # per notebook; it fails in its first seconds, this catches a notebook that runs on

# notebook prefix -> (the bad parameters, words its error message must contain)
BAD = {
    "00": ({"mode": "fast"}, ["mode must be", "'smoke'", "'full'", "got 'fast'"]),
    "01": ({"domain": "cats"}, ["domain='cats'", "not a toy-world domain", "faces"]),
    "02": ({"checkpoint": "data/checkpoints/nowhere_64.pt"},
           ["checkpoint = 'data/checkpoints/nowhere_64.pt'", "does not exist", "set it to None"]),
    "03": ({"size": 48}, ["size must be a positive power of two", "got 48"]),
    "04": ({"ndf": 0}, ["positive int ndf", "ndf=0"]),
    "05": ({"bf16": "yes"}, ["bf16='yes'", "'auto', True or False"]),
    "06": ({"content_checkpoint": "data/checkpoints/nowhere_64.pt"},
           ["content_checkpoint = 'data/checkpoints/nowhere_64.pt'", "does not exist"]),
    "07": ({"frames": 8}, ["frames=8", "from 17", "to 256"]),
    "08": ({"n_videos": 2}, ["n_videos=2", "at least 4"]),
    "A1": ({"domain": "cats"}, ["domain='cats'", "not a toy-world domain", "faces"]),
    "A2": ({"gallery": {}}, ["gallery must be a dict", "got {}"]),
}

# Runs in a subprocess: execute the notebook, print what papermill's error says (or that there was none).
RUNNER = """
import json, sys
import papermill
from papermill.exceptions import PapermillExecutionError

notebook, executed, cwd, kernel, parameters = sys.argv[1:6]
try:
    papermill.execute_notebook(notebook, executed, parameters=json.loads(parameters), kernel_name=kernel,
                               cwd=cwd, progress_bar=False)
    print(json.dumps({"ename": None}))
except PapermillExecutionError as error:
    print(json.dumps({"ename": error.ename, "evalue": error.evalue, "exec_count": error.exec_count}))
"""


def prefix(notebook) -> str:
    return notebook.name.split("_", 1)[0]


def test_every_notebook_has_a_bad_value_here():
    assert sorted(prefix(nb) for nb in NOTEBOOKS) == sorted(BAD), "add the new notebook's bad value to BAD"


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=[nb.stem for nb in NOTEBOOKS])
def test_a_bad_parameter_stops_the_notebook_at_its_check(notebook, tmp_path):
    bad, words = BAD[prefix(notebook)]
    parameters = {"mode": "smoke", "out_dir": str(tmp_path / "out"), **bad}
    run = subprocess.run([sys.executable, "-c", RUNNER, str(notebook), str(tmp_path / notebook.name),
                          str(notebook.parent), tour.KERNEL, json.dumps(parameters)],
                         cwd=ROOT, capture_output=True, text=True, timeout=LIMIT_S)
    assert run.returncode == 0, f"the papermill subprocess itself failed:\n{run.stderr[-3000:]}"
    error = json.loads(run.stdout.strip().splitlines()[-1])
    assert error["ename"] is not None, f"{notebook.name} ran to the end with {bad}: it does not check them"
    assert error["ename"] == "ValueError", error
    assert error["exec_count"] == CHECK_CELL, f"stopped in In[{error['exec_count']}], not at its check: {error}"
    missing = [word for word in words if word not in error["evalue"]]
    assert not missing, f"the message does not say {missing}: {error['evalue']}"
