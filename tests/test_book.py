"""The rendered book (mocohd.book): built from a tiny tour, then read as a browser would.

Three tiny notebooks (two course, one appendix) are executed by ``python -m mocohd.tour`` in a
subprocess, as ``make tour`` does (a kernel talks over local sockets, which the test process
itself keeps closed); the book is built from that run in this process. The browser check runs
where a ``chromium`` is on the PATH (Debian's chromium and chromium-driver) and is skipped,
saying why, elsewhere.
"""

import html
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from mocohd import book, book_check
from mocohd.params import repo_root

ROOT = repo_root()
V4 = nbformat.v4

VIDEO = '''from mocohd.data import video_io  # noqa: F401  (mediapy's ffmpeg)
import mediapy
import numpy as np

frames = np.zeros((6, 32, 32, 3), np.uint8)
for t in range(6):
    frames[t, :, 4 * t:4 * t + 8] = 255  # a white bar moving right
mediapy.show_video(frames, fps=4, codec="h264")  # a <video> with an mp4 source'''
FIGURE = '''import matplotlib.pyplot as plt

plt.plot([0, 1, 4, 9])
plt.title("a figure")
plt.show()'''
PROGRESS = '''from tqdm.auto import tqdm

for _ in tqdm(range(3), desc="steps"):  # a progress-bar widget
    pass'''
EXPLORER = '''from mocohd.viz import slider_explorer

slider_explorer(lambda amount: print(f"amount is {amount}"), amount=(0, 4, 1, 3))'''


def notebook(title: str, *code: str) -> nbformat.NotebookNode:
    parameters = V4.new_code_cell('mode = "smoke"  # smoke or full\nseed = 3  # the seed of everything\n'
                                  'out_dir = "runs/tiny"  # where files go (<name>/ under it)')
    parameters.metadata["tags"] = ["parameters"]
    cells = [V4.new_markdown_cell(f"# {title}\n\nA lesson about motion in W."), parameters]
    nb = V4.new_notebook(cells=cells + [V4.new_code_cell(c) for c in code])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return nb


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """A tiny tour run and the book built from it: {"run", "out", "manifest", "html"}."""
    tmp = tmp_path_factory.mktemp("book")
    folder = tmp / "notebooks"
    (folder / "appendix").mkdir(parents=True)
    nbformat.write(notebook("00 · A tiny lesson", VIDEO, FIGURE, PROGRESS, EXPLORER), folder / "00_tiny.ipynb")
    nbformat.write(notebook("01 · The second lesson", "print(2 + 2)"), folder / "01_second.ipynb")
    nbformat.write(notebook("A1 · Beyond the paper", "print('research')"), folder / "appendix" / "A1_extra.ipynb")
    run = tmp / "runs" / "20260101-000000"
    env = {**os.environ, "MOCOHD_THREADS": "1", "OMP_NUM_THREADS": "1"}
    tour = subprocess.run([sys.executable, "-m", "mocohd.tour", "--notebooks", str(folder), "--appendix",
                           "--out", str(run), "-p", "seed", "5"], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=300)
    assert tour.returncode == 0, tour.stdout[-3000:] + tour.stderr[-3000:]
    out = tmp / "runs" / "book"
    manifest = book.build(run, out)
    html = Path(manifest["html"])
    return {"run": run, "out": out, "manifest": manifest, "html": html}


def read(page: Path) -> str:
    return page.read_text(encoding="utf-8")


def test_the_pages_are_the_course_in_order_then_the_appendix(tiny):
    pages = tiny["manifest"]["pages"]
    assert [(p["name"], p["part"], p["title"]) for p in pages] == [
        ("00_tiny", "course", "00 · A tiny lesson"), ("01_second", "course", "01 · The second lesson"),
        ("A1_extra", "appendix", "A1 · Beyond the paper")]
    assert tiny["manifest"]["mode"] == "smoke" and all(p["status"] == "ok" for p in pages)
    index = read(tiny["html"] / "index.html")
    course, appendix = index.index(">The course<"), index.index(">Appendix: beyond the paper<")
    links = [index.index(f'href="{name}.html"', course) for name in ("00_tiny", "01_second", "A1_extra")]
    assert course < links[0] < links[1] < appendix < links[2]


def test_each_page_has_its_title_and_the_box_with_parameters_and_cost(tiny):
    page = read(tiny["html"] / "00_tiny.html")
    assert re.search(r"<title>00 · A tiny lesson", page)
    seconds = book.read_summary(tiny["run"])["00_tiny"]["seconds"]
    box = page[page.index("How this page was made"):]
    box = box[:box.index("</ul>")]
    assert "smoke" in box and f"{seconds:.1f} s" in box and "20260101-000000" in box
    items = [html.unescape(re.sub(r"<[^>]+>", "", item)).strip() for item in re.findall(r"<li>(.*?)</li>", box, re.S)]
    assert items[:2] == ['mode = "smoke": smoke or full',  # injected, and what the cell says: shown once
                         "seed = 5 (the cell says 3): the seed of everything"]  # -p seed 5 in the tour
    out_dir = str(tiny["run"] / "outputs" / "00_tiny")
    assert items[2] == f'out_dir = {out_dir!r} (the cell says "runs/tiny"): where files go (<name>/ under it)'
    assert page.index("How this page was made") < page.index("A lesson about motion in W.")  # at the top


def test_the_video_the_figure_and_the_explorer_snapshot_survive(tiny):
    page = read(tiny["html"] / "00_tiny.html")
    assert re.search(r'<video[^>]*>\s*<source src="data:video/mp4;base64,[A-Za-z0-9+/]{100}', page)
    figures = re.findall(r'<img[^>]+src="(_images/[^"]+\.png)"', page)
    assert len(figures) == 1 and (tiny["html"] / figures[0]).stat().st_size > 1000
    assert "amount is 3" in page and "static snapshot of the explorer at its starting values (amount = 3)" in page
    assert "widget-view+json" not in page and "embed-amd.js" not in page  # no widget, no CDN script
    assert re.search(r"steps: 100%\|█{10}\| 3/3 \[", html.unescape(page))  # the bar as it ended, as text


def test_previous_next_links_and_search(tiny):
    second = read(tiny["html"] / "01_second.html")
    assert re.search(r'class="left-prev"\s+href="00_tiny.html"', second)
    assert re.search(r'class="right-next"\s+href="A1_extra.html"', second)
    assert (tiny["html"] / "search.html").exists()
    assert "A1_extra" in read(tiny["html"] / "searchindex.js")


def test_several_runs_each_notebook_from_the_first_that_has_it(tiny, tmp_path):
    course, appendix = tmp_path / "course", tmp_path / "appendix"
    shutil.copytree(tiny["run"], course, ignore=shutil.ignore_patterns("A1_*", "outputs"))
    appendix.mkdir()
    for name in ("A1_extra.ipynb", "01_second.ipynb", "summary.md", "summary.csv"):
        shutil.copy(tiny["run"] / name, appendix / name)
    manifest = book.build([course, appendix], tmp_path / "book")
    assert [(p["name"], p["run"]) for p in manifest["pages"]] == [
        ("00_tiny", "course"), ("01_second", "course"), ("A1_extra", "appendix")]
    page = read(tmp_path / "book" / "html" / "A1_extra.html")
    assert re.search(r'run <code[^>]*><span class="pre">appendix</span>', page)
    only_course = book.build(course, tmp_path / "book")
    assert "The appendix is not in this run" in read(Path(only_course["index"]))


def test_the_newest_run_of_the_mode_is_picked(tmp_path):
    for name, mode in (("20260101-000000", "smoke"), ("20260102-000000", "full"), ("20260103-000000", "smoke")):
        (tmp_path / name).mkdir()
        (tmp_path / name / "00_x.ipynb").write_text("{}")
        (tmp_path / name / "summary.md").write_text(f"# Tour, mode {mode}, 2026-01-01 00:00\n")
        (tmp_path / name / "summary.csv").write_text("notebook,status,seconds,detail\n")
        os.utime(tmp_path / name / "summary.csv", (int(name[:8]), int(name[:8])))
    assert book.find_run(tmp_path, "smoke").name == "20260103-000000"
    assert book.find_run(tmp_path, "full").name == "20260102-000000"
    shutil.rmtree(tmp_path / "20260102-000000")
    with pytest.raises(SystemExit, match="make tour MODE=full"):
        book.find_run(tmp_path, "full")


def test_parameter_defaults_keep_values_as_written_and_their_comments():
    source = 'mode = "smoke"  # "smoke" or "full"\nsizes = (32,\n         64)  # frame sizes\nseed = 0\nx: int = 1\n'
    assert book.parameter_defaults(source) == {"mode": ('"smoke"', '"smoke" or "full"'),
                                               "sizes": ("(32,\n         64)", "frame sizes"), "seed": ("0", "")}


def test_a_progress_bar_is_written_as_it_ended_and_other_widgets_are_not_touched():
    model = lambda name, **state: {"model_name": name, "state": state}  # noqa: E731
    widgets = {"box": model("HBoxModel", children=["IPY_MODEL_l", "IPY_MODEL_p", "IPY_MODEL_r"]),
               "l": model("HTMLModel", value="train:\u2007 40%"), "p": model("FloatProgressModel", value=4.0, max=10.0),
               "r": model("HTMLModel", value="\u20074/10 [00:01&lt;00:02]"), "s": model("IntSliderModel", value=3)}
    assert book.progress_text(widgets, "box") == "train:  40%|████      | 4/10 [00:01<00:02]"
    assert book.progress_text(widgets, "s") is None and book.progress_text(widgets, "gone") is None


def browser_or_skip():
    try:
        book_check.find_browser()
    except book_check.NoBrowser as missing:
        pytest.skip(str(missing))


def check(out: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "mocohd.book", "check", str(out)], cwd=ROOT, capture_output=True,
                          text=True, timeout=300)


def test_in_a_real_browser_every_page_shows_its_title_video_and_figures(tiny):
    browser_or_skip()
    run = check(tiny["out"])
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    report = json.loads((tiny["out"] / "check.json").read_text())
    pages = {p["page"]: p for p in report["pages"]}
    assert list(pages) == ["index", "00_tiny", "01_second", "A1_extra"]
    assert pages["00_tiny"]["videos"] == 1 and pages["00_tiny"]["images"] == 1  # the figure
    assert pages["00_tiny"]["next"] and pages["01_second"]["prev"]
    assert report["search"]["pages_found"] >= 1 and report["problems"] == []
    for shot in report["screenshots"]:
        assert Path(shot).read_bytes()[:4] == b"\x89PNG" and Path(shot).parent == tiny["out"] / "screenshots"


def test_the_browser_check_sees_a_traceback_a_broken_video_and_a_missing_figure(tiny, tmp_path):
    browser_or_skip()
    broken = tmp_path / "book"
    shutil.copytree(tiny["out"], broken, ignore=shutil.ignore_patterns("screenshots"))
    manifest = json.loads((broken / "book.json").read_text())
    manifest["html"] = str(broken / "html")
    (broken / "book.json").write_text(json.dumps(manifest))
    page = broken / "html" / "01_second.html"
    text = read(page).replace("<title>01 · The second lesson", "<title>Untitled")
    text = text.replace("</article>", '<div class="output traceback"><pre>Traceback (most recent call last):\n'
                        'ValueError: x</pre></div><img src="missing.png"/><video><source src="missing.mp4" '
                        'type="video/mp4"/></video></article>', 1)
    page.write_text(text, encoding="utf-8")
    run = check(broken)
    assert run.returncode == 1
    problems = json.loads((broken / "check.json").read_text())["problems"]
    assert [p.split(":")[0] for p in problems] == ["01_second"] * 4, problems
    assert "title 'Untitled" in problems[0] and "video 0" in problems[1] and "missing.png" in problems[2]
    assert "traceback" in problems[3]
