"""Each notebook and its jupytext pair hold the same cells; the .ipynb in git carries no
outputs except in cells marked ``# NBVAL_CHECK_OUTPUT``; every notebook follows the house
rules for its first cells (a ``parameters`` cell with mode "smoke", then params.validate).
The appendix (``notebooks/appendix/AN_*``) is checked exactly like the course; only the course
is held to the size limits of a lesson (lines, recap bullets, exercises)."""

import re

import jupytext
import nbformat
import pytest

from mocohd import tour

FOLDER = tour.notebooks_dir()
NOTEBOOKS = tour.list_notebooks(appendix=True)  # the course, then the appendix
IDS = [nb.stem for nb in NOTEBOOKS]
COURSE = tour.list_notebooks()
MAX_LINES, MAX_RECAP_BULLETS, MAX_EXERCISES = 700, 8, 6  # a course notebook; the appendix is exempt


def nb_number(notebook):
    """What `make checked-outputs NB=...` takes: ``05`` or ``A2``."""
    return notebook.name.split("_", 1)[0]


@pytest.mark.parametrize("folder, pattern", [(FOLDER, tour.NOTEBOOK_GLOB), (tour.appendix_dir(), tour.APPENDIX_GLOB)],
                         ids=["course", "appendix"])
def test_every_notebook_has_a_pair(folder, pattern):
    ipynb = {p.stem for p in folder.glob(pattern)}
    py = {p.stem for p in folder.glob(pattern.replace(".ipynb", ".py"))}
    assert ipynb == py, f"unpaired in {folder}: {sorted(ipynb ^ py)}; run `make sync` or `make checked-outputs NB=NN`"


def cells(nb):
    return [(c.cell_type, c.source) for c in nb.cells]


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=IDS)
def test_ipynb_and_py_have_the_same_cells(notebook):
    stored = nbformat.read(notebook, as_version=4)
    paired = jupytext.read(notebook.with_suffix(".py"))
    assert cells(stored) == cells(paired), (
        f"{notebook.name} and {notebook.with_suffix('.py').name} differ; run `make sync` "
        f"(or `make checked-outputs NB={nb_number(notebook)}` after changing a checked cell)")


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=IDS)
def test_only_checked_cells_carry_outputs(notebook):
    nb = nbformat.read(notebook, as_version=4)
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code" or tour.is_checked(cell):
            continue
        assert not cell.outputs and cell.execution_count is None, (
            f"{notebook.name} cell #{i} `{cell.source.splitlines()[0] if cell.source else ''}` has outputs in git; "
            f"clear them (`make checked-outputs NB={nb_number(notebook)}` rebuilds the notebook)")
    checked_text = "".join(nbformat.writes(nbformat.v4.new_notebook(cells=[c])) for c in nb.cells if tour.is_checked(c))
    assert not tour.ADDRESS.search(checked_text), "a checked cell's output holds a memory address"


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=IDS)
def test_house_rules(notebook):
    nb = nbformat.read(notebook, as_version=4)
    assert nb.metadata.kernelspec.name == "python3", "notebooks declare the standard python3 kernel"
    assert "py:percent" in nb.metadata.get("jupytext", {}).get("formats", ""), "pair with py:percent"
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert "parameters" in code[0].metadata.get("tags", []), "the first code cell is tagged `parameters`"
    assert re.search(r'^mode = "smoke"', code[0].source, re.M), 'the parameters cell sets mode = "smoke"'
    for name in ("seed", "out_dir"):
        assert re.search(rf"^{name} = ", code[0].source, re.M), f"the parameters cell sets {name}"
    assert "validate(" in code[1].source, "the cell after the parameters calls params.validate(...)"
    markdown = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown").lower()
    assert "smoke" in markdown and "full" in markdown, "say what smoke and full mode cost"
    assert "exercise" in markdown, "end with exercises"


def section_lines(markdown, title):
    """The lines under the ``## <title>`` heading, up to the next heading."""
    lines, inside = [], False
    for line in markdown.splitlines():
        if re.match(r"#+ ", line):
            inside = re.match(rf"## {title}\b", line) is not None
        elif inside:
            lines.append(line)
    return lines


@pytest.mark.parametrize("notebook", COURSE, ids=[nb.stem for nb in COURSE])
def test_course_notebooks_stay_lessons(notebook):
    """About 700 lines, a recap of at most 8 bullets, at most 6 exercises: a course notebook that
    outgrows this has found an appendix (notebooks/appendix/AN_*.py, which is exempt)."""
    script = notebook.with_suffix(".py")
    n_lines = len(script.read_text().splitlines())
    markdown = "\n".join(c.source for c in jupytext.read(script).cells if c.cell_type == "markdown")
    recap, exercises = section_lines(markdown, "Recap"), section_lines(markdown, "Exercises")
    bullets = [line for line in recap if re.match(r"[-*] ", line)]  # top-level bullets only
    items = [line for line in exercises if re.match(r"\d+\. ", line)]
    problems = []
    if n_lines > MAX_LINES:
        problems.append(f"{n_lines} lines (at most {MAX_LINES})")
    if not bullets or len(bullets) > MAX_RECAP_BULLETS:
        problems.append(f"{len(bullets)} bullets under `## Recap` (1 to {MAX_RECAP_BULLETS})")
    if not items or len(items) > MAX_EXERCISES:
        problems.append(f"{len(items)} numbered items under `## Exercises` (1 to {MAX_EXERCISES})")
    assert not problems, (f"{script.name}: " + "; ".join(problems)
                          + ": move work beyond the paper to an appendix notebook (notebooks/appendix/AN_name.py)")
