"""Small timing helpers shared by the benchmark tables."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable


def per_call_us(fn: Callable[[], object], *, min_time: float = 0.01, repeats: int = 31) -> float:
    """Median over ``repeats`` batches of the mean microseconds per call of ``fn``."""
    fn()
    n = 1
    while True:  # size a batch to take at least min_time
        t0 = time.perf_counter()
        for _ in range(n):
            fn()
        dt = time.perf_counter() - t0
        if dt >= min_time:
            break
        n *= 2
    samples = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        for _ in range(n):
            fn()
        samples.append((time.perf_counter() - t0) / n * 1e6)
    return statistics.median(samples)


def paired_us(ours: Callable[[], object], floor: Callable[[], object], *,
              min_time: float = 0.005, repeats: int = 41) -> tuple[float, float, float]:
    """(ours, floor, ours - floor) in median microseconds per call, timed in alternating
    batches so that drifts of a shared machine hit both sides alike; the overhead is the
    median of the per-round differences."""
    n = _batch_size(ours, min_time)
    warm_until = time.perf_counter() + 0.1  # let the allocator and CPU clock settle first
    while time.perf_counter() < warm_until:
        _batch(ours, n)
        _batch(floor, n)
    a, b, d = [], [], []
    for _ in range(repeats):
        ta = _batch(ours, n)
        tb = _batch(floor, n)
        a.append(ta)
        b.append(tb)
        d.append(ta - tb)
    return statistics.median(a), statistics.median(b), statistics.median(d)


def _batch_size(fn: Callable[[], object], min_time: float) -> int:
    fn()
    n = 1
    while _batch(fn, n) * n / 1e6 < min_time:
        n *= 2
    return n


def _batch(fn: Callable[[], object], n: int) -> float:
    t0 = time.perf_counter()
    for _ in range(n):
        fn()
    return (time.perf_counter() - t0) / n * 1e6


def table(headers: list[str], rows: list[list[object]]) -> str:
    """A Markdown table; floats with two decimals."""
    def fmt(v: object) -> str:
        return f"{v:.2f}" if isinstance(v, float) else str(v)

    cells = [[fmt(v) for v in r] for r in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) for i, h in enumerate(headers)]

    def line(vals: list[str]) -> str:
        return "| " + " | ".join(v.ljust(w) for v, w in zip(vals, widths, strict=True)) + " |"

    out = [line(headers), "|" + "|".join("-" * (w + 2) for w in widths) + "|"]
    return "\n".join(out + [line(r) for r in cells])
