"""A short load and soak run (``python -m benchmarks.soak`` is the full one): a real graph,
source -> 5 stages -> sink, 5,000 messages in one process and 2,000 with the sink in a second
one, checked for lost or reordered messages, bounded memory and leaked shared memory.

The RSS check of a short run cannot use the full run's rule (growth after the first 10 %):
at 10 % of 5,000 messages allocator arenas and first-call caches may still be settling. It
asserts instead that each process grows by less than ``SLACK`` from the middle of the run to
its end. A run that keeps every message leaks about 2.5 kB (the 10 x 64 float32 data alone)
per message, 6+ MB over the second half of 5,000, and fails it:
``test_soak_rss_check_catches_a_leak`` runs exactly that (a ``Hoard`` stage that keeps a
copy of every message).
"""

from __future__ import annotations

import os
from multiprocessing import shared_memory

import pytest

from benchmarks import soak

N_LOCAL, N_CROSS = 5000, 2000
SLACK = 3 << 20  # bytes of RSS growth allowed from the middle of a short run to its end


def _check_clean(r: dict) -> None:
    sink, src = r["sink"], r["source"]
    assert sink is not None and src is not None, r
    assert (sink["count"], sink["lost"], sink["late"], sink["bad"]) == (r["n"], 0, 0, 0), sink
    assert sink["expected_next"] == r["n"]
    lat = sink["latency"]
    assert 0.0 < lat["p50"] <= lat["p99"] <= lat["max"], lat  # sent before it arrived
    assert r["shm_seen"], "the graph mapped no shared memory: the leak check checked nothing"
    assert r["shm_left"] == [], r["shm_left"]
    for name, rec in (("source", src), ("sink", sink)):
        assert len(rec["rss"]) >= 50, rec["rss"]
        ok, grown = soak.bounded_tail(rec["rss"], slack=SLACK, rel=0.0)
        assert ok, f"{name} process RSS grew {grown / 2**20:.1f} MiB in the second half"


@pytest.mark.slow
@pytest.mark.timeout(90)
def test_soak_short_one_process(tmp_path):
    r = soak.soak(N_LOCAL, False, tmp_path, deadline=40.0)
    _check_clean(r)
    assert r["source"]["pid"] == r["sink"]["pid"] == os.getpid()


@pytest.mark.slow
@pytest.mark.timeout(90)
def test_soak_short_sink_in_a_second_process(tmp_path):
    r = soak.soak(N_CROSS, True, tmp_path, deadline=40.0)
    _check_clean(r)
    assert r["source"]["pid"] == os.getpid() != r["sink"]["pid"]


@pytest.mark.slow
@pytest.mark.timeout(90)
def test_soak_rss_check_catches_a_leak(tmp_path):
    r = soak.soak(N_LOCAL, False, tmp_path, deadline=40.0, hoard=True)
    assert r["sink"]["count"] == N_LOCAL and r["sink"]["lost"] == 0
    ok, grown = soak.bounded_tail(r["sink"]["rss"], slack=SLACK, rel=0.0)
    assert not ok, f"a stage keeping every message grew RSS by only {grown} bytes"


def test_seq_check_counts_lost_and_reordered_messages():
    check = soak.SeqCheck()
    assert [check(s) for s in (0, 1, 2)] == [True] * 3
    assert check.lost == check.late == 0 and check.errors == []
    for s in (4, 3, 5, 5, 9):  # 3 skipped then late, 5 duplicated, 6-8 lost
        check(s)
    assert (check.count, check.lost, check.late, check.expected) == (8, 4, 2, 10)
    assert check.errors[0] == "message 3: seq 4, expected 3"


def test_mapped_shm_sees_a_mapping_until_it_is_gone():
    shm = shared_memory.SharedMemory(create=True, size=4096)
    try:
        shm.buf[0] = 1  # mapped and touched
        path = f"/dev/shm/{shm.name.lstrip('/')}"
        assert path in soak.mapped_shm() and os.path.exists(path)
    finally:
        shm.close()
        shm.unlink()
    assert path not in soak.mapped_shm() and not os.path.exists(path)


def test_rss_growth_is_measured_after_warm_up():
    mb = 1 << 20
    flat = [(i / 100, 100 * mb if i < 10 else 200 * mb) for i in range(100)]  # warm-up only
    assert soak.rss_growth(flat)["growth"] == 0.0
    leak = [(i / 100, 100 * mb + i * mb) for i in range(100)]
    g = soak.rss_growth(leak)
    assert g["ref"] == 110 * mb and g["max"] == g["end"] == 199 * mb
    assert soak.violations({"n": 1, "sink": {"count": 1, "lost": 0, "late": 0, "bad": 0,
                                             "errors": [], "rss": leak},
                            "source": None, "shm_left": []}) == [
        "the source never finished sending (no record)",
        "sink process RSS grew 80.9 % after warm-up"]
