"""The training CSV log keeps every row under its header, also when a resume logs more fields."""

import csv

from mocohd.train.log import append_csv


def rows(path):
    with open(path, newline="") as f:
        return list(csv.reader(f))


def test_a_resume_that_logs_a_new_field_widens_the_header_and_keeps_the_rows(tmp_path):
    path = tmp_path / "log.csv"
    append_csv(path, {"step": 5, "d_3d": 1.0, "unlogged": 9}, ["step", "d_3d"])
    append_csv(path, {"step": 10, "d_3d": 0.5}, ["step", "d_3d"])
    assert rows(path) == [["step", "d_3d"], ["5", "1.0"], ["10", "0.5"]]
    append_csv(path, {"step": 15, "d_3d": 0.4, "d_held": 2.0}, ["step", "d_3d", "d_held"])  # --cut-fakes on
    assert rows(path) == [["step", "d_3d", "d_held"], ["5", "1.0", ""], ["10", "0.5", ""], ["15", "0.4", "2.0"]]
    append_csv(path, {"d_3d": 0.3, "step": 20}, ["d_3d", "step"])  # a field dropped, another order
    assert rows(path)[-1] == ["20", "0.3", ""]
    assert not list(tmp_path.glob("*.tmp"))  # rewritten in place, atomically
