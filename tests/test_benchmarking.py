"""Benchmark scaffolding: the table as printed, the JSON contract, the command line."""

import json
import platform

import numpy as np
import pytest

from rlcourse.benchmarking import (
    bench_main,
    import_peer,
    print_rows,
    print_table,
    spread,
    taking_turns,
    version_line,
    write_json,
)

RESULTS = {
    "steps/a": {"ours": 2000.0, "peer_x": 1000.0, "peer_y": 4000.0, "ratio": 2.0, "unit": "1/s"},
    "build/b": {"ours": 0.5, "target": 1.0, "ratio": 2.0, "unit": "s", "states": 12_000},
}


def _whole(x: float, unit: str) -> str:
    return f"{x:,.0f}" if unit == "1/s" else f"{x:.2f}"


def test_rows_are_padded_to_the_widest_cell_with_a_rule_under_the_header(capsys):
    print_rows([("a", "bb"), ("ccc", "d")])
    assert capsys.readouterr().out == "a   | bb\n----+---\nccc | d\n"


def test_table_has_a_row_per_peer_notes_and_the_ratio_note(capsys):
    print_table(RESULTS, "ratio: ours / peer_x", number=_whole, notes=("states",))
    assert capsys.readouterr().out.splitlines() == [
        "case    | ours  | peer   | peer value | ratio | unit",
        "--------+-------+--------+------------+-------+-----",
        "steps/a | 2,000 | peer_x | 1,000      | 2.00  | 1/s",
        "        |       | peer_y | 4,000      |       |",
        "build/b | 0.50  | target | 1.00       | 2.00  | s",
        "build/b: states 12,000",
        "",
        "ratio: ours / peer_x",
    ]


def test_target_column_says_whether_the_ratio_reaches_the_target(capsys):
    print_table(RESULTS, "", number=_whole, target=lambda r: 1.5 if r["unit"] == "s" else 2.5)
    rows = capsys.readouterr().out.splitlines()
    assert rows[0].endswith("| target met")
    assert rows[2].endswith("| NO") and rows[4].endswith("| yes")  # 2.0 < 2.5, 2.0 >= 1.5
    assert rows[3].endswith("|")  # a second peer repeats no case cells
    assert "states" in rows[5]  # not named as a note: a peer like any other


def test_json_round_trip_and_refusal_naming_the_case(tmp_path):
    path = write_json(RESULTS, tmp_path / "bench.json")
    assert json.loads(path.read_text()) == RESULTS
    with pytest.raises(ValueError, match=r"case 'steps/a' lacks ratio, unit"):
        write_json({"steps/a": {"ours": 1.0}}, tmp_path / "bad.json")
    with pytest.raises(ValueError, match=r"case 'x' is a float"):
        write_json({"x": 1.0}, tmp_path / "bad.json")
    assert not (tmp_path / "bad.json").exists()


def test_version_line_names_python_the_packages_and_the_machine():
    line = version_line(["numpy"])
    assert line == f"python {platform.python_version()}, numpy {np.__version__}, " + (
        platform.machine()
    )


def test_version_line_says_which_distribution_is_missing():
    line = version_line(["numpy", "no-such-distribution-here"])
    assert f"numpy {np.__version__}, no-such-distribution-here not installed, " in line


def test_a_missing_peer_is_skipped_with_one_line(capsys):
    assert import_peer("json", "json") is json
    assert capsys.readouterr().out == ""
    assert import_peer("no_such_module_here", "no-such-dist") is None
    out = capsys.readouterr().out.splitlines()
    assert len(out) == 1
    assert out[0].startswith("no_such_module_here cannot be imported (")
    assert out[0].endswith("): its rows are skipped (pip install no-such-dist)")


def test_measures_take_turns_round_by_round():
    calls = []

    def measure(name: str, base: float):
        def rate(round_: int) -> float:
            calls.append((name, round_))
            return base + round_

        return rate

    values = taking_turns({"a": measure("a", 10.0), "b": measure("b", 5.0)}, rounds=3)
    assert calls == [("a", 0), ("b", 0), ("a", 1), ("b", 1), ("a", 2), ("b", 2)]
    assert values == {"a": [10.0, 11.0, 12.0], "b": [5.0, 6.0, 7.0]}


def test_spread_is_the_range_over_the_best():
    assert spread([10.0, 11.0, 12.0]) == pytest.approx(2.0 / 12.0)
    assert spread([5.0, 5.0]) == 0.0
    assert spread([0.0]) == 0.0


def test_bench_main_runs_shows_and_writes(tmp_path, capsys):
    calls = []

    def run(quick: bool) -> dict:
        calls.append(quick)
        return {"c": {"ours": 3.0, "peer": 1.5, "ratio": 2.0, "unit": "s"}}

    out = tmp_path / "r.json"
    shown = []
    assert bench_main(run, shown.append, description="d", argv=["--quick", "--json", str(out)]) == 0
    assert calls == [True] and shown == [run(True)]
    assert json.loads(out.read_text()) == run(True)
    printed = capsys.readouterr().out.splitlines()
    assert printed[0].startswith("python ") and printed[-1] == f"wrote {out}"
    bench_main(run, shown.append, description="d", argv=[])
    assert calls[-1] is False
