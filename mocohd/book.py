"""The course as a static web site: ``python -m mocohd.book build|check`` (``make book``, ``make book-check``).

::

    python -m mocohd.book build                      # the newest smoke-mode tour run in runs/ -> runs/book/html/
    python -m mocohd.book build --mode full          # the newest full-mode tour run (make book MODE=full)
    python -m mocohd.book build --from runs/20261207-181500 --out /tmp/book
    python -m mocohd.book check                      # open every page in headless Chromium (runs/book)

``build`` reads the executed notebooks of one tour run (``make tour`` writes them to
``runs/<timestamp>/``), never executes anything, and writes a Sphinx project beside the site:
``<out>/src/`` (conf.py, index.md and a copy of each notebook with a box at its top giving the
parameters it ran with and what it cost, from the tour's summary), then ``<out>/html/`` with
sphinx-book-theme and myst-nb: a table of contents (the course, then the appendix apart),
previous/next links, full-text search, the videos inline, the figures. ``<out>/book.json``
lists the pages, their titles and the build time.

Interactive explorers (:class:`mocohd.viz.Explorer`) carry a static snapshot of their starting
state next to the live widget; the book drops the widget (no kernel runs behind a web page) and
so shows the snapshot, with its note. Nothing in the site is fetched from the network except
MathJax, which typesets the equations where a connection exists.

``check`` (:mod:`mocohd.book_check`) opens every page in headless Chromium and checks it.
"""

from __future__ import annotations

import argparse
import ast
import csv
import io
import json
import re
import shutil
import sys
import time
import tokenize
from dataclasses import asdict, dataclass
from html import escape as escape_html
from pathlib import Path

from mocohd.params import MODES, repo_root

COURSE_GLOB = "[0-9][0-9]_*.ipynb"
APPENDIX_GLOB = "A[0-9]*_*.ipynb"
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


@dataclass
class Page:
    name: str  # the notebook's stem, also the page's name: <name>.html
    title: str  # its first heading
    part: str  # "course" or "appendix"
    status: str  # from the tour's summary: "ok", "failed" or "" (not in the summary)
    seconds: float | None
    run: str  # the tour run's folder name


# ----------------------------------------------------------------------------------------
# The tour run


def tour_mode(run: Path) -> str | None:
    """The mode a tour ran in: the first line of its summary.md ("# Tour, mode smoke, ...")."""
    summary = run / "summary.md"
    match = re.match(r"# Tour, mode (\w+)", summary.read_text()) if summary.exists() else None
    return match.group(1) if match else None


def find_run(runs: Path | None = None, mode: str = "smoke", exclude: Path | None = None) -> Path:
    """The newest folder under ``runs/`` that a tour of ``mode`` wrote (a summary.csv beside
    executed notebooks)."""
    runs = Path(runs or repo_root() / "runs")
    candidates = [s.parent for s in runs.glob("*/summary.csv")
                  if (exclude is None or s.parent.resolve() != Path(exclude).resolve())
                  and any(s.parent.glob(COURSE_GLOB)) and tour_mode(s.parent) == mode]
    if not candidates:
        raise SystemExit(f"no {mode}-mode tour run in {runs}/ (a folder with summary.csv and executed notebooks): "
                         f"run `make tour{' MODE=full' if mode == 'full' else ''}` first, or name one with "
                         f"--from (make book BOOK_FROM=runs/<timestamp>)")
    return max(candidates, key=lambda run: (run / "summary.csv").stat().st_mtime)


def read_summary(run: Path) -> dict[str, dict]:
    """summary.csv as {notebook: {"status", "seconds", "detail"}}."""
    path = run / "summary.csv"
    if not path.exists():
        return {}
    with open(path, newline="") as f:
        return {row["notebook"]: {"status": row["status"], "seconds": float(row["seconds"]), "detail": row["detail"]}
                for row in csv.DictReader(f)}


def series_order(name: str, part: str) -> tuple:
    """Where a notebook goes: the course by name, then the appendix by number (A2 before A10)."""
    head = name.split("_", 1)[0][1:]
    return (part == "appendix", int(head) if part == "appendix" and head.isdigit() else 0, name)


def run_notebooks(run: Path) -> list[tuple[Path, str]]:
    """The executed notebooks of a run, the course in order, then the appendix (A2 before A10)."""
    found = [(nb, "course") for nb in run.glob(COURSE_GLOB)] + [(nb, "appendix") for nb in run.glob(APPENDIX_GLOB)]
    return sorted(found, key=lambda item: series_order(item[0].stem, item[1]))


# ----------------------------------------------------------------------------------------
# The box at the top of each page


def _comments(source: str) -> dict[int, str]:
    """Line number -> the comment on that line."""
    found = {}
    try:
        for token in tokenize.generate_tokens(io.StringIO(source).readline):
            if token.type == tokenize.COMMENT:
                found[token.start[0]] = token.string.lstrip("#").strip()
    except (tokenize.TokenError, IndentationError):
        pass
    return found


def parameter_defaults(source: str) -> dict[str, tuple[str, str]]:
    """The ``parameters`` cell's assignments: {name: (value as written, its comment)}."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return {}
    comments = _comments(source)
    found = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            found[node.targets[0].id] = (ast.get_source_segment(source, node.value) or "",
                                         comments.get(node.end_lineno, ""))
    return found


def _shown(value) -> str:
    """A run's parameter value as code; paths inside the repository relative to it."""
    if isinstance(value, str):
        root = str(repo_root()) + "/"
        value = value[len(root):] if value.startswith(root) else value
    return repr(value)


def _same(value, written: str) -> bool:
    """Whether an injected value is what the parameters cell already says."""
    try:
        return ast.literal_eval(written) == value
    except (ValueError, SyntaxError):
        return False


def _code(text: str) -> str:
    text = " ".join(text.split())  # a value written over several lines, on one
    return f"`{text}`" if text and "`" not in text else text


def header(nb, row: dict | None, mode: str | None, run: Path) -> str:
    """The box at the top of a page: how this notebook ran (mode, time, status) and with which
    parameters (its ``parameters`` cell, and what papermill injected)."""
    papermill = nb.metadata.get("papermill", {})
    injected = papermill.get("parameters", {})
    defaults = {}
    for cell in nb.cells:
        if cell.cell_type == "code" and "parameters" in cell.metadata.get("tags", []):
            defaults = parameter_defaults(cell.source)
            break
    mode = injected.get("mode", mode)
    seconds = row["seconds"] if row else papermill.get("duration")
    started = papermill.get("start_time", "")[:16].replace("T", " ")
    cost = f"**{seconds:.1f} s**" if seconds is not None else "an unrecorded time"
    lines = [f"Executed in **{mode}** mode by `make tour` (run `{run.name}`"
             + (f", started {started} UTC" if started else "") + f") in {cost}"
             + (f", status **{row['status']}**." if row else ".")
             + " The notebook's introduction says what it costs in each mode on a 2-core CPU."]
    if row and row["status"] != "ok":
        lines.append(f"\n**This notebook failed in this run:** {row['detail']}")
    lines += ["", "Its parameters in this run:", ""]
    for name in list(defaults) + [n for n in injected if n not in defaults]:
        default, comment = defaults.get(name, ("", "injected by the tour"))
        value = _code(default)
        if name in injected and not _same(injected[name], default):
            value = f"{_code(_shown(injected[name]))} (the cell says {_code(default)})" if default else \
                _code(_shown(injected[name]))
        comment = escape_html(comment, quote=False)  # a comment's "<domain>" is text, not a tag
        lines.append(f"- `{name}` = {value}" + (f": {comment}" if comment else ""))
    body = "\n".join(lines)
    return f"````{{admonition}} How this page was made: parameters and cost\n:class: tip\n\n{body}\n````"


def first_title(nb) -> str:
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                if line.startswith("# "):
                    return line[2:].strip()
    return ""


def progress_text(widgets: dict, model_id: str) -> str | None:
    """A tqdm progress bar (an HBox of HTML, progress, HTML) as text, from the widget state that
    the executed notebook saved: its final values. None for any other widget."""
    import html

    box = widgets.get(model_id, {})
    children = [widgets.get(str(c).removeprefix("IPY_MODEL_"), {}) for c in box.get("state", {}).get("children", [])]
    kinds = [c.get("model_name") for c in children]
    if box.get("model_name") != "HBoxModel" or kinds not in (["HTMLModel", "FloatProgressModel", "HTMLModel"],
                                                             ["HTMLModel", "IntProgressModel", "HTMLModel"]):
        return None
    left, progress, right = (c.get("state", {}) for c in children)
    share = min(max(progress.get("value", 0) / progress["max"], 0.0), 1.0) if progress.get("max") else 0.0
    bar = "█" * round(10 * share) + " " * (10 - round(10 * share))
    text = f"{html.unescape(left.get('value', ''))}|{bar}|{html.unescape(right.get('value', ''))}"
    return text.replace("\u2007", " ")


def prepare(notebook: Path, destination: Path, row: dict | None, mode: str | None, run: Path) -> str:
    """Copy an executed notebook for the book: the box under its title, no widget views or widget
    state (no kernel runs behind the page; explorers show their snapshot). Returns its title."""
    import nbformat

    nb = nbformat.read(notebook, as_version=4)
    widgets = nb.metadata.pop("widgets", {}).get("application/vnd.jupyter.widget-state+json", {}).get("state", {})
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            if WIDGET_VIEW in data:
                bar = progress_text(widgets, data.pop(WIDGET_VIEW).get("model_id", ""))
                if bar is not None:  # a tqdm bar: as it ended, not as it started
                    data["text/plain"] = bar
        if cell.get("outputs"):  # a widget with nothing else to show leaves nothing
            cell.outputs = [o for o in cell.outputs if o.get("data", True)]
    title = first_title(nb) or notebook.stem
    box = header(nb, row, mode, run)
    for cell in nb.cells:  # right under the title
        if cell.cell_type == "markdown" and f"# {title}" in cell.source:
            head, _, rest = cell.source.partition(f"# {title}")
            cell.source = f"{head}# {title}\n\n{box}\n{rest}"
            break
    else:
        nb.cells.insert(0, nbformat.v4.new_markdown_cell(f"# {title}\n\n{box}"))
    nbformat.write(nb, destination)
    return title


# ----------------------------------------------------------------------------------------
# The Sphinx project


CONF = '''# Written by `python -m mocohd.book build`; edits are overwritten.
project = {project!r}
author = "mocohd"
extensions = ["myst_nb"]
html_theme = "sphinx_book_theme"
html_title = {project!r}
html_theme_options = {{
    "show_navbar_depth": 1,
    "show_toc_level": 2,
    "home_page_in_toc": True,
    "use_download_button": True,
    "show_prev_next": True,
}}
html_last_updated_fmt = None
nb_execution_mode = "off"  # executed by the tour; the book only renders
nb_merge_streams = True
nb_ipywidgets_js = {{}}  # no kernel behind a web page: widgets were replaced by what they showed
myst_enable_extensions = ["dollarmath", "amsmath"]
myst_heading_anchors = 3
suppress_warnings = ["myst.header", "mystnb.unknown_mime_type", "misc.highlighting_failure"]
exclude_patterns = ["_build", "**.ipynb_checkpoints"]
'''


def index_page(pages: list[Page], mode: str | None) -> str:
    total = sum(p.seconds or 0 for p in pages)
    runs = list(dict.fromkeys(p.run for p in pages))
    rows = ["| notebook | part | status | seconds | tour run |", "|---|---|---|---:|---|"]
    rows += [f"| {{doc}}`{p.name}` | {p.part} | {p.status or '?'} | "
             f"{'' if p.seconds is None else f'{p.seconds:.1f}'} | `{p.run}` |" for p in pages]
    if not any(p.part == "appendix" for p in pages):
        rows.append("\nThe appendix is not in this run: `make tour APPENDIX=1 && make book` adds it (or "
                    "`make book BOOK_FROM=\"runs/<course run> runs/<appendix run>\"`).")
    toc = []
    for part, caption in (("course", "The course"), ("appendix", "Appendix: beyond the paper")):
        names = [p.name for p in pages if p.part == part]
        if names:
            toc.append(f"```{{toctree}}\n:caption: {caption}\n:maxdepth: 1\n\n" + "\n".join(names) + "\n```")
    where = f"run{'s' if len(runs) > 1 else ''} {', '.join(f'`{r}`' for r in runs)}"
    note = ("Smoke mode runs every line on tiny sizes: its numbers are not meaningful, and the prose quotes the "
            "full-mode ones. `make tour MODE=full && make book MODE=full` renders the full run."
            if mode == "smoke" else "")
    return f"""# MoCoGAN-HD on a laptop CPU

The notebook series of the `mocohd` repository: MoCoGAN-HD ("A Good Image Generator Is What You
Need for High-Resolution Video Synthesis", Tian et al., ICLR 2021) rebuilt in plain PyTorch,
small enough for a 2-core CPU. These pages are the notebooks as `make tour` executed them, in
**{mode}** mode ({where}, {len(pages)} notebooks, {total:.0f} s in all), rendered by `make book`;
nothing was run to make them. {note}

Each page opens with the parameters it ran with and what it cost. The explorers (notebook 01's
principal directions, 05's motion explorer, 06's two domains under one motion noise) appear
as a snapshot of their starting state: open the notebook in Jupyter (`make lab`) to drag
their sliders.

{chr(10).join(toc)}

## What each notebook cost in this run

{chr(10).join(rows)}
"""


def build(runs: Path | list[Path] | None = None, out: Path | None = None, mode: str = "smoke", jobs: int = 1,
          quiet: bool = True) -> dict:
    """Build the site from a tour run into ``out`` (default ``runs/book``); returns the manifest
    (also written to ``<out>/book.json``). ``runs`` may be several runs (say the course's and the
    appendix's): each notebook is taken from the first run that holds it. None: the newest run
    of ``mode`` in ``runs/``."""
    import nbformat  # noqa: F401  (fail early, before deleting anything, if the dev extra is missing)
    from sphinx.cmd.build import build_main

    start = time.perf_counter()
    out = Path(out or repo_root() / "runs" / "book").resolve()
    runs = [runs] if isinstance(runs, (str, Path)) else list(runs or [find_run(mode=mode, exclude=out)])
    runs = [Path(run).resolve() for run in runs]
    notebooks = {}
    for run in runs:
        for notebook, part in run_notebooks(run):
            notebooks.setdefault(notebook.stem, (notebook, part, run))
    if not notebooks:
        raise SystemExit(f"{', '.join(map(str, runs))}: no executed notebooks ({COURSE_GLOB}, {APPENDIX_GLOB}); "
                         "run `make tour`")
    mode = tour_mode(runs[0]) or mode
    summaries = {run: read_summary(run) for run in runs}
    src, html = out / "src", out / "html"
    for stale in (src, html, out / "doctrees"):
        shutil.rmtree(stale, ignore_errors=True)
    src.mkdir(parents=True)
    pages = []
    for notebook, part, run in sorted(notebooks.values(), key=lambda item: series_order(item[0].stem, item[1])):
        row = summaries[run].get(notebook.stem)
        title = prepare(notebook, src / notebook.name, row, tour_mode(run) or mode, run)
        pages.append(Page(notebook.stem, title, part, row["status"] if row else "", row["seconds"] if row else None,
                          run.name))
    (src / "conf.py").write_text(CONF.format(project="mocohd: MoCoGAN-HD on a laptop CPU"))
    (src / "index.md").write_text(index_page(pages, mode))
    warnings = out / "warnings.txt"
    args = ["-b", "html", "-d", str(out / "doctrees"), "-j", str(jobs), "-w", str(warnings), str(src), str(html)]
    code = build_main((["-q"] if quiet else []) + args)
    if code != 0:
        raise SystemExit(f"sphinx-build failed (exit {code}); see {warnings}")
    manifest = {"runs": [str(run) for run in runs], "mode": mode, "html": str(html), "index": str(html / "index.html"),
                "seconds": round(time.perf_counter() - start, 1),
                "warnings": sum(1 for line in warnings.read_text().splitlines() if "WARNING" in line),
                "pages": [asdict(p) for p in pages]}
    (out / "book.json").write_text(json.dumps(manifest, indent=2))
    return manifest


# ----------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mocohd.book", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    make = commands.add_parser("build", help="build the site from a tour run's executed notebooks")
    make.add_argument("--from", dest="runs", type=Path, nargs="+",
                      help="tour run folder(s), each notebook from the first that has it (default: the newest run "
                           "of --mode in runs/)")
    make.add_argument("--mode", choices=MODES, default="smoke", help="which tour run to pick when --from is not given")
    make.add_argument("--out", type=Path, help="where the book goes (default runs/book)")
    make.add_argument("--jobs", type=int, default=1, help="Sphinx's parallel jobs")
    test = commands.add_parser("check", help="open every page of a built book in headless Chromium")
    test.add_argument("out", nargs="?", type=Path, help="the book's folder (default runs/book)")
    args = parser.parse_args(argv)
    if args.command == "build":
        manifest = build(args.runs, args.out, args.mode, args.jobs)
        print(f"built {len(manifest['pages'])} pages from {', '.join(manifest['runs'])} ({manifest['mode']} mode) in "
              f"{manifest['seconds']:.1f} s, {manifest['warnings']} Sphinx warnings\nopen {manifest['index']}")
        return 0
    from mocohd.book_check import NoBrowser, check

    try:
        report = check(args.out)
    except NoBrowser as missing:
        print(f"book-check SKIPPED: {missing}")
        return 0
    for page in report["pages"]:
        print(f"{page['page']:40s} {page['videos']:3d} videos {page['images']:4d} images  "
              + ("ok" if not page["problems"] else "; ".join(page["problems"])))
    print(f"search for {report['search']['word']!r}: {report['search']['pages_found']} pages found")
    shots = Path(report["screenshots"][0]).parent if report["screenshots"] else "-"
    print(f"{len(report['screenshots'])} screenshots in {shots}; {report['seconds']:.1f} s")
    if report["problems"]:
        print("PROBLEMS:\n  " + "\n  ".join(report["problems"]), file=sys.stderr)
        return 1
    print("book-check passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
