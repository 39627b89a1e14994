"""The book's browser check: ``python -m mocohd.book check`` (``make book-check``).

It opens the index, every notebook's page and a search in headless Chromium (Debian's
``chromium`` and ``chromium-driver``; Selenium is pointed at ``/usr/bin/chromedriver`` or
whichever ``chromedriver`` is on the PATH, so nothing is downloaded) and checks that each page
has its title, every ``<video>`` a source the browser can play, every image a picture, and no
page a Python traceback. It writes a screenshot of the top of each page to
``<out>/screenshots/`` and the results to ``<out>/check.json``. Without a ``chromium`` on the
PATH it says so and skips (exit status 0).
"""

from __future__ import annotations

import json
import re
import shutil
import time
from pathlib import Path

from mocohd.params import repo_root

TRACEBACK = "Traceback (most recent call last)"


class NoBrowser(RuntimeError):
    """No chromium (or no chromedriver) on the PATH: the browser check cannot run here."""


def find_browser() -> tuple[str, str]:
    """(chromium, chromedriver), Debian's packages, from the PATH; NoBrowser if either is missing."""
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        raise NoBrowser("no `chromium` on the PATH, so the book's browser check is skipped "
                        "(on Debian: apt-get install chromium chromium-driver)")
    debian = Path("/usr/bin/chromedriver")
    driver = shutil.which("chromedriver") or (str(debian) if debian.exists() else None)
    if driver is None:
        raise NoBrowser(f"{chromium} is there but no `chromedriver` is on the PATH, so the book's browser check "
                        f"is skipped (on Debian: apt-get install chromium-driver)")
    return chromium, driver


def open_browser(width: int = 1280, height: int = 900):
    """Headless Chromium under Selenium, with the local driver (Selenium Manager never runs)."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    chromium, driver = find_browser()
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--mute-audio",
                     f"--window-size={width},{height}", "--autoplay-policy=no-user-gesture-required",
                     "--allow-file-access-from-files"):
        options.add_argument(argument)
    return webdriver.Chrome(service=Service(executable_path=driver), options=options)


# what a page shows, read in the browser once its videos and images have loaded (or failed)
PAGE_STATE = """
const main = document.querySelector('main') || document.body;
const short = url => url.startsWith('data:') ? url.slice(0, 40) + '...' : url.split('/').slice(-2).join('/');
const videos = [...document.querySelectorAll('video')].map(v => ({
  src: short(v.currentSrc || (v.querySelector('source') || {}).src || v.src || ''),
  ready: v.readyState, network: v.networkState, error: v.error ? v.error.code : null, width: v.videoWidth}));
const images = [...main.querySelectorAll('img')].map(i => ({
  src: short(i.currentSrc || i.src || ''), ok: i.complete && i.naturalWidth > 0}));
const text = document.body.innerText;
return {title: document.title, heading: (main.querySelector('h1') || {innerText: ''}).innerText,
        videos: videos, images: images,
        traceback_blocks: document.querySelectorAll('.output.traceback, .output.error').length,
        traceback_text: text.includes('Traceback (most recent call last)'),
        next: !!document.querySelector('a.right-next'), prev: !!document.querySelector('a.left-prev')};
"""
SETTLED = """
document.querySelectorAll('img[loading="lazy"]').forEach(i => { i.loading = 'eager'; });
const videos = [...document.querySelectorAll('video')];
const images = [...document.querySelectorAll('img')];
// a video has settled once it has its size, an error, or no source it can use (networkState 3)
return videos.every(v => v.readyState >= 1 || v.error || v.networkState === 3) && images.every(i => i.complete);
"""


def _normal(text: str) -> str:
    """Text as a title shows it: without Markdown marks, Sphinx's smart quotes straightened."""
    text = text.translate(str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"'}))
    return re.sub(r"\s+", " ", re.sub(r"[`$*]", "", text)).strip()


def check_page(browser, url: str, title: str, wait_s: float = 20.0) -> tuple[dict, list[str]]:
    """Open one page; what it shows and what is wrong with it."""
    browser.get(url)
    deadline = time.monotonic() + wait_s
    while not browser.execute_script(SETTLED) and time.monotonic() < deadline:
        time.sleep(0.2)
    state = browser.execute_script(PAGE_STATE)
    problems = []
    if not title or _normal(title) not in _normal(state["title"]):
        problems.append(f"title {state['title']!r} does not name the page {title!r}")
    for k, video in enumerate(state["videos"]):
        if not video["src"]:
            problems.append(f"video {k} has no source")
        elif video["error"] is not None or video["ready"] < 1 or not video["width"]:
            problems.append(f"video {k} ({video['src']}) does not play: readyState {video['ready']}, "
                            f"networkState {video['network']}, error {video['error']}")
    broken = [image["src"] for image in state["images"] if not image["ok"]]
    if broken:
        problems.append(f"{len(broken)} of {len(state['images'])} images show no picture: {broken[:3]}")
    if state["traceback_blocks"] or state["traceback_text"]:
        problems.append(f"a Python traceback is shown ({state['traceback_blocks']} error outputs)")
    return state, problems


def check_search(browser, html: Path, word: str, wait_s: float = 30.0) -> tuple[int, list[str]]:
    """Sphinx's search page, asked for ``word``: how many pages it finds."""
    browser.get((html / "search.html").as_uri() + f"?q={word}")
    deadline, found = time.monotonic() + wait_s, 0
    while time.monotonic() < deadline:  # Sphinx lists the results one by one, then sums them up
        found, done = browser.execute_script(
            "const summary = document.querySelector('#search-results .search-summary');"
            "return [document.querySelectorAll('#search-results ul.search li').length,"
            "        !!summary && /found/i.test(summary.innerText)];")
        if done:
            break
        time.sleep(0.3)
    return found, [] if found else [f"the search for {word!r} found nothing in {wait_s:.0f} s"]


def check(out: Path | None = None, search_word: str = "motion") -> dict:
    """Open every page of the book built in ``out`` (default ``runs/book``) in headless Chromium.
    Returns {"pages": [...], "problems": [...], "screenshots": [...], "seconds"}; raises NoBrowser
    where no chromium is on the PATH."""
    out = Path(out or repo_root() / "runs" / "book").resolve()
    manifest_path = out / "book.json"
    if not manifest_path.exists():
        raise SystemExit(f"no book in {out} (no book.json): run `make book` first")
    manifest = json.loads(manifest_path.read_text())
    html = Path(manifest["html"])
    find_browser()
    start = time.perf_counter()
    shots = out / "screenshots"
    shutil.rmtree(shots, ignore_errors=True)
    shots.mkdir(parents=True)
    pages = [("index", "MoCoGAN-HD on a laptop CPU")] + [(p["name"], p["title"]) for p in manifest["pages"]]
    report = {"pages": [], "problems": [], "screenshots": []}
    browser = open_browser()
    try:
        for name, title in pages:
            page = html / f"{name}.html"
            if not page.exists():
                report["problems"].append(f"{name}: no page {page}")
                continue
            state, problems = check_page(browser, page.as_uri(), title)
            shot = shots / f"{name}.png"
            browser.save_screenshot(str(shot))
            report["screenshots"].append(str(shot))
            report["pages"].append({"page": name, "title": state["title"], "videos": len(state["videos"]),
                                    "images": len(state["images"]), "prev": state["prev"], "next": state["next"],
                                    "problems": problems})
            report["problems"] += [f"{name}: {p}" for p in problems]
        found, problems = check_search(browser, html, search_word)
        report["search"] = {"word": search_word, "pages_found": found}
        report["problems"] += problems
    finally:
        browser.quit()
    report["seconds"] = round(time.perf_counter() - start, 1)
    (out / "check.json").write_text(json.dumps(report, indent=2))
    return report
