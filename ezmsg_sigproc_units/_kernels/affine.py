"""Matrix products along one axis: ``y = x @ W (+ b)``, dense or block-diagonal.

Shapes: ``x`` is any array whose channel axis is ``axis`` (length ``n_in``); the output has
``x``'s shape with ``n_out`` at ``axis``. ``W`` is ``(n_in, n_out)``; ``b`` is None or
``(1, n_out)``. All arrays share ``x``'s namespace, device and dtype. Stateless: no state
between chunks, so any split along another axis gives the same rows. Nothing is written
into an input.
"""

from __future__ import annotations

from typing import Any

from .._backend import is_numpy_namespace
from . import affine_numpy


def _to_last(xp: Any, x: Any, axis: int) -> tuple[Any, tuple[int, ...] | None]:
    """``x`` with ``axis`` moved last, and the permutation that undoes it (None: no move)."""
    nd = x.ndim
    if axis in (-1, nd - 1):
        return x, None
    order = [d for d in range(nd) if d != axis] + [axis]
    back = list(range(nd - 1))
    back.insert(axis, nd - 1)
    return xp.permute_dims(x, tuple(order)), tuple(back)


def column_blocks(xp: Any, weights: Any, n_samples: int) -> Any:
    """What :func:`affine` takes as ``col_blocks`` for chunks of about ``n_samples`` rows:
    on NumPy, contiguous column blocks of ``weights`` (see ``affine_numpy``); else None."""
    if is_numpy_namespace(xp):
        return affine_numpy.column_blocks(weights, n_samples)
    return None


def affine(xp: Any, x: Any, weights: Any, bias: Any, axis: int, col_blocks: Any = None) -> Any:
    """``x @ weights`` along ``axis``, plus ``bias`` (``(1, n_out)``) when given.
    ``col_blocks``: :func:`column_blocks` of ``weights`` (optional)."""
    x, back = _to_last(xp, x, axis)
    if is_numpy_namespace(xp):  # one BLAS thread per call, bias added in place
        y = affine_numpy.affine(x, weights, bias, col_blocks)
    else:
        y = x @ weights if bias is None else x @ weights + bias
    return y if back is None else xp.permute_dims(y, back)


def block_affine(xp: Any, x: Any, blocks: list[tuple[int, int, Any]], in_perm: Any,
                 out_order: Any, axis: int) -> Any:
    """Block-diagonal ``x @ W`` along ``axis``.

    ``blocks``: ``(start, stop, W_k)`` per block, in output order: ``W_k`` multiplies input
    channels ``start:stop`` (after ``in_perm``) and gives the block's outputs. ``in_perm``:
    None or an index array gathering the input channels into block order. ``out_order``:
    None or the index array that puts the concatenated block outputs in output order.
    """
    x, back = _to_last(xp, x, axis)
    if in_perm is not None:
        x = xp.take(x, in_perm, axis=x.ndim - 1)
    y = xp.concat([x[..., a:b] @ w for a, b, w in blocks], axis=-1)
    if out_order is not None:
        y = xp.take(y, out_order, axis=y.ndim - 1)
    return y if back is None else xp.permute_dims(y, back)


def split_blocks(xp: Any, weights: Any, blocks: list[tuple[int, int, Any]], in_perm: Any,
                 out_perm: Any) -> list[tuple[int, int, Any]]:
    """New ``(start, stop, W_k)`` blocks cut from a full ``(n_in, n_out)`` ``weights`` in the
    layout of ``blocks`` (rows gathered by ``in_perm``, columns by ``out_perm``; None: in
    order). Each ``W_k`` is a fresh array (no view keeps ``weights`` alive)."""
    if in_perm is not None:
        weights = xp.take(weights, in_perm, axis=0)
    if out_perm is not None:
        weights = xp.take(weights, out_perm, axis=1)
    out, col = [], 0
    for a, b, w in blocks:
        width = w.shape[1]
        out.append((a, b, weights[a:b, col:col + width] * 1.0))
        col += width
    return out
