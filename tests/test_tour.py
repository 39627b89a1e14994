"""The tour runner on two tiny notebooks: one that works, one that fails in its third cell."""

import csv

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from mocohd import tour


@pytest.fixture(autouse=True)
def kernels_over_unix_sockets(monkeypatch, tmp_path):
    """tour.main runs papermill in this process, and the suite runs with internet sockets off
    (pytest-socket): its kernels talk over unix sockets here instead of TCP on 127.0.0.1
    (docs/troubleshooting.md#sockets-blocked-in-tests)."""
    import papermill
    from jupyter_client.manager import AsyncKernelManager

    class UnixSocketKernelManager(AsyncKernelManager):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.transport, self.ip = "ipc", str(tmp_path / "kernel-ipc")

    execute = papermill.execute_notebook

    def execute_over_ipc(*args, **kwargs):
        if not kwargs.get("prepare_only"):
            kwargs.setdefault("kernel_manager_class", UnixSocketKernelManager)
        return execute(*args, **kwargs)

    monkeypatch.setattr(papermill, "execute_notebook", execute_over_ipc)


def write_notebook(path, cells):
    nb = new_notebook(cells=cells, metadata={"kernelspec": {"name": "python3", "display_name": "Python 3",
                                                            "language": "python"}})
    nbformat.write(nb, path)


@pytest.fixture
def folder(tmp_path):
    nbs = tmp_path / "nbs"
    nbs.mkdir()
    parameters = new_code_cell('mode = "smoke"\nseed = 0\nout_dir = "x"', metadata={"tags": ["parameters"]})
    write_notebook(nbs / "00_good.ipynb", [new_markdown_cell("# good"), parameters,
                                           new_code_cell("from pathlib import Path\nPath(out_dir).mkdir(parents=True)\n"
                                                         "(Path(out_dir) / 'seen.txt').write_text(f'{mode} {seed}')")])
    write_notebook(nbs / "01_bad.ipynb", [parameters, new_code_cell("x = 1"),
                                          new_code_cell("# the broken one\nraise ValueError('size must be 64')")])
    write_notebook(nbs / "02_other.ipynb", [parameters])
    return nbs


def test_tour_runs_all_writes_html_and_summary_and_names_the_failing_cell(folder, tmp_path, capsys):
    out = tmp_path / "run"
    code = tour.main(["--notebooks", str(folder), "--out", str(out), "--mode", "full", "-p", "seed", "5"])
    assert code == 1
    for stem in ("00_good", "01_bad", "02_other"):  # the tour goes on after 01 fails
        assert (out / f"{stem}.ipynb").is_file() and (out / f"{stem}.html").is_file()
    assert (out / "outputs" / "00_good" / "seen.txt").read_text() == "full 5"  # mode, out_dir and -p arrived
    rows = list(csv.DictReader(open(out / "summary.csv")))
    assert [(r["notebook"], r["status"]) for r in rows] == [("00_good", "ok"), ("01_bad", "failed"), ("02_other", "ok")]
    # In[4]: counted in the executed notebook, after the injected parameters cell
    assert "In[4]" in rows[1]["detail"] and "ValueError: size must be 64" in rows[1]["detail"]
    assert "| 01_bad | failed |" in (out / "summary.md").read_text()
    err = capsys.readouterr().err
    assert "FAILED 01_bad" in err and "# the broken one" in err
    assert "ValueError" in (out / "01_bad.html").read_text()


def test_only_selects_by_prefix(folder, tmp_path):
    assert tour.main(["--notebooks", str(folder), "--out", str(tmp_path / "r"), "--only", "00", "02"]) == 0
    assert sorted(p.name for p in (tmp_path / "r").glob("*.html")) == ["00_good.html", "02_other.html"]
    assert tour.main(["--notebooks", str(folder), "--only", "07"]) == 2


@pytest.fixture
def folder_with_appendix(folder):
    (folder / "appendix").mkdir()
    parameters = new_code_cell('mode = "smoke"\nseed = 0\nout_dir = "x"', metadata={"tags": ["parameters"]})
    for stem in ("A10_later", "A2_extra"):
        write_notebook(folder / "appendix" / f"{stem}.ipynb", [parameters, new_code_cell("print(mode)")])
    (folder / "appendix" / "notes.ipynb").write_text("{}")  # not an AN_ notebook: never listed
    return folder


def stems(notebooks):
    return [nb.stem for nb in notebooks]


def test_default_tour_is_the_course_and_appendix_adds_the_appendix(folder_with_appendix):
    folder = folder_with_appendix
    course = ["00_good", "01_bad", "02_other"]
    assert stems(tour.list_notebooks(folder)) == course
    assert stems(tour.list_appendix(folder)) == ["A2_extra", "A10_later"]  # by number, not by text
    assert stems(tour.list_notebooks(folder, appendix=True)) == course + ["A2_extra", "A10_later"]
    # what a tour runs, without running it: the parser's flags through select_notebooks
    for argv, expected in [([], course), (["--appendix"], course + ["A2_extra", "A10_later"]),
                           (["--only", "A2"], ["A2_extra"]), (["--only", "01", "A10"], ["01_bad", "A10_later"]),
                           (["--appendix", "--only", "02"], ["02_other"])]:
        args = tour.build_parser().parse_args(argv)
        assert stems(tour.select_notebooks(folder, args.only, args.appendix)) == expected, argv


def test_the_repository_course_listing_holds_no_appendix():
    course, appendix = tour.list_notebooks(), tour.list_appendix()
    assert course and all(nb.parent == tour.notebooks_dir() and nb.name[:2].isdigit() for nb in course)
    assert all(nb.parent == tour.appendix_dir() and nb.name.startswith("A") for nb in appendix)
    assert tour.list_notebooks(appendix=True) == course + appendix


def test_only_runs_an_appendix_notebook(folder_with_appendix, tmp_path):
    out = tmp_path / "r"
    assert tour.main(["--notebooks", str(folder_with_appendix), "--out", str(out), "--only", "A2"]) == 0
    assert sorted(p.name for p in out.glob("*.html")) == ["A2_extra.html"]


def test_list_shows_the_appendix_apart(capsys):
    assert tour.main(["--list"]) == 0
    out = capsys.readouterr().out
    course, _, appendix = out.partition("Appendix")
    assert appendix, "--list prints an Appendix part"
    assert "| `05_training` |" in course and "| `08_evaluation` |" in course
    for stem, topic in tour.APPENDIX:
        assert f"| `{stem}` | {topic} |" in appendix and stem not in course
    assert "| `00_welcome` |" not in appendix
    assert {stem for stem, _ in tour.APPENDIX}.isdisjoint(stem for stem, _ in tour.SERIES)


def test_parse_value():
    assert tour.parse_value("3") == 3 and tour.parse_value("0.5") == 0.5
    assert tour.parse_value("None") is None and tour.parse_value("True") is True
    assert tour.parse_value("data/ucf101") == "data/ucf101" and tour.parse_value("[1, 2]") == [1, 2]


def test_series_table_marks_existing_notebooks():
    table = tour.series_table()
    assert "| `08_evaluation` |" in table
    for nb in tour.list_notebooks():
        assert f"| `{nb.stem}` |" in table and "ready" in table


def test_store_checked_outputs_keeps_only_marked_cells(tmp_path):
    (tmp_path / "05_tiny.py").write_text(
        '# %% [markdown]\n# # tiny\n\n'
        '# %% tags=["parameters"]\nmode = "full"\nseed = 0\nout_dir = "x"\n\n'
        '# %%\nprint("not kept", mode)\n\n'
        '# %%\n# NBVAL_CHECK_OUTPUT\nprint("kept", mode, 6 * 7)\n')
    target = tour.store_checked_outputs("05", tmp_path)
    nb = nbformat.read(target, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert [bool(c.outputs) for c in code] == [False, False, True]
    assert code[2].outputs[0].text == "kept smoke 42\n"  # executed in smoke mode
    assert code[2].execution_count is not None  # nbval skips cells without one
    assert nb.metadata.kernelspec.name == "python3" and nb.metadata.jupytext.formats == "ipynb,py:percent"
    assert "parameters" in code[0].metadata.tags
    first_ids = [c.id for c in nb.cells]
    tour.store_checked_outputs("05", tmp_path)
    assert [c.id for c in nbformat.read(target, as_version=4).cells] == first_ids  # stable across rebuilds


def test_store_checked_outputs_finds_appendix_notebooks(tmp_path):
    (tmp_path / "appendix").mkdir()
    (tmp_path / "appendix" / "A3_tiny.py").write_text(
        '# %% tags=["parameters"]\nmode = "full"\nseed = 0\nout_dir = "x"\n\n'
        '# %%\n# NBVAL_CHECK_OUTPUT\nprint("kept", mode)\n')
    target = tour.store_checked_outputs("A3", tmp_path)
    assert target == tmp_path / "appendix" / "A3_tiny.ipynb"
    assert [c.outputs[0].text for c in nbformat.read(target, as_version=4).cells if c.outputs] == ["kept smoke\n"]
    with pytest.raises(SystemExit, match="A4"):
        tour.store_checked_outputs("A4", tmp_path)
