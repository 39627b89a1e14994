"""Each notebook and its jupytext pair hold the same cells; the .ipynb in git carries no
outputs except in cells marked ``# NBVAL_CHECK_OUTPUT``; every notebook follows the house
rules for its first cells (a ``parameters`` cell with mode "smoke", then params.validate)."""

import re

import jupytext
import nbformat
import pytest

from mocohd import tour

FOLDER = tour.notebooks_dir()
NOTEBOOKS = tour.list_notebooks()
IDS = [nb.stem for nb in NOTEBOOKS]


def test_every_notebook_has_a_pair():
    ipynb = {p.stem for p in FOLDER.glob("[0-9][0-9]_*.ipynb")}
    py = {p.stem for p in FOLDER.glob("[0-9][0-9]_*.py")}
    assert ipynb == py, f"unpaired: {sorted(ipynb ^ py)}; run `make sync` or `make checked-outputs NB=NN`"


def cells(nb):
    return [(c.cell_type, c.source) for c in nb.cells]


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=IDS)
def test_ipynb_and_py_have_the_same_cells(notebook):
    stored = nbformat.read(notebook, as_version=4)
    paired = jupytext.read(notebook.with_suffix(".py"))
    assert cells(stored) == cells(paired), (
        f"{notebook.name} and {notebook.with_suffix('.py').name} differ; run `make sync` "
        f"(or `make checked-outputs NB={notebook.name[:2]}` after changing a checked cell)")


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=IDS)
def test_only_checked_cells_carry_outputs(notebook):
    nb = nbformat.read(notebook, as_version=4)
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code" or tour.is_checked(cell):
            continue
        assert not cell.outputs and cell.execution_count is None, (
            f"{notebook.name} cell #{i} `{cell.source.splitlines()[0] if cell.source else ''}` has outputs in git; "
            f"clear them (`make checked-outputs NB={notebook.name[:2]}` rebuilds the notebook)")
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
