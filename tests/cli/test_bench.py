from __future__ import annotations

from typer.testing import CliRunner

from haven.cli import bench
from haven.cli.main import app


def test_bench_names_the_benchmarks_and_refuses_unknown_ones() -> None:
    runner = CliRunner()
    helped = runner.invoke(app, ["bench", "--help"])
    assert helped.exit_code == 0
    for name in bench.NAMES:
        assert name in helped.output
    refused = runner.invoke(app, ["bench", "delivery", "nope"])
    assert refused.exit_code == 2
    assert "unknown: nope" in refused.output


def test_every_cli_name_is_a_benchmark_group() -> None:
    from bench.run import GROUPS

    assert set(bench.NAMES) == set(GROUPS)
