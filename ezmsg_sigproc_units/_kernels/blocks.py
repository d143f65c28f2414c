"""Long chunks in bounded blocks: a streaming step applied to consecutive slices of one long
chunk, its state carried from slice to slice, the outputs gathered into one array.

The streaming kernels are exact under any chunking, so the result equals one call on the
whole chunk (to float rounding); what changes is memory. A kernel's temporaries scale with
the samples it is given (the IIR kernel's block buffer, the FIR kernel's frames and spectra:
several times the chunk), so on a long chunk they are what dominates. Chunks of up to
``ONE_CALL_ENTRIES`` values run in one call (their temporaries are a few tens of MB at
most, and cutting them would only add calls); longer ones in blocks of about 1/32 of the
chunk, between ``MIN_BLOCK_ENTRIES`` and ``MAX_BLOCK_ENTRIES`` values, so a chunk needs its
output plus a few blocks' worth of temporaries: about one input's size.

NumPy writes every block's output into one preallocated array. The other backends
concatenate the blocks' outputs once (arrays may be immutable, e.g. JAX): about twice the
output's size at the peak, still independent of the kernel's temporaries.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .._backend import is_numpy_namespace

ONE_CALL_ENTRIES = 1 << 20
"""Chunks of up to this many values (4 MiB of float32) run in one call."""

MIN_BLOCK_ENTRIES = 1 << 17
"""Smallest block of a longer chunk (512 KiB of float32)."""

MAX_BLOCK_ENTRIES = 1 << 20
"""Largest block (4 MiB of float32; 4096 samples of 256 channels): large enough that the
per-call overhead is negligible, also on an accelerator."""


def block_length(n_samples: int, n_channels: int, unit: int = 1) -> int:
    """Samples per block for a chunk of ``n_samples`` x ``n_channels`` values: all of them
    up to ``ONE_CALL_ENTRIES`` values; else a multiple of ``unit`` (the kernel's own block,
    so that no block ends in a short tail) holding about 1/32 of the chunk, between
    ``MIN_BLOCK_ENTRIES`` and ``MAX_BLOCK_ENTRIES`` values; at least one ``unit``."""
    entries = n_samples * n_channels
    if entries <= ONE_CALL_ENTRIES:
        return max(1, n_samples)
    unit = max(1, unit)
    entries = min(MAX_BLOCK_ENTRIES, max(MIN_BLOCK_ENTRIES, entries // 32))
    return unit * max(1, entries // max(1, n_channels * unit))


def gather_blocks(xp: Any, n: int, step: int, run: Callable[[int, int], Any],
                  axis: int = 0) -> Any:
    """``run(start, stop)`` over the blocks ``[0, step), [step, 2 step), ...`` of ``n``
    samples, in order, its outputs concatenated along ``axis``. ``run`` carries the stream
    state itself. An output may be shorter than its block only while no output has been
    non-empty yet (a delayed stream's first samples); after that each is as long as its
    block. One call when ``n <= step``."""
    if n <= step:
        return run(0, n)
    if not is_numpy_namespace(xp):
        return xp.concat([run(a, min(n, a + step)) for a in range(0, n, step)], axis=axis)
    out, pos = None, 0
    for a in range(0, n, step):
        b = min(n, a + step)
        y = run(a, b)
        if out is None:
            if y.shape[axis] == 0 and b < n:
                continue
            shape = list(y.shape)
            shape[axis] += n - b
            out = xp.empty(tuple(shape), dtype=y.dtype)
        m = y.shape[axis]
        out[(slice(None),) * axis + (slice(pos, pos + m), ...)] = y
        pos += m
    return out
