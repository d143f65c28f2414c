"""NormalStream: fixed-batch draws, so a stream does not depend on how it is cut."""

from __future__ import annotations

import pickle

import numpy as np

from ezmsg_sigproc_units import _backend
from ezmsg_sigproc_units.synth._stream import NormalStream


def _stream(backend, seed=3, batch=64):
    rng = _backend.DeviceRNG(backend.xp, backend.device, seed)
    return NormalStream(rng, 2, _backend.dtype_from_name(backend.xp, "float32"), batch=batch)


def test_any_cut_gives_the_same_numbers(backend):
    whole = _backend.to_host(_stream(backend).take(200))
    s = _stream(backend)
    parts = [_backend.to_host(s.take(n)) for n in (1, 63, 64, 5, 67)]  # crosses 3 batches
    np.testing.assert_array_equal(np.concatenate(parts), whole)
    assert whole.shape == (200, 2)


def test_pickled_mid_batch_resumes(backend):
    ref = _backend.to_host(_stream(backend).take(150))
    s = _stream(backend)
    head = _backend.to_host(s.take(70))
    clone = pickle.loads(pickle.dumps(s))
    np.testing.assert_array_equal(np.concatenate([head, _backend.to_host(clone.take(80))]), ref)


class _Unpicklable(_backend.DeviceRNG):
    def __reduce__(self):
        raise TypeError("cannot pickle this generator")


def test_generator_that_cannot_be_saved_still_streams():
    xp, dev = _backend.resolve("numpy")
    s = NormalStream(_Unpicklable(xp, dev, 1), 1, np.float64, batch=16)
    ref = np.random.default_rng(1).standard_normal((40, 1))
    np.testing.assert_array_equal(np.concatenate([s.take(10), s.take(30)]), ref)
    assert s._snapshot is None and s.__getstate__()["_batch"] is s._batch
