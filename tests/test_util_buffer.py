"""util.buffer.HybridBuffer: random write/read/peek/seek sequences equal a NumPy reference
model on every backend; the overflow and update strategies; bounded memory."""

import warnings

import numpy as np
import pytest

from ezmsg_sigproc_units._backend import backend_name, device_of, to_host
from ezmsg_sigproc_units.util.buffer import HybridBuffer

CH = 3


class RefBuffer:
    """The buffer's contract spelled out on a NumPy history of every kept sample."""

    def __init__(self, capacity, update, overflow, threshold=0):
        self.cap, self.update, self.overflow, self.thr = capacity, update, overflow, threshold
        self.hist = np.zeros((0, CH), np.float32)
        self.head = self.unread = self.ring = self.queued = 0

    def write(self, x):
        if self.overflow == "raise" and self.queued + len(x) > self.cap:
            raise OverflowError
        self.hist = np.concatenate([self.hist, x])
        self.queued += len(x)
        surplus = self.queued - self.cap
        if surplus > 0 and self.overflow == "drop":
            self.hist, self.queued = self.hist[:-surplus], self.cap
        elif surplus > 0 and self.overflow == "warn-overwrite":
            self.flush()
        if self.update == "immediate" or (self.update == "threshold"
                                          and 0 < self.thr <= self.queued):
            self.flush()

    def flush(self):
        if not self.queued:
            return
        over = self.queued - (self.cap - self.unread)
        if over > 0 and self.overflow == "raise":
            raise OverflowError
        if over > 0 and self.overflow == "drop":
            self.hist, self.queued = self.hist[:-over], self.queued - over
        elif over > 0 and self.overflow == "warn-overwrite":
            self.head = len(self.hist) - self.cap  # the newest `cap` samples stay
            self.unread = self.cap - self.queued
        elif over > 0:
            self.cap = max(2 * self.cap, self.cap + self.queued)
        self.unread += self.queued
        self.ring = min(self.cap, self.ring + self.queued)
        self.queued = 0

    def available(self):
        return self.unread + self.queued

    def _take(self, n, advance):
        out = self.hist[self.head:self.head + n]
        if advance:
            self.head += n
            self.unread -= n
        return out

    def peek(self, n=None):
        n = self.available() if n is None else n
        if n > self.available():
            raise ValueError
        if self.queued and n > self.unread:
            self.flush()
        return self._take(min(n, self.unread), False)

    def read(self, n=None):
        n = self.available() if n is None else n
        if n > self.available():
            raise ValueError
        if self.queued and n > self.unread and self.available() > self.cap and self.unread:
            first = self._take(self.unread, True)  # the ring's samples, then flush
            self.flush()
            return np.concatenate([first, self._take(min(n - len(first), self.unread), True)])
        if self.queued and n > self.unread:
            self.flush()
        return self._take(min(n, self.unread), True)

    def seek(self, n):
        if self.queued and n > self.unread:
            self.flush()
        k = max(min(n, self.unread), -(self.ring - self.unread))
        self.head += k
        self.unread -= k
        return k


def _ops(seed, n_ops, sizes):
    rng = np.random.default_rng(seed)
    t = 0
    for _ in range(n_ops):
        k = rng.integers(0, 6)
        if k < 2:
            n = int(rng.choice(sizes))
            block = (np.arange(t, t + n, dtype=np.float32)[:, None]
                     + np.arange(CH, dtype=np.float32) / 10)
            t += n
            yield "write", block
        elif k < 5:
            lo = -4 if k == 4 else 0
            arg = None if k < 4 and rng.random() < 0.2 else int(rng.integers(lo, 9))
            yield ("read", "peek", "seek")[k - 2], arg
        else:
            yield "flush", None


def _run(backend, cfg, seed, n_ops, sizes, sample_axis):
    buf = HybridBuffer(backend.xp, cfg["capacity"], (CH,), backend.asarray(
        np.zeros(1, np.float32)).dtype, sample_axis=sample_axis,
                       update_strategy=cfg["update"], threshold=cfg.get("threshold", 0),
                       overflow_strategy=cfg["overflow"], device=backend.device)
    ref = RefBuffer(cfg["capacity"], cfg["update"], cfg["overflow"], cfg.get("threshold", 0))
    for op, arg in _ops(seed, n_ops, sizes):
        if op == "write":
            data = backend.asarray(arg if sample_axis == 0 else np.ascontiguousarray(arg.T))
            args = (data,), (arg,)
        else:
            args = ((arg,), (arg,)) if op != "flush" else ((), ())
        try:
            expected = getattr(ref, op)(*args[1])
        except (OverflowError, ValueError) as exc:
            with pytest.raises(type(exc)):
                getattr(buf, op)(*args[0])
            return
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            got = getattr(buf, op)(*args[0])
        if isinstance(expected, np.ndarray):
            assert backend_name(got) == backend_name(backend.xp)
            assert device_of(got) == device_of(backend.asarray(np.zeros(1)))
            host = to_host(got)
            np.testing.assert_array_equal(host if sample_axis == 0 else host.T, expected)
        else:
            assert got == expected
        assert buf.available() == ref.available()
        assert buf.tell() == ref.ring - ref.unread
        assert buf.capacity == ref.cap


CONFIGS = [
    {"capacity": 7, "update": "on_demand", "overflow": "grow"},
    {"capacity": 7, "update": "immediate", "overflow": "grow"},
    {"capacity": 7, "update": "threshold", "threshold": 4, "overflow": "grow"},
    {"capacity": 6, "update": "on_demand", "overflow": "warn-overwrite"},
    {"capacity": 6, "update": "immediate", "overflow": "warn-overwrite"},
    {"capacity": 6, "update": "on_demand", "overflow": "drop"},
    {"capacity": 6, "update": "immediate", "overflow": "drop"},
    {"capacity": 9, "update": "on_demand", "overflow": "raise"},
]


@pytest.mark.parametrize("cfg", CONFIGS, ids=lambda c: f"{c['update']}-{c['overflow']}")
def test_random_sequences_equal_the_reference_numpy(cfg):
    for seed in range(60):
        _run(_numpy(), cfg, seed, 40, [0, 1, 2, 3, 5, 8, 13], seed % 2)


@pytest.mark.parametrize("cfg", CONFIGS[::2], ids=lambda c: f"{c['update']}-{c['overflow']}")
def test_random_sequences_equal_the_reference(backend, cfg):
    for seed in range(4):
        _run(backend, cfg, seed, 30, [0, 1, 4], seed % 2)


def _numpy():
    from ezmsg_sigproc_units.testing import Backend

    return Backend.NUMPY


def _buf(capacity=5, **kw):
    return HybridBuffer(np, capacity, (2,), np.float32, **kw)


def _block(start, n):
    return np.repeat(np.arange(start, start + n, dtype=np.float32)[:, None], 2, axis=1)


def test_fifo_seek_back_and_tell():
    b = _buf(10)
    b.write(_block(0, 4))
    b.write(_block(4, 3))
    assert b.available() == 7 and b.tell() == 0
    np.testing.assert_array_equal(b.read(5)[:, 0], [0, 1, 2, 3, 4])
    assert b.tell() == 5 and b.seek(-3) == -3 and b.tell() == 2
    np.testing.assert_array_equal(b.peek()[:, 0], [2, 3, 4, 5, 6])
    assert b.seek(-10) == -2 and b.seek(100) == 7 and b.is_empty()
    assert b.read().shape == (0, 2)


def test_warn_overwrite_keeps_the_newest_and_warns_once():
    b = _buf(5, update_strategy="immediate", overflow_strategy="warn-overwrite")
    b.write(_block(0, 3))
    with pytest.warns(RuntimeWarning, match="Overwriting 2"):
        b.write(_block(3, 4))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        b.write(_block(7, 2))  # warn_once
    np.testing.assert_array_equal(b.read()[:, 0], [4, 5, 6, 7, 8])


def test_drop_keeps_the_oldest():
    b = _buf(5, overflow_strategy="drop")
    for k in range(0, 40, 4):  # never read: the queue stays bounded
        b.write(_block(k, 4))
        assert b.available() <= 5
    np.testing.assert_array_equal(b.read()[:, 0], [0, 1, 2, 3, 4])


def test_raise_on_write_and_on_flush():
    b = _buf(5, overflow_strategy="raise")
    with pytest.raises(OverflowError):
        b.write(_block(0, 6))
    b = _buf(5, update_strategy="immediate", overflow_strategy="raise")
    b.write(_block(0, 4))
    with pytest.raises(OverflowError):
        b.write(_block(4, 2))


def test_grow_doubles_within_max_size():
    b = _buf(4)
    b.write(_block(0, 5))
    b.flush()
    assert b.capacity == 9 and b.available() == 5
    b.write(_block(5, 10))
    b.flush()
    assert b.capacity == 19
    small = _buf(4, max_size=4 * 2 * 12)  # room for 12 samples
    for n, cap in [(5, 9), (4, 9), (1, 12)]:
        small.write(_block(0, n))
        small.flush()
        assert small.capacity == cap
    small.write(_block(0, 3))
    with pytest.raises(OverflowError, match="maximum capacity is 12"):
        small.flush()
    with pytest.raises(OverflowError, match="max_size"):
        _buf(4, max_size=16).write(_block(0, 3))


def test_threshold_flushes_when_enough_is_queued():
    b = _buf(3, update_strategy="threshold", threshold=3)
    b.write(_block(0, 2))
    assert not b.is_full()
    b.write(_block(2, 1))
    assert b.is_full()


def test_written_blocks_are_copied_and_cast():
    b = HybridBuffer(np, 8, (2,), np.float64)
    x = _block(0, 3)
    b.write(x)
    x[:] = -1
    out = b.read()
    assert out.dtype == np.float64
    np.testing.assert_array_equal(out[:, 0], [0, 1, 2])


def test_single_channel_accepts_1d_blocks():
    for axis in (0, 1):
        b = HybridBuffer(np, 8, (1,), np.float32, sample_axis=axis)
        b.write(np.arange(3, dtype=np.float32))
        assert b.peek().shape == ((3, 1) if axis == 0 else (1, 3))
    with pytest.raises(ValueError, match="other_shape"):
        _buf().write(np.zeros((2, 3), np.float32))


def test_peek_at_peek_last_and_out():
    b = _buf(8)
    b.write(_block(0, 3))
    b.write(_block(3, 2))
    assert b.peek_at(4)[0, 0] == 4 and b.peek_at(1, allow_flush=True)[0, 0] == 1
    assert b.peek_last()[0, 0] == 4
    out = np.full((6, 2), -1, np.float32)
    assert b.peek(4, out=out) is out and list(out[:, 0]) == [0, 1, 2, 3, -1, -1]
    with pytest.raises(IndexError):
        b.peek_at(5)
    with pytest.raises(ValueError):
        b.peek(6)
    b.read()
    with pytest.raises(IndexError):
        b.peek_last()


@pytest.mark.parametrize("field,kw", [("update_strategy", {"update_strategy": "x"}),
                                      ("overflow_strategy", {"overflow_strategy": "x"}),
                                      ("capacity", {"capacity": -1})])
def test_bad_arguments(field, kw):
    args = {"capacity": 4} | kw
    with pytest.raises(ValueError, match=f"^{field}"):
        HybridBuffer(np, other_shape=(2,), dtype=np.float32, **args)


@pytest.mark.parametrize("size", [1, 3, 50])
def test_memory_stays_bounded_by_capacity(size):
    b = _buf(10 if size < 10 else 60)
    cap = b.capacity
    for k in range(0, 300 * size, size):
        b.write(_block(k, size))
        b.read(min(b.available(), size + (k // size) % 2))
    stored = sum(c.shape[0] for c in b._store.chunks)
    assert b.capacity == cap and stored <= 2 * cap + 8 * size and len(b._store.chunks) <= 65


def test_pickle_mid_stream_resumes(backend):
    import pickle

    dtype = backend.asarray(np.zeros(1, np.float32)).dtype
    a = HybridBuffer(backend.xp, 6, (CH,), dtype, device=backend.device)
    host = np.arange(10 * CH, dtype=np.float32).reshape(10, CH)
    a.write(backend.asarray(host[:4]))
    a.read(3)
    a.write(backend.asarray(host[4:7]))
    b = pickle.loads(pickle.dumps(a))
    for buf in (a, b):
        buf.write(backend.asarray(host[7:]))
        assert buf.seek(-2) == -2
    np.testing.assert_array_equal(to_host(b.read()), to_host(a.read()))
    np.testing.assert_array_equal(to_host(b.read()), host[:0])
