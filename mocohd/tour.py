"""Run the notebook series with papermill: ``python -m mocohd.tour``.

::

    python -m mocohd.tour --mode smoke                 # every notebooks/NN_*.ipynb, in order
    python -m mocohd.tour --mode full --only 02 05     # some of them, the full run
    python -m mocohd.tour -p seed 3 -p size 32         # parameter overrides (papermill -p)
    python -m mocohd.tour --out /tmp/tour              # another output folder
    python -m mocohd.tour --store-checked-outputs 00   # author's tool, see below
    python -m mocohd.tour --appendix                   # the course, then notebooks/appendix/A*_*.ipynb
    python -m mocohd.tour --only A2                    # one appendix notebook (make tour TOUR_ARGS="--only A2")
    python -m mocohd.tour --list                       # the map of the course and, apart, the appendix

The **course** is ``notebooks/NN_*.ipynb`` (the paper, in order); the **appendix** is
``notebooks/appendix/AN_*.ipynb`` (investigations beyond the paper, paired and parameterized
like the course). A plain tour runs the course only; ``--appendix`` (``make tour APPENDIX=1``)
runs the appendix after it; ``--only`` picks from both (``--only 01 A2``).

Each run writes to ``runs/<timestamp>/`` (or ``--out``): the executed notebooks, an HTML
rendering of each, what each notebook wrote (``outputs/<notebook>/``, passed to it as
``out_dir``) and a summary table (notebook, status, seconds, failing cell) as ``summary.md``
and ``summary.csv``. A notebook that fails does not stop the tour: the others still run,
since each must also work on its own; the tour then exits with status 1 and names each
failing notebook and its failing cell.

``--store-checked-outputs NN`` rebuilds ``notebooks/NN_*.ipynb`` (or, for ``A2``,
``notebooks/appendix/A2_*.ipynb``) from its ``.py`` pair: it
executes the notebook in smoke mode and keeps only the outputs of the cells marked
``# NBVAL_CHECK_OUTPUT``, which the tests (nbval, lax mode) compare on every run.
"""

from __future__ import annotations

import argparse
import ast
import csv
import hashlib
import re
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from mocohd.params import MODES, repo_root

KERNEL = "python3"
CHECK_MARK = "NBVAL_CHECK_OUTPUT"
NOTEBOOK_GLOB = "[0-9][0-9]_*.ipynb"
APPENDIX_FOLDER = "appendix"  # inside notebooks/
APPENDIX_GLOB = "A[0-9]*_*.ipynb"

# The planned series; notebooks/ says which exist so far.
SERIES = [
    ("00_welcome", "What MoCoGAN-HD is, the toy world, a real clip, how to run the notebooks"),
    ("01_image_generator", "A StyleGAN2 image generator in plain PyTorch, trained on toy faces"),
    ("02_motion_generator", "The LSTM motion generator: a trajectory in the generator's latent space"),
    ("03_image_discriminators", "The image discriminators: the in-domain pair PatchGAN and the contrastive one"),
    ("04_video_discriminator", "The 3D video discriminator"),
    ("05_training", "Training the motion generator against both discriminators"),
    ("06_cross_domain", "Content from one domain, motion from another"),
    ("07_long_sequences", "Longer videos: unrolling the LSTM, interpolating in W"),
    ("08_evaluation", "FVD, IS, ACD, PSNR/SSIM on toy and real clips"),
]

# The appendix: research beyond the paper, in notebooks/appendix/, listed apart from the course.
APPENDIX = [
    ("A1_why_toy_faces_do_not_blink", "Why the toy faces do not blink: a research log beyond the paper "
     "(discriminator probes, steered clips, the nearest-path term)"),
    ("A2_image_generator_experiments", "Training the toy image generators beyond the paper: R1 schedules, "
     "the shut eyes they drop, eye-balanced data, and what bf16 costs on a CPU"),
]


def notebooks_dir() -> Path:
    return repo_root() / "notebooks"


def appendix_dir(folder: Path | None = None) -> Path:
    """``notebooks/appendix/`` (or ``<folder>/appendix/``)."""
    return Path(folder or notebooks_dir()) / APPENDIX_FOLDER


def _starts_with_any(notebooks: list[Path], only: list[str] | None) -> list[Path]:
    if not only:
        return notebooks
    return [nb for nb in notebooks if any(nb.name.startswith(prefix) for prefix in only)]


def list_appendix(folder: Path | None = None, only: list[str] | None = None) -> list[Path]:
    """``appendix/AN_*.ipynb`` under ``folder`` (default ``notebooks/``), in order (A2 before A10);
    ``only`` keeps those whose name starts with one of the given prefixes (``A2``)."""
    def number(nb: Path):
        head = nb.name.split("_", 1)[0][1:]
        return (int(head) if head.isdigit() else float("inf"), nb.name)

    return _starts_with_any(sorted(appendix_dir(folder).glob(APPENDIX_GLOB), key=number), only)


def list_notebooks(folder: Path | None = None, only: list[str] | None = None, appendix: bool = False) -> list[Path]:
    """The course, ``NN_*.ipynb`` in ``folder``, in order; with ``appendix=True`` followed by the
    appendix (``list_appendix``). ``only`` keeps those whose name starts with one of the given
    prefixes (``02`` or ``02_motion``)."""
    notebooks = sorted(Path(folder or notebooks_dir()).glob(NOTEBOOK_GLOB))
    if appendix:
        notebooks += list_appendix(folder)
    return _starts_with_any(notebooks, only)


def select_notebooks(folder: Path | None = None, only: list[str] | None = None, appendix: bool = False) -> list[Path]:
    """What a tour runs: the course; with ``appendix`` the appendix after it. ``--only`` picks
    from both, so ``--only A2`` needs no ``--appendix``."""
    return list_notebooks(folder, only, appendix=appendix or bool(only))


def _map(table: list[tuple[str, str]], present: set[str]) -> str:
    rows = ["| notebook | topic | status |", "|---|---|---|"]
    rows += [f"| `{stem}` | {topic} | {'ready' if stem in present else 'planned'} |" for stem, topic in table]
    extra = sorted(present - {stem for stem, _ in table})
    rows += [f"| `{stem}` | | ready |" for stem in extra]
    return "\n".join(rows)


def series_table() -> str:
    """The map of the course as Markdown, marking which notebooks exist yet."""
    return _map(SERIES, {nb.stem for nb in list_notebooks()})


def appendix_table() -> str:
    """The map of the appendix as Markdown, marking which notebooks exist yet."""
    return _map(APPENDIX, {nb.stem for nb in list_appendix()})


def full_map() -> str:
    """What ``--list`` prints: the course, then the appendix apart."""
    return (f"Course (notebooks/, the paper in order; `make tour`):\n\n{series_table()}\n\n"
            f"Appendix (notebooks/appendix/, research beyond the paper; `make tour APPENDIX=1`, "
            f"or `--only A2`):\n\n{appendix_table()}")


def parse_value(text: str):
    """A ``-p`` value: a Python literal (3, 0.5, True, None, [1, 2]) or else a plain string."""
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text


# ----------------------------------------------------------------------------------------
# Running notebooks


@dataclass
class Result:
    notebook: str
    status: str  # "ok" or "failed"
    seconds: float
    detail: str = ""


def prepare(notebook: Path, destination: Path, parameters: dict) -> Path:
    """Write a copy of ``notebook`` with ``parameters`` injected after its ``parameters`` cell,
    without executing it (``papermill --prepare-only``)."""
    import papermill

    destination.parent.mkdir(parents=True, exist_ok=True)
    papermill.execute_notebook(str(notebook), str(destination), parameters=parameters, prepare_only=True,
                               kernel_name=KERNEL, progress_bar=False)
    return destination


def describe_failure(error) -> str:
    """Which cell failed and why, from papermill's error (or any other exception)."""
    from papermill.exceptions import PapermillExecutionError

    if isinstance(error, PapermillExecutionError):
        first_line = next((line for line in error.source.splitlines() if line.strip()), "")
        return (f"cell In[{error.exec_count}] (cell #{error.cell_index} of the executed notebook) "
                f"`{first_line.strip()[:80]}`: {error.ename}: {error.evalue}")
    return f"{type(error).__name__}: {error}"


def run_notebook(notebook: Path, run_dir: Path, parameters: dict) -> Result:
    """Execute one notebook with papermill into ``run_dir`` and render it to HTML."""
    import papermill

    executed = run_dir / notebook.name
    start = time.perf_counter()
    try:
        papermill.execute_notebook(str(notebook), str(executed), parameters=parameters, kernel_name=KERNEL,
                                   cwd=str(notebook.parent), progress_bar=True)
        status, detail = "ok", ""
    except Exception as error:  # the tour goes on with the next notebook
        status, detail = "failed", describe_failure(error)
    seconds = time.perf_counter() - start
    if executed.exists():
        render_html(executed)
    return Result(notebook.stem, status, seconds, detail)


def render_html(executed: Path) -> Path:
    import nbconvert
    import nbformat

    body, _ = nbconvert.HTMLExporter().from_notebook_node(nbformat.read(executed, as_version=4))
    html = executed.with_suffix(".html")
    html.write_text(body, encoding="utf-8")
    return html


def write_summary(run_dir: Path, results: list[Result], mode: str) -> str:
    with open(run_dir / "summary.csv", "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["notebook", "status", "seconds", "detail"])
        writer.writerows([r.notebook, r.status, f"{r.seconds:.1f}", r.detail] for r in results)
    lines = [f"# Tour, mode {mode}, {datetime.now():%Y-%m-%d %H:%M}", "",
             "| notebook | status | seconds | failing cell |", "|---|---|---:|---|"]
    lines += [f"| {r.notebook} | {r.status} | {r.seconds:.1f} | {r.detail.replace('|', '/')} |" for r in results]
    total = sum(r.seconds for r in results)
    lines += ["", f"Total: {total:.1f} s; {sum(r.status == 'ok' for r in results)} of {len(results)} ok."]
    table = "\n".join(lines) + "\n"
    (run_dir / "summary.md").write_text(table)
    return table


def tour(mode: str, only: list[str] | None, out: Path | None, overrides: dict,
         folder: Path | None = None, appendix: bool = False) -> int:
    notebooks = select_notebooks(folder, only, appendix)
    if not notebooks:
        where = folder or notebooks_dir()
        print(f"no notebooks match {only or NOTEBOOK_GLOB} in {where} or its {APPENDIX_FOLDER}/", file=sys.stderr)
        return 2
    run_dir = Path(out) if out else repo_root() / "runs" / datetime.now().strftime("%Y%m%d-%H%M%S")
    run_dir = run_dir.resolve()
    run_dir.mkdir(parents=True, exist_ok=True)
    print(f"tour: {len(notebooks)} notebook(s), mode {mode}, writing to {run_dir}", flush=True)
    results = []
    for k, notebook in enumerate(notebooks, 1):
        print(f"[{k}/{len(notebooks)}] {notebook.stem} ...", flush=True)
        parameters = {"mode": mode, "out_dir": str(run_dir / "outputs" / notebook.stem), **overrides}
        result = run_notebook(notebook, run_dir, parameters)
        print(f"[{k}/{len(notebooks)}] {notebook.stem}: {result.status} in {result.seconds:.1f} s"
              + (f"\n    {result.detail}" if result.detail else ""), flush=True)
        results.append(result)
    print("\n" + write_summary(run_dir, results, mode))
    failed = [r for r in results if r.status != "ok"]
    for r in failed:
        print(f"FAILED {r.notebook}: {r.detail}\n    see {run_dir / (r.notebook + '.html')}", file=sys.stderr)
    return 1 if failed else 0


# ----------------------------------------------------------------------------------------
# Author's tool: the committed .ipynb with only the checked outputs


ADDRESS = re.compile(r"0x[0-9a-fA-F]{6,}")


def is_checked(cell) -> bool:
    return cell.cell_type == "code" and CHECK_MARK in cell.source


def _stable_ids(nb) -> None:
    """Cell ids derived from position and source, so rebuilding an unchanged notebook changes nothing."""
    for i, cell in enumerate(nb.cells):
        cell.id = hashlib.sha1(f"{i}:{cell.source}".encode()).hexdigest()[:12]


def store_checked_outputs(prefix: str, folder: Path | None = None) -> Path:
    """Rebuild ``NN_*.ipynb`` from ``NN_*.py`` (or ``appendix/AN_*.ipynb`` from its ``.py`` for a
    prefix such as ``A2``): executed in smoke mode, outputs kept only in the cells marked
    ``# NBVAL_CHECK_OUTPUT``. Returns the written .ipynb."""
    import jupytext
    import nbformat
    import papermill

    folder = Path(folder or notebooks_dir())
    py_globs = [(folder, NOTEBOOK_GLOB), (appendix_dir(folder), APPENDIX_GLOB)]
    sources = sorted(path for where, pattern in py_globs for path in where.glob(f"{prefix}*.py")
                     if path.match(pattern.replace(".ipynb", ".py")))
    if len(sources) != 1:
        raise SystemExit(f"--store-checked-outputs {prefix}: expected one notebooks/{prefix}*.py or "
                         f"notebooks/{APPENDIX_FOLDER}/{prefix}*.py, found {[s.name for s in sources] or 'none'}")
    source = sources[0]
    nb = jupytext.read(source)
    nb.metadata.setdefault("kernelspec", {"name": KERNEL, "display_name": "Python 3", "language": "python"})
    nb.metadata.setdefault("jupytext", {})["formats"] = "ipynb,py:percent"
    _stable_ids(nb)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    with tempfile.TemporaryDirectory() as tmp:
        plain, executed = Path(tmp) / source.with_suffix(".ipynb").name, Path(tmp) / "executed.ipynb"
        nbformat.write(nb, plain)
        print(f"executing {source.name} in smoke mode to collect the checked outputs ...", flush=True)
        papermill.execute_notebook(str(plain), str(executed), kernel_name=KERNEL, cwd=str(source.parent),
                                   parameters={"mode": "smoke", "out_dir": str(Path(tmp) / "out")})
        ran = {cell.id: cell for cell in nbformat.read(executed, as_version=4).cells}
    for cell in filter(is_checked, nb.cells):
        # nbval skips a cell without an execution count as "unrun", so the count stays
        cell.outputs, cell.execution_count = ran[cell.id].outputs, ran[cell.id].execution_count
        text = nbformat.writes(nbformat.v4.new_notebook(cells=[cell]))
        if ADDRESS.search(text):
            raise SystemExit(f"a {CHECK_MARK} cell of {source.name} prints a memory address "
                             f"({ADDRESS.search(text).group()}), which changes from run to run; print shapes or values")
    target = source.with_suffix(".ipynb")
    jupytext.write(nb, target, fmt="ipynb")
    print(f"wrote {target} ({sum(map(is_checked, nb.cells))} checked cell(s))")
    return target


# ----------------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m mocohd.tour", description=__doc__.split("\n\n")[0])
    parser.add_argument("--mode", choices=MODES, default="smoke", help="smoke: fast check; full: the real run")
    parser.add_argument("--only", nargs="+", metavar="NN",
                        help="run only notebooks whose name starts so, course or appendix (e.g. 02, A2)")
    parser.add_argument("--appendix", action="store_true",
                        help="also run the appendix (notebooks/appendix/A*_*.ipynb), after the course")
    parser.add_argument("--out", type=Path, help="output folder (default runs/<timestamp>/)")
    parser.add_argument("-p", "--parameter", nargs=2, action="append", default=[], metavar=("NAME", "VALUE"),
                        help="set a notebook parameter (repeatable), e.g. -p seed 3")
    parser.add_argument("--notebooks", type=Path, help=argparse.SUPPRESS)  # another folder (tests)
    parser.add_argument("--list", action="store_true", help="print the map of the course and of the appendix, and exit")
    parser.add_argument("--store-checked-outputs", metavar="NN",
                        help="rebuild notebooks/NN_*.ipynb (or appendix/AN_*.ipynb for A2) from its .py, "
                             "keeping only NBVAL_CHECK_OUTPUT outputs")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.list:
        print(full_map())
        return 0
    if args.store_checked_outputs:
        store_checked_outputs(args.store_checked_outputs, args.notebooks)
        return 0
    overrides = {name: parse_value(value) for name, value in args.parameter}
    return tour(args.mode, args.only, args.out, overrides, args.notebooks, args.appendix)


if __name__ == "__main__":
    sys.exit(main())
