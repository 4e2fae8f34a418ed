"""``pm bench`` and its engine: JSON shape, ratio definitions, target logic, threaded batches.

No test asserts a timing threshold: timings are whatever this machine gives; what is checked is
that the report is well formed, its ratios are the defined quotients, MET/MISSED follows the
checks, and the threaded paths return exactly what the one-thread paths return.
"""

from __future__ import annotations

import itertools
import json
import math
from array import array

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pm import bench, parallel
from pm.bench import BenchConfig, BenchContext, Check, Row, row_with_checks, run_bench
from pm.cli import main
from pm.crypto import PrivateKeySigner, keccak256
from pm.errors import InvalidInput, InvalidType, PMError
from pm.ticket import SigStatus, Ticket, validate_batch

REQUIRED = {
    "name",
    "pm_us",
    "floor_us",
    "eth_account_us",
    "handmade_us",
    "ratio_floor",
    "ratio_eth_account",
    "target",
    "met",
}
TARGET_ROWS = {
    "sign",
    "recover",
    "create-batch",
    "python-overhead-create",
    "validate-batch",
    "python-overhead-validate",
    "validate-batch-2-threads",
    "memory-create",
    "memory-validate",
}


def _run_json(capsys: pytest.CaptureFixture[str], *extra: str) -> dict[str, object]:
    argv = ["bench", "--tickets", "40", "--baseline-tickets", "6", "--repeats", "1", "--json"]
    assert main([*argv, *extra]) == 0
    out = capsys.readouterr().out
    data = json.loads(out)
    assert isinstance(data, dict)
    return data


def _close(a: object, b: float) -> bool:
    assert isinstance(a, float | int)
    return math.isclose(float(a), b, rel_tol=2e-3, abs_tol=2e-4)


def test_json_shape_and_ratio_definitions(capsys: pytest.CaptureFixture[str]) -> None:
    data = _run_json(capsys)
    assert set(data) == {"machine", "results"}
    machine = data["machine"]
    assert isinstance(machine, dict)
    assert machine["tickets"] == 40 and machine["threads"] == 2 and machine["repeats"] == 1
    assert machine["baseline_tickets"] == 6
    assert isinstance(machine["cpu_count"], int) and machine["python"]
    results = data["results"]
    assert isinstance(results, list)
    names = [r["name"] for r in results]
    assert len(names) == len(set(names))
    assert set(names) >= TARGET_ROWS
    for r in results:
        assert set(r) >= REQUIRED, r["name"]
        pm_us, floor, eth = r["pm_us"], r["floor_us"], r["eth_account_us"]
        # ratio_floor = pm_us / floor_us and ratio_eth_account = eth_account_us / pm_us
        if pm_us is not None and floor is not None:
            assert pm_us > 0 and floor > 0
            assert _close(r["ratio_floor"], pm_us / floor), r
        else:
            assert r["ratio_floor"] is None
        if pm_us is not None and eth is not None:
            assert _close(r["ratio_eth_account"], eth / pm_us), r
        else:
            assert r["ratio_eth_account"] is None
        if r["handmade_us"] is not None and pm_us is not None:
            assert _close(r["ratio_handmade"], r["handmade_us"] / pm_us), r
        # met is the conjunction of the evaluated checks; rows without checks are null
        evaluated = [c["met"] for c in r["checks"] if c["met"] is not None]
        assert r["met"] == (all(evaluated) if evaluated else None), r
        assert (r["target"] == "") == (not r["checks"]), r
        for c in r["checks"]:
            assert c["op"] in ("<=", ">=")
            assert f"{c['metric']} {c['op']}" in r["target"]
            if c["value"] is not None:
                want = c["value"] <= c["limit"] if c["op"] == "<=" else c["value"] >= c["limit"]
                assert c["met"] == want
    rows = {r["name"]: r for r in results}
    # the targets of issue 7, as stated
    limits = {(c["metric"], c["op"], c["limit"]) for c in rows["create-batch"]["checks"]}
    assert limits == {
        ("ratio_floor", "<=", 1.1),
        ("ratio_eth_account", ">=", 6.0),
        ("ratio_handmade", ">=", 1.3),
    }
    limits = {(c["metric"], c["op"], c["limit"]) for c in rows["validate-batch"]["checks"]}
    assert limits == {
        ("ratio_floor", "<=", 1.1),
        ("ratio_eth_account", ">=", 3.5),
        ("ratio_handmade", ">=", 1.5),
    }
    threads = {(c["metric"], c["limit"]) for c in rows["validate-batch-2-threads"]["checks"]}
    assert threads == {("speedup", 1.8), ("ratio_eth_account", 7.0)}
    assert rows["sign"]["checks"][0]["limit"] == 5.0
    assert rows["recover"]["checks"][0]["limit"] == 3.3
    over = rows["python-overhead-create"]
    assert _close(over["overhead_us"], over["pm_us"] - over["floor_us"])
    for name in ("memory-create", "memory-validate"):
        assert rows[name]["retained_blocks"] >= 0 and rows[name]["peak_bytes_per_ticket"] > 0


def test_one_thread_skips_threaded_rows(capsys: pytest.CaptureFixture[str]) -> None:
    data = _run_json(capsys, "--threads", "1")
    names = {r["name"] for r in data["results"]}  # type: ignore[union-attr]
    assert not any("threads" in n for n in names)
    assert "validate-batch" in names


def test_table_and_markdown(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["bench", "--tickets", "20", "--baseline-tickets", "4", "--repeats", "1"]
    assert main([*argv, "--threads", "1", "--markdown"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0].startswith("| operation | pm µs | floor µs | eth-account µs")
    assert any(line.startswith("| create-batch | ") for line in lines)
    assert all(line.count("|") == 12 for line in lines)
    assert main([*argv, "--threads", "1"]) == 0
    out = capsys.readouterr().out
    assert "validate-batch" in out and ("MET" in out or "MISSED" in out)


@pytest.mark.parametrize(
    "args", [["--tickets", "0"], ["--threads", "0"], ["--repeats", "0"], ["--tickets", "-5"]]
)
def test_bad_arguments_exit_2(capsys: pytest.CaptureFixture[str], args: list[str]) -> None:
    assert main(["bench", *args, "--json"]) == 2
    assert "must be >= 1" in capsys.readouterr().err


def test_config_rejects_bad_types() -> None:
    with pytest.raises(InvalidType):
        BenchConfig(tickets=True)
    with pytest.raises(InvalidType):
        BenchConfig(threads="2")  # type: ignore[arg-type]
    with pytest.raises(InvalidInput) as info:
        BenchConfig(repeats=0)
    assert isinstance(info.value, PMError)


# ------------------------------------------------------------------------------ row logic


def test_check_and_row_logic() -> None:
    assert Check("ratio_floor", "<=", 1.1, 1.05).met is True
    assert Check("ratio_floor", "<=", 1.1, 1.2).met is False
    assert Check("speedup", ">=", 1.8, 1.8).met is True
    assert Check("ratio_eth_account", ">=", 3.5, None).met is None
    row = row_with_checks(
        "x",
        {"pm": 2.0, "floor": 1.0, "eth_account": 5.0, "handmade": 3.0},
        [("ratio_floor", "<=", 2.5), ("ratio_eth_account", ">=", 3.0)],
    )
    assert row.ratio_floor == 2.0 and row.ratio_eth_account == 2.5 and row.ratio_handmade == 1.5
    assert row.met is False
    # eth-account is 5x the floor, so 3x was reachable: no "out of reach" note
    assert row.extra["ceiling"] == 5.0 and row.note == ""
    unreachable = row_with_checks(
        "y", {"pm": 1.0, "floor": 1.0, "eth_account": 2.0}, [("ratio_eth_account", ">=", 3.0)]
    )
    assert unreachable.met is False and "out of reach" in unreachable.note
    skipped = row_with_checks("z", {"pm": 1.0, "floor": 1.0}, [("ratio_eth_account", ">=", 3.0)])
    assert skipped.met is None and skipped.to_json()["met"] is None
    info = Row("info", 1.0)
    assert info.met is None and info.target == "" and info.ratio_floor is None


def test_extra_measurement_hook() -> None:
    """A measurement added later (e.g. issue 10's batch-verify) gets the shared context and
    its rows land in the report."""
    seen: list[int] = []

    def batch_verify(ctx: BenchContext) -> list[Row]:
        seen.append(ctx.n)
        assert len(ctx.sigs) == 65 * ctx.n and len(ctx.digests) == 32 * ctx.n
        t = ctx.per_ticket({"pm": (lambda: None, ctx.n), "floor": (lambda: None, ctx.n)})
        return [row_with_checks("batch-verify", t, [("ratio_floor", "<=", 1 / 3)])]

    config = BenchConfig(tickets=8, repeats=1, baseline_tickets=2, threads=1)
    result = run_bench(config, measurements=[("batch verify", batch_verify)])
    assert seen == [8]
    assert [r.name for r in result.rows] == ["batch-verify"]
    before = list(bench.MEASUREMENTS)
    try:
        bench.register_measurement("batch verify", batch_verify)
        bench.register_measurement("batch verify", batch_verify)  # idempotent
        assert bench.MEASUREMENTS[-1] == ("batch verify", batch_verify)
        assert len(bench.MEASUREMENTS) == len(before) + 1
    finally:
        bench.MEASUREMENTS[:] = before


def test_progress_reaches_every_stage() -> None:
    calls: list[tuple[str, float]] = []
    config = BenchConfig(tickets=8, repeats=2, baseline_tickets=2, threads=1)
    run_bench(config, on_progress=lambda label, done: calls.append((label, done)))
    dones = [d for _, d in calls]
    assert dones == sorted(dones)
    assert calls[-1] == ("done", float(len(bench.MEASUREMENTS)))


# ------------------------------------------------------------------------- threaded batches

SIGNER = PrivateKeySigner(keccak256(b"test_bench_cli signer"))
OTHER = PrivateKeySigner(keccak256(b"test_bench_cli other"))
TEMPLATE = Ticket(
    b"\x22" * 20, SIGNER.address, 10**15, 2**255, 0, keccak256(b"r"), 9, keccak256(b"b")
)


@settings(max_examples=60, deadline=None)
@given(n=st.integers(0, 300), threads=st.integers(1, 5), min_chunk=st.integers(1, 100))
def test_chunk_bounds_partition(n: int, threads: int, min_chunk: int) -> None:
    bounds = parallel.chunk_bounds(n, threads, min_chunk)
    assert 1 <= len(bounds) <= threads
    assert bounds[0][0] == 0 and bounds[-1][1] == n
    assert all(a[1] == b[0] for a, b in itertools.pairwise(bounds))
    sizes = [z - a for a, z in bounds]
    assert max(sizes) - min(sizes) <= 1
    if len(bounds) > 1:
        assert min(sizes) >= min_chunk


def test_run_chunks_order_and_errors() -> None:
    bounds = [(0, 1), (1, 2), (2, 3)]
    assert parallel.run_chunks(lambda a, z: (a, z), bounds) == bounds

    def boom(a: int, z: int) -> int:
        if a >= 1:
            raise InvalidInput(f"chunk {a}", name="a", value=a)
        return a

    with pytest.raises(InvalidInput, match="chunk 1"):
        parallel.run_chunks(boom, bounds)


def test_threads_argument_checked() -> None:
    with pytest.raises(InvalidInput):
        parallel.sign_tickets_threaded(SIGNER, TEMPLATE, [1, 2], threads=0)
    with pytest.raises(InvalidType):
        parallel.validate_batch_threaded(TEMPLATE, [1], [b"\0" * 65], None, threads=1.5)  # type: ignore[arg-type]
    with pytest.raises(InvalidInput):
        parallel.validate_batch_threaded(TEMPLATE, [1, 2], b"\0" * 65, None)
    with pytest.raises(InvalidInput):
        parallel.validate_batch_threaded(TEMPLATE, [1, 2], [b"\0" * 65], None)
    with pytest.raises(InvalidInput):
        parallel.sign_tickets_threaded(SIGNER, TEMPLATE, [2**32], threads=2)


@pytest.mark.parametrize("threads", [1, 2, 3])
def test_sign_threaded_equals_one_thread(threads: int) -> None:
    nonces = array("I", range(5, 5 + 333))
    assert parallel.sign_tickets_threaded(SIGNER, TEMPLATE, nonces, threads) == SIGNER.sign_tickets(
        TEMPLATE, nonces
    )


def _mangle(sig: bytes, kind: int) -> bytes:
    if kind == 1:
        return sig[:64]  # bad length
    if kind == 2:
        return sig[:64] + bytes([55 - sig[64]])  # v flipped 27 <-> 28: another signer
    if kind == 3:
        return sig[:64] + b"\x1d"  # v = 29
    if kind == 4:
        return (
            sig[:32]
            + (2**256 - 1 - int.from_bytes(sig[32:64], "big")).to_bytes(32, "big")
            + sig[64:]
        )
    return sig


@settings(max_examples=40, deadline=None)
@given(
    kinds=st.lists(st.integers(0, 6), min_size=0, max_size=200),
    threads=st.integers(1, 4),
    rand=st.one_of(st.none(), st.integers(0, 2**256 - 1)),
    flat=st.booleans(),
)
def test_validate_threaded_equals_one_thread(
    kinds: list[int], threads: int, rand: int | None, flat: bool
) -> None:
    nonces = array("I", range(1, len(kinds) + 1))
    good = SIGNER.sign_tickets(TEMPLATE, nonces)
    wrong = OTHER.sign_tickets(TEMPLATE, nonces)
    sigs = []
    for i, kind in enumerate(kinds):
        sig = (wrong if kind == 5 else good)[65 * i : 65 * i + 65]
        sigs.append(_mangle(sig, kind))
    arg: list[bytes] | bytes = sigs
    if flat and all(len(s) == 65 for s in sigs):
        arg = b"".join(sigs)
    one = validate_batch(TEMPLATE, nonces, arg, rand)
    many = parallel.validate_batch_threaded(TEMPLATE, nonces, arg, rand, threads)
    assert many == one
    if len(kinds) >= 2 * parallel.MIN_CHUNK and threads > 1:
        assert len(parallel.chunk_bounds(len(kinds), threads)) > 1  # really split
    statuses = many.statuses
    for kind, status in zip(kinds, statuses, strict=True):
        if kind in (0, 6):
            assert status is SigStatus.OK
        elif kind == 1:
            assert status is SigStatus.BAD_LENGTH
        elif kind == 3:
            assert status is SigStatus.BAD_V
        elif kind == 4:
            assert status is SigStatus.HIGH_S
        else:
            assert status in (SigStatus.WRONG_SIGNER, SigStatus.UNRECOVERABLE)


def test_validate_threaded_irregular_sigs() -> None:
    n = 200
    nonces = array("I", range(1, n + 1))
    flat = SIGNER.sign_tickets(TEMPLATE, nonces)
    irregular = {3: b"short", 150: b"\x01" * 66}
    one = validate_batch(TEMPLATE, nonces, flat, 7, irregular_sigs=irregular)
    many = parallel.validate_batch_threaded(TEMPLATE, nonces, flat, 7, 2, irregular_sigs=irregular)
    assert many == one
    assert many.status(3) is SigStatus.BAD_LENGTH and many.status(150) is SigStatus.BAD_LENGTH
    assert many.won_flags[150] == 0
    with pytest.raises(InvalidInput):
        parallel.validate_batch_threaded(TEMPLATE, nonces, flat, 7, 2, irregular_sigs={n: b""})


def test_runs_without_eth_account(monkeypatch: pytest.MonkeyPatch) -> None:
    """eth-account is a dev extra: without it the eth columns are null and their checks skipped."""
    monkeypatch.setattr(bench, "_eth_account_api", lambda: None)
    config = BenchConfig(tickets=30, repeats=1, baseline_tickets=5, threads=2)
    rows = {r.name: r for r in run_bench(config).rows}
    for name in ("sign", "recover", "create-batch", "validate-batch", "validate-batch-2-threads"):
        row = rows[name]
        assert row.eth_account_us is None and row.ratio_eth_account is None
        eth_checks = [c for c in row.checks if c.metric == "ratio_eth_account"]
        assert eth_checks and all(c.met is None for c in eth_checks)
        assert "ceiling" not in row.extra
    assert rows["create-batch"].handmade_us is not None
