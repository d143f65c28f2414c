"""Block-diagonal structure of a weight matrix, and whether a product should use it.

For ``y = x @ W`` (``W`` of shape ``(n_in, n_out)``) whose nonzeros lie in diagonal blocks,
the product splits into one small product per block. That saves arithmetic but costs a call
per block, so below a few hundred channels one dense product usually wins. Two questions,
two functions, all on the host with NumPy:

* :func:`contiguous_block_partition`: the finest tiling of ``W`` by contiguous diagonal
  blocks (read off the nonzeros of ``W`` itself, never taken from a caller's hint);
* :func:`plan_block_matmul`: a :class:`BlockPlan` when blocks are cheaper than the dense
  product by the cost model below, else None.

Cost model, in multiply-accumulates, for a chunk of ``n_samples`` rows::

    (n_samples + WEIGHT_LOAD_SAMPLES) * (weights touched) + calls * CALL_COST_MACS
        + (elements gathered) * GATHER_COST_MACS

The constants are the peer's (ezmsg-sigproc 3.11), so both packages choose the same kernel.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = [
    "CALL_COST_MACS",
    "CALL_COST_MACS_DISPATCHED",
    "GATHER_COST_MACS",
    "PERMUTED_SEARCH_MIN_WEIGHTS",
    "WEIGHT_LOAD_SAMPLES",
    "BlockPlan",
    "contiguous_block_partition",
    "plan_block_matmul",
]

WEIGHT_LOAD_SAMPLES = 108
"""Loading the weights once costs about this many samples' worth of arithmetic."""

CALL_COST_MACS = 1.6e6
"""Cost of one more product call on NumPy, in multiply-accumulates."""

CALL_COST_MACS_DISPATCHED = 8.0e6
"""The same on backends with heavier per-call dispatch (torch, JAX, MLX, GPUs)."""

GATHER_COST_MACS = 1.6e3
"""Cost of gathering one element by an index array (channel permutation)."""

PERMUTED_SEARCH_MIN_WEIGHTS = 1 << 20
"""Matrices with fewer weights are not searched for blocks hidden by channel order (a dense
product wins there at any chunk length)."""

Blocks = list[tuple[slice, slice]]


@dataclass(frozen=True)
class BlockPlan:
    """``x @ W`` as per-block products. ``blocks`` pairs contiguous input-row slices with the
    output-column slices they produce; together they tile ``W`` (after permutation, when
    ``in_perm``/``out_perm`` are set: the blocks tile ``W[in_perm][:, out_perm]``)."""

    blocks: tuple[tuple[slice, slice], ...]
    in_perm: np.ndarray | None = None
    out_perm: np.ndarray | None = None

    @property
    def n_blocks(self) -> int:
        return len(self.blocks)


def contiguous_block_partition(weights: np.ndarray) -> list[tuple[slice, slice]]:
    """The finest tiling of ``weights`` into contiguous ``(rows, cols)`` diagonal blocks that
    hold every nonzero. One block covering everything means no usable structure.

    All-zero rows and columns join a neighbouring block (leading ones the first block with
    a nonzero, trailing rows the last block), so the tiling has no gaps."""
    w = np.asarray(weights)
    n_in, n_out = w.shape
    whole = [(slice(0, n_in), slice(0, n_out))]
    if n_in == 0 or n_out == 0:
        return whole
    nz = w != 0
    row_any, col_any = nz.any(axis=1), nz.any(axis=0)
    # Last nonzero column of each row, last nonzero row of each column (-1: none).
    row_last = np.where(row_any, n_out - 1 - np.argmax(nz[:, ::-1], axis=1), -1).tolist()
    col_last = np.where(col_any, n_in - 1 - np.argmax(nz[::-1, :], axis=0), -1).tolist()
    ends: list[tuple[int, int]] = []  # (last row, last col) of each closed block
    col_hi = -1  # highest column reached by the rows so far
    row_need = -1  # highest row reached by the columns 0..col_hi
    scanned = 0  # columns whose col_last has been folded into row_need
    for i in range(n_in):
        col_hi = max(col_hi, row_last[i])
        while scanned <= col_hi:
            row_need = max(row_need, col_last[scanned])
            scanned += 1
        if col_hi >= 0 and row_need <= i:
            ends.append((i, col_hi))
    if not ends or ends[-1][0] != n_in - 1:
        ends.append((n_in - 1, n_out - 1))
    if len(ends) == 1:
        return whole
    blocks: Blocks = []
    r0 = c0 = 0
    for k, (r1, c1) in enumerate(ends):
        if k == len(ends) - 1:
            c1 = n_out - 1  # trailing all-zero columns join the last block
        if c1 < c0:  # rows without outputs of their own: part of the previous block
            prev_rows, prev_cols = blocks[-1]
            blocks[-1] = (slice(prev_rows.start, r1 + 1), prev_cols)
        else:
            blocks.append((slice(r0, r1 + 1), slice(c0, c1 + 1)))
        r0, c0 = r1 + 1, max(c0, c1 + 1)
    return blocks if len(blocks) > 1 else whole


def _n_weights(blocks: Blocks) -> int:
    return sum((r.stop - r.start) * (c.stop - c.start) for r, c in blocks)


def _cost(blocks: Blocks, n_samples: int, call_cost: float) -> float:
    return (n_samples + WEIGHT_LOAD_SAMPLES) * _n_weights(blocks) + len(blocks) * call_cost


def _coarsen(blocks: Blocks, min_rows: int) -> Blocks:
    """Adjacent blocks fused until each has at least ``min_rows`` rows (a short remainder
    joins the last fused block)."""
    out: Blocks = []
    start: tuple[int, int] | None = None
    for rows, cols in blocks:
        if start is None:
            start = (rows.start, cols.start)
        if rows.stop - start[0] >= min_rows:
            out.append((slice(start[0], rows.stop), slice(start[1], cols.stop)))
            start = None
    if start is not None:
        last_rows, last_cols = blocks[-1]
        if out:
            first_rows, first_cols = out.pop()
            start = (first_rows.start, first_cols.start)
        out.append((slice(start[0], last_rows.stop), slice(start[1], last_cols.stop)))
    return out


def _cheapest(blocks: Blocks, n_samples: int, call_cost: float) -> tuple[Blocks, float]:
    """The cheapest coarsening of ``blocks`` (minimum block heights 1, 2, 4, ...)."""
    best, best_cost = blocks, _cost(blocks, n_samples, call_cost)
    min_rows = 2
    while min_rows <= blocks[-1][0].stop:
        cand = _coarsen(blocks, min_rows)
        cost = _cost(cand, n_samples, call_cost)
        if cost < best_cost:
            best, best_cost = cand, cost
        min_rows *= 2
    return best, best_cost


def _components(weights: np.ndarray) -> tuple[np.ndarray, np.ndarray, Blocks] | None:
    """Blocks hidden by channel order: the connected components of the bipartite graph of
    nonzeros. ``(row order, column order, blocks)`` or None when there is one component."""
    n_in, n_out = weights.shape
    rows, cols = np.nonzero(weights)
    if rows.shape[0] == 0:
        return None
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    n = n_in + n_out
    edges = coo_matrix((np.ones(rows.shape[0], dtype=np.int8), (rows, cols + n_in)),
                       shape=(n, n))
    count, label = connected_components(edges, directed=False)
    parts = []
    for c in range(count):
        members = np.flatnonzero(label == c)
        ins, outs = members[members < n_in], members[members >= n_in] - n_in
        if ins.shape[0] and outs.shape[0]:
            parts.append([ins, outs])
    if len(parts) <= 1:
        return None
    # Rows and columns without nonzeros belong to no component: the last block takes them.
    row_order = np.concatenate([p[0] for p in parts])
    col_order = np.concatenate([p[1] for p in parts])
    parts[-1][0] = np.concatenate([parts[-1][0], np.setdiff1d(np.arange(n_in), row_order)])
    parts[-1][1] = np.concatenate([parts[-1][1], np.setdiff1d(np.arange(n_out), col_order)])
    blocks: Blocks = []
    r = c = 0
    for ins, outs in parts:
        blocks.append((slice(r, r + ins.shape[0]), slice(c, c + outs.shape[0])))
        r, c = r + ins.shape[0], c + outs.shape[0]
    row_perm = np.concatenate([p[0] for p in parts]).astype(np.intp)
    col_perm = np.concatenate([p[1] for p in parts]).astype(np.intp)
    return row_perm, col_perm, blocks


def plan_block_matmul(
    weights: np.ndarray,
    n_samples: int,
    *,
    force: bool = False,
    dispatched: bool = False,
) -> BlockPlan | None:
    """A :class:`BlockPlan` for ``x @ weights`` with ``n_samples`` rows per chunk, or None
    for a dense product.

    ``force``: return blocks whenever there is any structure (tests, benchmarks).
    ``dispatched``: the backend's per-call cost is ``CALL_COST_MACS_DISPATCHED``.
    Blocks hidden by channel order are searched for only in matrices of at least
    ``PERMUTED_SEARCH_MIN_WEIGHTS`` weights (any size when forced)."""
    w = np.asarray(weights)
    if w.ndim != 2:
        return None
    n_in, n_out = w.shape
    call = CALL_COST_MACS_DISPATCHED if dispatched else CALL_COST_MACS
    dense = _cost([(slice(0, n_in), slice(0, n_out))], n_samples, call)
    blocks = contiguous_block_partition(w)
    if len(blocks) > 1:
        if force:
            return BlockPlan(tuple(blocks))
        best, cost = _cheapest(blocks, n_samples, call)
        if len(best) > 1 and cost < dense:
            return BlockPlan(tuple(best))
    if not force and n_in * n_out < PERMUTED_SEARCH_MIN_WEIGHTS:
        return None
    found = _components(w)
    if found is None:
        return None
    row_perm, col_perm, blocks = found
    best, cost = (blocks, 0.0) if force else _cheapest(blocks, n_samples, call)
    if len(best) <= 1:
        return None
    in_perm = None if np.array_equal(row_perm, np.arange(n_in)) else row_perm
    out_perm = None if np.array_equal(col_perm, np.arange(n_out)) else col_perm
    moved = (0 if in_perm is None else n_in) + (0 if out_perm is None else n_out)
    cost += n_samples * GATHER_COST_MACS * moved
    if not force and cost >= dense:
        return None
    return BlockPlan(tuple(best), in_perm, out_perm)
