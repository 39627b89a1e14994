"""The package's imports run one way, with no circle anywhere, and the lab stays apart.

The layer order is import-linter's contract in pyproject.toml (kernels -> layers -> networks ->
losses, data -> training -> metrics -> lab); grimp, which import-linter builds on, gives the
module graph in which we look for circles, lazy imports inside functions included. The course
notebooks teach the paper, so they never import ``mocohd.lab`` either (the appendix may)."""

import re
import subprocess
import sys
from pathlib import Path

import grimp
import networkx as nx

from mocohd import tour

ROOT = Path(__file__).resolve().parents[1]


def module_graph() -> nx.DiGraph:
    graph = grimp.build_graph("mocohd", cache_dir=None)
    edges = nx.DiGraph()
    for module in graph.modules:
        edges.add_node(module)
        for imported in graph.find_modules_directly_imported_by(module):
            edges.add_edge(module, imported)
    return edges


def test_the_layer_contract_holds():
    run = subprocess.run([str(Path(sys.executable).parent / "lint-imports"), "--no-cache"], cwd=ROOT,
                         capture_output=True, text=True)
    assert run.returncode == 0 and "1 kept, 0 broken" in run.stdout, run.stdout[-4000:] + run.stderr[-2000:]


def test_no_module_imports_itself_round_a_circle():
    cycles = sorted(nx.simple_cycles(module_graph()), key=len)
    assert not cycles, "import circles: " + "; ".join(" -> ".join(c + [c[0]]) for c in cycles[:5])


def test_nothing_outside_the_lab_imports_it():
    graph = module_graph()
    outside = [(a, b) for a, b in graph.edges if b.startswith("mocohd.lab") and not a.startswith("mocohd.lab")]
    assert not outside, outside


def test_the_course_notebooks_do_not_import_the_lab():
    for notebook in tour.list_notebooks():
        source = notebook.with_suffix(".py").read_text()
        assert not re.search(r"^\s*(from|import) mocohd\.lab", source, re.M), \
            f"{notebook.stem} imports mocohd.lab: research beyond the paper belongs in notebooks/appendix/"
