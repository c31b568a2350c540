from __future__ import annotations

import pytest
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


def test_smoke_runs_the_named_benchmarks_small_and_cannot_be_quick_too(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ran: list[list[str]] = []

    def call(command: list[str], cwd: object) -> int:
        ran.append(command)
        return 0

    monkeypatch.setattr("haven.cli.bench.subprocess.call", call)
    runner = CliRunner()
    assert runner.invoke(app, ["bench", "scaling", "--smoke"]).exit_code == 0
    assert ran[-1][-3:] == ["bench.run", "scaling", "--smoke"]
    refused = runner.invoke(app, ["bench", "--smoke", "--quick"])
    assert refused.exit_code == 2
    assert "not both" in refused.output
    assert len(ran) == 1


def test_scaling_growth_is_named_from_the_fitted_exponent() -> None:
    from bench.scaling import exponent, kind

    work = [100.0, 1_000.0, 10_000.0]
    assert kind(exponent(work, [3 * w for w in work])) == "linear"
    assert kind(exponent(work, [w**0.5 for w in work])) == "sub-linear"
    assert kind(exponent(work, [42.0, 41.0, 43.0])) == "flat"
    assert kind(exponent(work, [w**2 for w in work])) == "super-linear"
    assert kind(exponent([5.0], [1.0])) == "not enough points to tell"
