"""Two course notebooks, each run twice in smoke mode with the same seed, print the same numbers.

``02_motion_generator`` (a frozen generator's PCA, motion-generator videos, and a 150-step
training of the MI experiment) and ``04_video_discriminator`` (40 training steps of the 3D
video discriminator) are the two shortest course notebooks that train something. Each is
executed twice by papermill into two output notebooks, each run with its own ``out_dir``;
then

- every ``stream`` output (stdout, stderr) and every ``text/plain`` representation of a
  displayed or returned value must be the same in both, cell by cell, after masking what
  legitimately varies between two runs: each run's own ``out_dir`` (it differs by design) and
  the repository's path, timings (a number followed by a unit of time, ``12.3 s``, ``45ms``,
  ``1.2s/it``, ``3 it/s``, ``00:12`` elapsed/remaining clocks), tqdm progress bars (their
  percentage, bar and counts), memory addresses (``0x7f...``) and dates and times
  (``2026-12-07 19:05:57``). Images, HTML and videos are not compared (the files below are);
  the two notebooks print no timing today, so the masks only guard against a print that adds
  one;
- every file the two runs wrote in their ``out_dir`` (JSON results, checkpoints, PCA arrays,
  GIFs and AVIs) must be byte for byte the same.

The notebooks seed Python, NumPy and PyTorch in ``mocohd.params.validate`` and draw the rest
from their own seeded ``torch.Generator``; a difference here means an unseeded draw, and the
message names the cell. The two runs of a notebook go side by side, each kernel on one
thread (``MOCOHD_THREADS=1``): on two cores that takes about the time of one run, about
30 s per notebook. papermill runs in subprocesses, since the kernels talk over local TCP
sockets, which pytest-socket keeps closed in the test process (see
docs/troubleshooting.md#sockets-blocked-in-tests).
"""

import os
import re
import subprocess
import sys

import nbformat
import pytest

from mocohd import tour
from mocohd.params import repo_root

ROOT = repo_root()
NOTEBOOKS = ["02_motion_generator", "04_video_discriminator"]
LIMIT_S = 400  # per notebook; its smoke run takes about 30 s on a quiet 2-core CPU

RUNNER = """
import sys
import papermill

notebook, executed, cwd, kernel, out_dir = sys.argv[1:6]
papermill.execute_notebook(notebook, executed, parameters={"mode": "smoke", "out_dir": out_dir},
                           kernel_name=kernel, cwd=cwd, progress_bar=False)
"""

TIME_UNITS = r"(?:s/it|it/s|ms|µs|us|ns|s|sec|secs|seconds?|min|minutes?|h|hours?)\b"
MASKS = [  # (what, pattern, replacement), applied in order
    ("tqdm bar", re.compile(r"\d+%\|[^|\n]*\|\s*\d+/\d+\s*\[[^\]\n]*\]"), "<progress>"),
    ("clock", re.compile(r"\b\d+:\d{2}(?::\d{2})?(?:\.\d+)?\b"), "<clock>"),
    ("date", re.compile(r"\b\d{4}-\d{2}-\d{2}(?:[ T]<clock>)?"), "<date>"),
    ("address", re.compile(r"0x[0-9a-fA-F]{6,}"), "<address>"),
    ("timing", re.compile(r"(?<![\w.])[-+]?\d[\d,]*(?:\.\d+)?(?:e[-+]?\d+)?\s*" + TIME_UNITS), "<time>"),
]


def mask(text: str, out_dir) -> str:
    text = text.replace(str(out_dir), "<out_dir>").replace(str(ROOT), "<root>")
    for _, pattern, replacement in MASKS:
        text = pattern.sub(replacement, text)
    return text


def printed(executed, out_dir) -> list[tuple[int, str, str]]:
    """(cell index, kind, masked text) of every stream and text/plain output, in order."""
    found = []
    for index, cell in enumerate(nbformat.read(executed, as_version=4).cells):
        for output in cell.get("outputs", []) if cell.cell_type == "code" else []:
            if output.output_type == "stream":
                found.append((index, output.name, mask(output.text, out_dir)))
            elif output.output_type in ("execute_result", "display_data") and "text/plain" in output.data:
                found.append((index, "text/plain", mask(output.data["text/plain"], out_dir)))
    return found


def written(out_dir) -> dict[str, bytes]:
    return {str(path.relative_to(out_dir)): path.read_bytes() for path in sorted(out_dir.rglob("*")) if path.is_file()}


def test_the_masks_hide_timings_and_addresses_but_not_numbers():
    text = ("step 3 in 1.25 s, 12ms per clip; 40/40 [00:03<00:00, 11.2it/s]; 100%|#####| 41/41 [00:03<00:00]\n"
            "<Figure at 0x7f3a2b1c9d80> on 2026-12-07 19:05:57; loss 0.4213, 1,428,312 parameters, 45% of variance")
    assert mask(text, "/nowhere") == (
        "step 3 in <time>, <time> per clip; 40/40 [<clock><<clock>, <time>]; <progress>\n"
        "<Figure at <address>> on <date>; loss 0.4213, 1,428,312 parameters, 45% of variance")


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_a_notebook_run_twice_prints_and_writes_the_same(name, tmp_path):
    notebook = ROOT / "notebooks" / f"{name}.ipynb"
    env = {**os.environ, "MOCOHD_THREADS": "1", "OMP_NUM_THREADS": "1"}
    runs = [(tmp_path / f"run{k}.ipynb", tmp_path / f"out{k}") for k in (1, 2)]
    processes = [subprocess.Popen([sys.executable, "-c", RUNNER, str(notebook), str(executed), str(notebook.parent),
                                   tour.KERNEL, str(out_dir)], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                                  stderr=subprocess.STDOUT, text=True) for executed, out_dir in runs]
    for process in processes:  # side by side: the two runs also must not disturb each other
        try:
            log, _ = process.communicate(timeout=LIMIT_S)
        except subprocess.TimeoutExpired:
            for p in processes:
                p.kill()
            raise
        assert process.returncode == 0, f"{name} failed in smoke mode:\n{log[-4000:]}"

    (first, first_out), (second, second_out) = runs
    a, b = printed(first, first_out), printed(second, second_out)
    assert [(i, kind) for i, kind, _ in a] == [(i, kind) for i, kind, _ in b], "the two runs printed different outputs"
    for (index, kind, text_a), (_, _, text_b) in zip(a, b):
        assert text_a == text_b, (f"{name}, cell #{index} ({kind}) printed different things in two runs with the same "
                                  f"seed:\n--- first run\n{text_a}\n--- second run\n{text_b}")

    files_a, files_b = written(first_out), written(second_out)
    assert sorted(files_a) == sorted(files_b), "the two runs wrote different files"
    assert files_a, f"{name} wrote nothing to its out_dir"
    differ = [path for path in files_a if files_a[path] != files_b[path]]
    assert not differ, f"{name}: the two runs wrote different bytes to {differ}"
