import numpy as np
import pytest

from ezmsg_sigproc_units.util.blockdiag import (
    CALL_COST_MACS,
    PERMUTED_SEARCH_MIN_WEIGHTS,
    WEIGHT_LOAD_SAMPLES,
    BlockPlan,
    contiguous_block_partition,
    plan_block_matmul,
)


def _blockdiag(sizes, seed=0):
    rng = np.random.default_rng(seed)
    n_in, n_out = sum(r for r, _ in sizes), sum(c for _, c in sizes)
    w = np.zeros((n_in, n_out))
    r = c = 0
    for h, wd in sizes:
        w[r:r + h, c:c + wd] = rng.uniform(0.5, 1.5, (h, wd))
        r, c = r + h, c + wd
    return w


def _check_tiling(w, blocks):
    """The blocks tile rows and columns in order and hold every nonzero."""
    n_in, n_out = w.shape
    assert blocks[0][0].start == 0 and blocks[0][1].start == 0
    assert blocks[-1][0].stop == n_in and blocks[-1][1].stop == n_out
    for (r0, c0), (r1, c1) in zip(blocks[:-1], blocks[1:], strict=True):
        assert r0.stop == r1.start and c0.stop == c1.start
    inside = np.zeros(w.shape, bool)
    for r, c in blocks:
        inside[r, c] = True
    assert not np.any((w != 0) & ~inside)


def test_partition_of_a_block_diagonal_matrix():
    w = _blockdiag([(2, 3), (3, 1), (1, 2)])
    blocks = contiguous_block_partition(w)
    assert blocks == [(slice(0, 2), slice(0, 3)), (slice(2, 5), slice(3, 4)),
                      (slice(5, 6), slice(4, 6))]
    _check_tiling(w, blocks)


def test_zero_rows_and_columns_join_a_neighbour():
    w = _blockdiag([(2, 2), (2, 2)])
    w = np.insert(w, 2, 0.0, axis=0)  # a zero row between the blocks
    w = np.insert(w, 0, 0.0, axis=0)  # a leading zero row
    w = np.insert(w, 4, 0.0, axis=1)  # a trailing zero column
    blocks = contiguous_block_partition(w)
    assert len(blocks) == 2
    _check_tiling(w, blocks)
    assert blocks[0][0] == slice(0, 4)  # leading and middle zero rows in the first block


@pytest.mark.parametrize("w", [np.ones((4, 3)), np.zeros((3, 3)), np.zeros((0, 2)),
                               np.eye(1)])
def test_no_structure_is_one_block(w):
    assert contiguous_block_partition(w) == [(slice(0, w.shape[0]), slice(0, w.shape[1]))]


def test_random_matrices_are_tiled_finely():
    rng = np.random.default_rng(5)
    for _ in range(200):
        sizes = [tuple(rng.integers(1, 4, 2)) for _ in range(rng.integers(1, 5))]
        w = _blockdiag(sizes, seed=int(rng.integers(1000)))
        blocks = contiguous_block_partition(w)
        _check_tiling(w, blocks)
        assert len(blocks) == (len(sizes) if len(sizes) > 1 else 1)


def test_plan_prefers_dense_for_few_channels_and_blocks_for_long_sparse_products():
    small = _blockdiag([(4, 4)] * 4)
    assert plan_block_matmul(small, 30) is None
    forced = plan_block_matmul(small, 30, force=True)
    assert isinstance(forced, BlockPlan) and forced.n_blocks == 4 and forced.in_perm is None
    big = _blockdiag([(64, 64)] * 16)  # 1024 channels in 16 banks
    plan = plan_block_matmul(big, 3000)
    assert plan is not None and plan.n_blocks > 1
    _check_tiling(big, list(plan.blocks))
    # the cost model: fewer, larger blocks for short chunks; heavier dispatch, fewer calls
    short = plan_block_matmul(big, 1)
    assert short is None or short.n_blocks <= plan.n_blocks
    dispatched = plan_block_matmul(big, 3000, dispatched=True)
    assert dispatched is None or dispatched.n_blocks <= plan.n_blocks


def test_plan_cost_model_constants():
    w = _blockdiag([(8, 8)] * 2)
    dense = (30 + WEIGHT_LOAD_SAMPLES) * 256 + CALL_COST_MACS
    blocks = (30 + WEIGHT_LOAD_SAMPLES) * 128 + 2 * CALL_COST_MACS
    assert blocks > dense and plan_block_matmul(w, 30) is None


def test_permuted_blocks_are_found_and_undone():
    rng = np.random.default_rng(2)
    w = _blockdiag([(3, 2), (2, 3), (1, 1)])
    rows, cols = rng.permutation(6), rng.permutation(6)
    shuffled = w[rows][:, cols]
    plan = plan_block_matmul(shuffled, 10, force=True)
    assert plan is not None and plan.n_blocks == 3
    in_perm = np.arange(6) if plan.in_perm is None else plan.in_perm
    out_perm = np.arange(6) if plan.out_perm is None else plan.out_perm
    _check_tiling(shuffled[in_perm][:, out_perm], list(plan.blocks))
    # small matrices are not searched unless forced
    assert shuffled.size < PERMUTED_SEARCH_MIN_WEIGHTS
    assert plan_block_matmul(shuffled, 10) is None


def test_plan_rejects_non_matrices():
    assert plan_block_matmul(np.ones(4), 10, force=True) is None
