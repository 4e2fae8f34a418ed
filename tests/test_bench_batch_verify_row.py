"""The ``batch-verify`` rows of ``pm bench`` (issue 10): shape and definitions, not timings."""

from __future__ import annotations

from pm.bench import MEASUREMENTS, BenchConfig, BenchContext, measure_batch_verify


def test_batch_verify_rows_use_the_recover_floor() -> None:
    assert ("batch verify", measure_batch_verify) in MEASUREMENTS
    ctx = BenchContext(BenchConfig(tickets=64, repeats=1, baseline_tickets=4, threads=1))
    rows = {row.name: row for row in measure_batch_verify(ctx)}
    assert list(rows) == ["batch-verify-16", "batch-verify"]  # 256 and 1024 need more tickets
    row = rows["batch-verify"]
    assert row.pm_us is not None and row.floor_us is not None
    assert row.ratio_floor == row.pm_us / row.floor_us
    assert [(c.metric, c.op, c.limit) for c in row.checks] == [("ratio_floor", "<=", 0.33)]
    assert rows["batch-verify-16"].checks == ()
