import numpy as np
import pytest
from ezmsg.util.messages.axisarray import AxisArray, CoordinateAxis, LinearAxis
from scipy.signal import resample_poly

from ezmsg_sigproc_units.resample import (
    Resample,
    ResampleProcessor,
    ResampleSettings,
    ResampleTransformer,
    ResampleUnit,
    resample,
)
from ezmsg_sigproc_units.testing import (
    Backend,
    assert_chunked_equals_whole,
    assert_close,
    assert_pickle_resumes,
    random_partitions,
    split_message,
)


def _msg(data, dims=("time", "ch"), fs=1000.0, offset=0.5):
    return AxisArray(data, dims=list(dims), axes={"time": AxisArray.TimeAxis(fs=fs, offset=offset)})


def _emitted(n, up, down):
    half_len = 10 * max(up, down)
    return max(0, (n * up - 1 - half_len) // down + 1)


def _partitions(backend, n, seed=0):
    """Random partitions with empty and length-1 chunks. On NumPy: many, of any length; on
    the other backends one, of lengths drawn from a few values, because JAX compiles every op
    once per shape and would spend seconds on many distinct chunk lengths."""
    if backend.value == "numpy":
        return random_partitions(n, count=4, seed=seed, max_chunk=60)
    rng = np.random.default_rng(seed)
    lengths = [0, 1]
    while sum(lengths) < n:
        lengths.append(min(int(rng.choice([0, 1, 16])), n - sum(lengths)))
    return [lengths]


def _irregular(data, seed=0):
    t = 3.0 + np.cumsum(np.random.default_rng(seed).uniform(0.4e-3, 1.6e-3, data.shape[0]))
    return AxisArray(data, dims=["time", "ch"],
                     axes={"time": CoordinateAxis(data=t, dims=["time"], unit="s")}), t


@pytest.mark.parametrize("rate,up,down,time_last", [(250.0, 1, 4, False), (300.0, 3, 10, True)])
def test_polyphase_chunked_equals_resample_poly(backend, float_dtype, rate, up, down, time_last):
    n = 190 if backend.value == "numpy" else 110
    host = np.random.default_rng(up).standard_normal((n, 2, 2)).astype(float_dtype)
    ref = resample_poly(host.astype(np.float64), up, down, axis=0)[: _emitted(n, up, down)]
    dims = ("time", "a", "b")
    if time_last:
        host, ref, dims = (np.ascontiguousarray(np.moveaxis(host, 0, -1)),
                           np.moveaxis(ref, 0, -1), ("a", "b", "time"))
    assert_chunked_equals_whole(lambda: resample(rate), _msg(backend.asarray(host), dims),
                                reference=ref, partitions=_partitions(backend, n, up))


def test_upsampling_and_custom_window():
    host = np.random.default_rng(4).standard_normal((120, 3))
    ref = resample_poly(host, 5, 2, axis=0, window=("kaiser", 8.0))
    settings = ResampleSettings(resample_rate=250.0, window=("kaiser", 8.0))
    whole = ResampleTransformer(settings)(_msg(host, fs=100.0))
    n = _emitted(120, 5, 2)
    np.testing.assert_allclose(whole.data, ref[:n], rtol=1e-12, atol=1e-12)
    taps = np.hanning(33)
    settings = ResampleSettings(resample_rate=250.0, window=taps)
    assert isinstance(settings.window, tuple) and len(settings.window) == 33  # hashable
    out = ResampleTransformer(settings)(
        _msg(host, fs=100.0))
    ref = resample_poly(host, 5, 2, axis=0, window=taps)
    np.testing.assert_allclose(out.data, ref[: out.data.shape[0]], rtol=1e-12, atol=1e-12)
    assert out.data.shape[0] == max(0, (120 * 5 - 1 - 16) // 2 + 1)


def test_output_axis_and_emitted_counts():
    host = np.random.default_rng(5).standard_normal((300, 1))
    msg = _msg(host, offset=2.0)
    for lengths in random_partitions(300, count=4, seed=1):
        proc = resample(300.0)
        n_in = n_out = 0
        for chunk in split_message(msg, lengths):
            out = proc(chunk)
            ax = out.axes["time"]
            assert ax.gain == pytest.approx(1 / 300.0)
            assert ax.offset == pytest.approx(2.0 + n_out / 300.0)  # output n at t0 + n/rate
            n_in += chunk.data.shape[0]
            n_out += out.data.shape[0]
            assert n_out == _emitted(n_in, 3, 10)
    assert proc.state.latency == pytest.approx(100 / 3 / 1000.0)
    assert proc.state.method == "polyphase"


def test_irregular_timestamps_match_numpy_interp(backend, float_dtype):
    n = 120 if backend.value == "numpy" else 60
    host = np.random.default_rng(6).standard_normal((n, 2)).astype(float_dtype)
    msg, t = _irregular(backend.asarray(host))
    rate = 300.0
    tau = t[0] + np.arange(int(np.floor((t[-1] - t[0]) * rate)) + 1) / rate
    tau = tau[tau <= t[-1]]
    ref = np.stack([np.interp(tau, t, host[:, c].astype(np.float64)) for c in range(2)], 1)
    assert_chunked_equals_whole(lambda: resample(rate), msg, reference=ref,
                                partitions=_partitions(backend, n, 6))
    out = resample(rate)(msg)
    assert out.axes["time"].offset == pytest.approx(t[0])
    assert out.axes["time"].gain == pytest.approx(1 / rate)


def test_linear_on_regular_input_and_auto_fallback():
    host = np.random.default_rng(7).standard_normal((50, 2))
    t = 0.5 + np.arange(50) / 1000.0
    for settings in (ResampleSettings(resample_rate=300.0, method="linear"),
                     ResampleSettings(resample_rate=317.3)):  # not a small fraction
        proc = ResampleTransformer(settings)
        out = proc(_msg(host))
        assert proc.state.method == "linear"
        tau = 0.5 + np.arange(out.data.shape[0]) / settings.resample_rate
        assert tau[-1] <= t[-1] < tau[-1] + 1 / settings.resample_rate
        ref = np.stack([np.interp(tau, t, host[:, c]) for c in range(2)], 1)
        np.testing.assert_allclose(out.data, ref, rtol=1e-12, atol=1e-12)


def test_same_rate_is_identity():
    host = np.arange(10.0).reshape(5, 2)
    proc = resample(1000.0)
    out = proc(_msg(host))
    assert proc.state.method == "identity"
    np.testing.assert_array_equal(out.data, host)


@pytest.mark.parametrize("irregular", [False, True])
def test_pickle_resumes(backend, irregular):
    host = np.random.default_rng(8).standard_normal((150, 2)).astype("float32")
    msg = _irregular(backend.asarray(host))[0] if irregular else _msg(backend.asarray(host))
    assert_pickle_resumes(lambda: resample(250.0), msg, split_at=67)


def test_empty_first_chunks_and_integer_input(backend):
    proc = resample(250.0)
    out = proc(_msg(backend.asarray(np.zeros((0, 3), dtype="float32"))))
    assert tuple(out.data.shape) == (0, 3)
    out = proc(_msg(backend.asarray(np.zeros((0, 3), dtype="float32"))))
    assert tuple(out.data.shape) == (0, 3)
    ints = np.arange(300, dtype="int32").reshape(100, 3)
    out = resample(250.0)(_msg(backend.asarray(ints)))
    ref = resample_poly(ints.astype(np.float64), 1, 4, axis=0)[: _emitted(100, 1, 4)]
    dt = "float64" if backend.supports_float64() else "float32"
    assert_close(out.data, ref, xp=backend.xp, device=backend.device, dtype=dt, rtol=1e-5)


def test_rate_change_resets():
    host = np.random.default_rng(9).standard_normal((200, 1))
    proc = resample(250.0)
    proc(_msg(host[:100], fs=1000.0))
    out = proc(_msg(host[100:], fs=500.0, offset=7.0))  # 500 Hz -> 250 Hz: a new stream
    ref = resample_poly(host[100:], 1, 2, axis=0)[: _emitted(100, 1, 2)]
    np.testing.assert_allclose(out.data, ref, rtol=1e-12, atol=1e-12)
    assert out.axes["time"].offset == pytest.approx(7.0)


@pytest.mark.parametrize("kw,field", [
    (dict(resample_rate=0.0), "resample_rate"), (dict(resample_rate=-3.0), "resample_rate"),
    (dict(resample_rate=float("nan")), "resample_rate"), (dict(method="cubic"), "method"),
    (dict(max_factor=0), "max_factor"), (dict(window=3), "window"), (dict(axis=""), "axis"),
    (dict(max_chunk_delay=-1.0), "max_chunk_delay"), (dict(fill_value="bogus"), "fill_value"),
    (dict(fill_value=(0.0,)), "fill_value"), (dict(buffer_duration=-1.0), "buffer_duration"),
    (dict(buffer_update_strategy="sometimes"), "buffer_update_strategy"),
    (dict(output_reference="yes"), "output_reference"),
    (dict(reference_reset_after_chunks=-1), "reference_reset_after_chunks"),
    (dict(reference_reset_after_chunks=2.5), "reference_reset_after_chunks"),
])
def test_bad_settings(kw, field):
    with pytest.raises(ValueError, match=f"^{field}"):
        ResampleSettings(**kw)


def test_bad_input_names_the_field():
    host = np.zeros((10, 2))
    with pytest.raises(ValueError, match="^axis.*'time'"):
        resample(250.0, axis="time")(AxisArray(host, dims=["x", "y"]))
    with pytest.raises(ValueError, match="^axis"):
        resample(250.0)(AxisArray(host, dims=["time", "ch"]))  # no axis information
    with pytest.raises(ValueError, match="^method"):
        resample(250.0, method="polyphase")(_irregular(host)[0])
    with pytest.raises(ValueError, match="^resample_rate"):
        resample(317.3, method="polyphase")(_msg(host))
    with pytest.raises(ValueError, match="^window"):
        ResampleTransformer(ResampleSettings(resample_rate=250.0, window="nosuchwindow"))(
            _msg(host))
    bad = AxisArray(host, dims=["time", "ch"],
                    axes={"time": CoordinateAxis(data=np.r_[0.0, 1.0, 1.0, 2.0, 3.0, 4.0, 5.0,
                                                            6.0, 7.0, 8.0], dims=["time"])})
    with pytest.raises(ValueError, match="^axis.*increase"):
        resample(0.5)(bad)


def test_names():
    assert Resample is ResampleUnit and ResampleUnit.SETTINGS is ResampleSettings
    assert ResampleProcessor is ResampleTransformer
    assert isinstance(resample(250.0)(_msg(np.zeros((50, 1)))).axes["time"], LinearAxis)


def test_peer_settings_construct_in_its_order_and_do_not_change_the_output():
    # The peer's fields, positionally in its order: axis, resample_rate, max_chunk_delay,
    # fill_value, buffer_duration, buffer_update_strategy, output_reference,
    # reference_reset_after_chunks. In prescribed-rate mode none of them changes the numbers.
    host = np.random.default_rng(5).normal(size=(300, 2))
    base = resample(250.0)(_msg(host))
    for args in [(None, 250.0, 0.5, "last", 0.5, "on_demand", False, None),
                 (None, 250.0, float("inf"), (0.0, 1.0), 0.0, "threshold", True, 0),
                 (None, 250.0, None, np.nan, 2.0, "immediate", False, float("inf"))]:
        s = ResampleSettings(*args)
        assert s.reference_reset_after_chunks in (None, 0)
        out = ResampleTransformer(s)(_msg(host))
        np.testing.assert_array_equal(out.data, base.data)
    assert ResampleSettings(max_chunk_delay=float("inf")).max_chunk_delay is None
    with pytest.raises(TypeError):  # our own fields are keyword-only, after the peer's
        ResampleSettings(None, 250.0, None, "extrapolate", 2.0, "immediate", False, 3, "linear")


_Np = Backend.NUMPY


def _reference_run(backend, dtype, ref_t, fill_value="extrapolate",
                   ref_chunks=(3, 0, 1, 40, 20, 0, 200), sig_parts=(0, 1, 37, 5, 120, 0, 237),
                   x=None, linear_ref=None):
    """Feed a 400-sample 1 kHz signal (offset 0) in ``sig_parts`` chunks, each after a
    reference message of the next ``ref_chunks`` times; return (the outputs concatenated on
    the backend, their times, the processor)."""
    proc = ResampleTransformer(ResampleSettings(fill_value=fill_value))
    outs, times, r0, pos = [], [], 0, 0
    for k, n in enumerate(sig_parts):
        r1 = min(len(ref_t), r0 + ref_chunks[k % len(ref_chunks)])
        if linear_ref is None:
            axes = {"time": CoordinateAxis(data=ref_t[r0:r1], dims=["time"])}
        else:
            axes = {"time": AxisArray.TimeAxis(fs=1.0 / linear_ref, offset=ref_t[r0])}
        proc.push_reference(AxisArray(np.zeros((r1 - r0, 1)), dims=["time", "ch"], axes=axes))
        r0 = r1
        # what the signal so far already covers comes out at once (the Unit publishes it)
        drained = [proc.drain_reference()] if k % 2 else []
        msg = AxisArray(backend.asarray(x[pos:pos + n], dtype), dims=["time", "ch"],
                        axes={"time": AxisArray.TimeAxis(fs=1000.0, offset=pos / 1000.0)})
        for out in [d for d in drained if d is not None] + [proc(msg)]:
            if out.data.shape[0] == 0:  # an empty output still has the backend, device, dtype
                assert_close(out.data, np.zeros(out.data.shape), xp=backend.xp,
                             device=backend.device, dtype=getattr(backend.xp, dtype))
            ax = out.axes["time"]
            n_out = out.data.shape[0]
            t = ax.data if linear_ref is None else ax.offset + ax.gain * np.arange(n_out)
            outs.append(out.data)
            times.append(np.asarray(t, dtype=np.float64))
        pos += n
    xp = backend.xp
    return xp.concat(outs, axis=0), np.concatenate(times), proc


@pytest.mark.parametrize("fill_value", ["extrapolate", "last", 2.0])
def test_reference_mode_matches_interp1d(backend, float_dtype, fill_value):
    from scipy.interpolate import interp1d

    rng = np.random.default_rng(11)
    x = rng.normal(size=(400, 2))
    ref_t = np.sort(rng.uniform(-0.005, 0.45, 120))  # some before the signal, some after it
    y, t, _ = _reference_run(backend, float_dtype, ref_t, fill_value, x=x)
    expect_t = ref_t[ref_t <= 0.399]  # emitted once the signal reaches them, each once
    np.testing.assert_allclose(t, expect_t)
    t_sig = np.arange(400) / 1000.0
    fv = (x[0], x[-1]) if fill_value == "last" else fill_value
    ref = interp1d(t_sig, x, axis=0, bounds_error=False, fill_value=fv)(expect_t)
    assert_close(y, ref, xp=backend.xp, device=backend.device,
                 dtype=getattr(backend.xp, float_dtype))


def test_reference_mode_linear_reference_axis_and_bounded_buffer():
    rng = np.random.default_rng(12)
    x = rng.normal(size=(400, 1))
    ref_t = 0.0021 + 0.004 * np.arange(110)  # a 250 Hz LinearAxis reference
    y, t, proc = _reference_run(_Np, "float64", ref_t, x=x, linear_ref=0.004)
    np.testing.assert_allclose(t, ref_t[ref_t <= 0.399])
    np.testing.assert_allclose(y[:, 0], np.interp(t, np.arange(400) / 1000.0, x[:, 0]))
    assert proc.state.buf.shape[0] <= 4  # only the rows the next reference can need
    proc2 = ResampleTransformer(ResampleSettings(buffer_duration=0.05))
    for k in range(10):  # no reference at all: the buffer stays bounded by buffer_duration
        proc2(_msg(np.zeros((100, 1)), offset=k * 0.1))
    assert proc2.state.buf.shape[0] <= 51


def test_reference_clock_reset():
    x = np.random.default_rng(13).normal(size=(400, 1))
    proc = ResampleTransformer(ResampleSettings(reference_reset_after_chunks=2))

    def ref(times):
        proc.push_reference(AxisArray(np.zeros((len(times), 1)), dims=["time", "ch"],
                                      axes={"time": CoordinateAxis(np.asarray(times), ["time"])}))

    ref([0.05, 0.1, 0.15])
    assert proc(_msg(x[:200], offset=0.0)).data.shape[0] == 3
    ref([0.01, 0.02])  # behind the last output: skipped
    assert proc(_msg(x[200:210], offset=0.2)).data.shape[0] == 0
    with pytest.warns(RuntimeWarning, match="re-anchoring"):
        ref([0.03, 0.04])  # the second stale message: a clock reset
    out = proc(_msg(x[210:220], offset=0.21))
    np.testing.assert_allclose(out.axes["time"].data, [0.03, 0.04])
    assert {"INPUT_REFERENCE", "OUTPUT_REFERENCE"} <= set(dir(ResampleUnit))


def test_unit_publishes_only_outputs_with_samples_and_takes_references():
    import asyncio

    async def run(unit, steps):
        await unit.initialize()
        shapes = []
        for kind, msg in steps:
            if kind == "ref":
                async for _, out in unit.on_reference(msg):
                    shapes.append(("ref",) + tuple(out.data.shape))
                continue
            async for _, out in unit.on_signal(msg):
                shapes.append(tuple(out.data.shape))
        return shapes

    chunks = [np.ones((n, 2)) for n in (0, 3, 100, 1)]
    steps, pos = [], 0
    for c in chunks:
        steps.append(("sig", _msg(c, offset=pos / 1000.0)))
        pos += c.shape[0]
    # 1 kHz -> 250 Hz: the first three chunks complete no output, the 100-sample one does
    assert asyncio.run(run(ResampleUnit(ResampleSettings(resample_rate=250.0)), steps)) == \
        [(16, 2)]
    ref = AxisArray(np.zeros((2, 1)), dims=["time", "ch"],
                    axes={"time": CoordinateAxis(np.array([0.01, 0.05]), ["time"])})
    steps.insert(2, ("ref", ref))
    assert asyncio.run(run(ResampleUnit(ResampleSettings()), steps)) == [(2, 2)]
    # a reference the signal already covers is published when it arrives
    late = AxisArray(np.zeros((1, 1)), dims=["time", "ch"],
                     axes={"time": CoordinateAxis(np.array([0.08]), ["time"])})
    steps.append(("ref", late))
    assert asyncio.run(run(ResampleUnit(ResampleSettings()), steps)) == [(2, 2), ("ref", 1, 2)]
    # output_reference: the gathered reference of each output goes to OUTPUT_REFERENCE
    unit = ResampleUnit(ResampleSettings(output_reference=True))
    assert asyncio.run(run(unit, steps)) == [(2, 2), ("ref", 1, 2)]
    queued = [unit._references.get_nowait() for _ in range(unit._references.qsize())]
    assert [tuple(r.data.shape) for r in queued] == [(2, 1), (1, 1)]
    gen = unit.publish_reference()  # the publisher task yields them in order
    first = asyncio.run(_first(gen, unit, queued[0]))
    assert first[0] is unit.OUTPUT_REFERENCE and first[1] is queued[0]


async def _first(gen, unit, ref):
    unit._references.put_nowait(ref)
    return await gen.__anext__()


def test_output_reference_gathers_the_reference_rows_on_the_output_axis(backend, float_dtype):
    rng = np.random.default_rng(14)
    x, ref_t = rng.normal(size=(300, 2)), np.sort(rng.uniform(0.0, 0.35, 60))
    ref_d = rng.normal(size=(60, 3))
    proc = ResampleTransformer(ResampleSettings(output_reference=True))
    got_t, got_d = [], []

    def collect(out):
        ro = proc.state.reference_output
        if out is None or out.data.shape[0] == 0:
            assert ro is None
            return
        assert ro.dims == ["time", "ch"] and ro.data.shape == (out.data.shape[0], 3)
        np.testing.assert_array_equal(ro.axes["time"].data, out.axes["time"].data)
        got_t.append(ro.axes["time"].data)
        got_d.append(ro.data)

    for a, b, r0, r1 in [(0, 2, 0, 5), (2, 90, 5, 5), (90, 91, 5, 40), (91, 300, 40, 60)]:
        src = backend.asarray(ref_d[r0:r1], float_dtype)
        proc.push_reference(AxisArray(src, dims=["time", "ch"],
                                      axes={"time": CoordinateAxis(ref_t[r0:r1], ["time"])}))
        collect(proc.drain_reference())
        collect(proc(_msg(backend.asarray(x[a:b], float_dtype), offset=a / 1000.0)))
    done = ref_t <= 0.299
    np.testing.assert_array_equal(np.concatenate(got_t), ref_t[done])
    assert_close(backend.xp.concat(got_d, axis=0), ref_d[done], xp=backend.xp,
                 device=backend.device, dtype=getattr(backend.xp, float_dtype))
