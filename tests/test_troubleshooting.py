"""docs/troubleshooting.md and the messages that point to it.

Every ``docs/troubleshooting.md#section`` named anywhere in the package, the tests, the
notebooks or the README must be a heading of the page (its GitHub anchor), so that renaming a
heading breaks this test instead of a learner's link. The messages that should point there
(the locked run folder, the NaN stop, the unsafe file, the checkpoint that does not fit, the
undecodable video, emulated bf16) are raised for real here and must carry their pointer, and
each section of the page must give its symptom, cause and fix.
"""

import json
import os
import re
import socket
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch

from mocohd.params import repo_root

ROOT = repo_root()
PAGE = ROOT / "docs" / "troubleshooting.md"
POINTER = re.compile(r"docs/troubleshooting\.md(?:#([\w-]+))?")


def anchor(heading: str) -> str:
    """GitHub's anchor for a Markdown heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def sections() -> dict[str, str]:
    """{anchor: the section's text} of every ``## heading`` of the page."""
    parts = re.split(r"^## (.+)$", PAGE.read_text(encoding="utf-8"), flags=re.MULTILINE)
    return {anchor(heading): body for heading, body in zip(parts[1::2], parts[2::2])}


def pointers_in(paths) -> dict[str, set[str]]:
    """{section named (or "" for a bare pointer): the files that name it}."""
    found = {}
    for path in paths:
        for match in POINTER.finditer(path.read_text(encoding="utf-8")):
            found.setdefault(match.group(1) or "", set()).add(str(path.relative_to(ROOT)))
    return found


def searched_files():
    """The package, the tests (but this one, which speaks of pointers), the notebooks, the README, the page."""
    yield from (ROOT / "mocohd").rglob("*.py")
    yield from (path for path in (ROOT / "tests").glob("*.py") if path.name != Path(__file__).name)
    yield from (ROOT / "notebooks").rglob("*.py")
    yield ROOT / "README.md"
    yield PAGE


def message_anchors(text: str) -> list[str]:
    return [m.group(1) for m in POINTER.finditer(text)]


def test_the_anchor_rule():
    assert anchor("Training stopped at a NaN") == "training-stopped-at-a-nan"
    assert anchor("Chromium missing for make book-check") == "chromium-missing-for-make-book-check"
    assert anchor("`ffmpeg` and video files!") == "ffmpeg-and-video-files"


def test_every_pointer_names_a_section_of_the_page():
    known = sections()
    found = pointers_in(searched_files())
    bare = sorted(set(found.pop("", set())) - {"README.md"})  # the README links to the whole page
    assert not bare, f"a pointer without a #section in {bare}: name the section it helps with"
    unknown = {name: sorted(files) for name, files in found.items() if name not in known}
    assert not unknown, f"pointers to sections the page does not have: {unknown}; its sections are {sorted(known)}"


def test_the_package_points_to_the_sections_a_learner_meets_most():
    used = set(pointers_in((ROOT / "mocohd").rglob("*.py")))
    expected = {"locked-run-folder", "training-stopped-at-a-nan", "unsafe-file-refused", "checkpoint-does-not-fit",
                "ffmpeg-and-video-files", "slow-machine"}
    assert expected <= used, f"no message in mocohd points to {sorted(expected - used)} any more"


def test_every_section_gives_symptom_cause_and_fix():
    found = sections()
    assert len(found) >= 10
    for name, body in found.items():
        missing = [part for part in ("**Symptom", "**Cause", "**Fix") if part not in body]
        assert not missing, f"section #{name} lacks {missing}"
    contents = set(re.findall(r"^- \[[^\]]+\]\(#([\w-]+)\)$", PAGE.read_text(encoding="utf-8"), flags=re.MULTILINE))
    assert contents == set(found), "the list at the top of the page and its sections differ"


# --------------------------------------------------------------------------------------
# The messages themselves, raised for real


def assert_points_to(text: str, section: str) -> None:
    assert message_anchors(text) == [section], text
    assert section in sections()


def test_a_locked_run_folder_points_to_its_section(tmp_path):
    from mocohd.train.guards import LOCK_NAME, RunFolderBusyError, RunFolderLock

    (tmp_path / LOCK_NAME).write_text(json.dumps({"pid": os.getppid(), "host": socket.gethostname(),
                                                  "started": "2026-01-01T00:00:00"}))  # a live process, not this one
    with pytest.raises(RunFolderBusyError) as caught:
        RunFolderLock(tmp_path).acquire()
    assert_points_to(str(caught.value), "locked-run-folder")


def test_the_nan_stop_points_to_its_section(tmp_path):
    from mocohd.train.guards import NonFiniteLossError, check_finite_losses

    trainer = SimpleNamespace(out=tmp_path, step=7, save=lambda path: path)
    with pytest.raises(NonFiniteLossError) as caught:
        check_finite_losses(trainer, {"d_loss": float("nan"), "g_loss": 0.5})
    assert_points_to(str(caught.value), "training-stopped-at-a-nan")


def test_an_unsafe_file_points_to_its_section(tmp_path):
    from pathlib import PurePosixPath

    from mocohd.checkpoint import UnsafeFileError, torch_load

    torch.save({"where": PurePosixPath("/tmp")}, tmp_path / "object.pt")  # a Python object beyond tensors
    with pytest.raises(UnsafeFileError) as caught:
        torch_load(tmp_path / "object.pt")
    assert_points_to(str(caught.value), "unsafe-file-refused")


def test_a_checkpoint_that_does_not_fit_points_to_its_section():
    from mocohd.checkpoint import check_checkpoint
    from mocohd.config import VideoGANConfig, to_dict
    from mocohd.train.video_gan import check_same_networks

    with pytest.raises(ValueError) as newer:
        check_checkpoint({"format": "mocohd.video_gan", "version": 99}, "run/checkpoint.pt")
    assert_points_to(str(newer.value), "checkpoint-does-not-fit")
    now = to_dict(VideoGANConfig())
    with pytest.raises(ValueError) as shapes:
        check_same_networks({**now, "ndf": now["ndf"] + 8}, now, "run/checkpoint.pt")
    assert_points_to(str(shapes.value), "checkpoint-does-not-fit")


def test_an_undecodable_video_points_to_its_section(tmp_path):
    from mocohd.data.video_io import UnreadableVideoError, read_video

    (tmp_path / "v.mp4").write_bytes(b"not a video at all" * 64)
    with pytest.raises(UnreadableVideoError) as caught:
        read_video(tmp_path / "v.mp4")
    assert_points_to(str(caught.value), "ffmpeg-and-video-files")


def test_emulated_bf16_points_to_its_section():
    from mocohd.hardware import bf16_warning

    assert_points_to(bf16_warning(True, {"avx2", "avx512f"}), "slow-machine")
