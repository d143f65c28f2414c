import asyncio
import importlib.util
import pickle
import uuid

import ezmsg.core as ez
import numpy as np
import pytest
from ezmsg.util.messages.axisarray import AxisArray

from ezmsg_sigproc_units.learn.collection.sample_adapt_regressor import (
    DecodeOutputAdapterProcessor,
    DecodeOutputAdapterSettings,
    SampleAdaptRegressorSettings,
    build_sample_adapt_regressor,
)
from ezmsg_sigproc_units.learn.process.seqseqsampler import SeqSeqSampler
from ezmsg_sigproc_units.learn.util import AdaptiveLinearRegressor
from ezmsg_sigproc_units.resample import ResampleSettings, ResampleTransformer
from ezmsg_sigproc_units.testing import Backend, assert_close
from ezmsg_sigproc_units.util.message import SampleTriggerMessage

_PKG = "ezmsg_sigproc_units.learn.process"
_HAVE = {m: importlib.util.find_spec(f"{_PKG}.{m}") is not None
         for m in ("adaptive_linear_regressor", "refit_kalman")}
needs = {m: pytest.mark.skipif(not ok, reason=f"learn.process.{m} not written yet")
         for m, ok in _HAVE.items()}

FS = 50.0
W = np.array([[1.0, -1.0], [0.5, 2.0], [-2.0, 0.0], [0.0, 1.5]])


def _out(x, dims=("time", "state"), key="sig"):
    return AxisArray(x, dims=list(dims), key=key,
                     axes={"time": AxisArray.TimeAxis(fs=FS, offset=1.0)})


# ---------------------------------------------------------------- DecodeOutputAdapter
def test_adapter_every_backend(backend):
    host = np.arange(12.0).reshape(6, 2)
    out = DecodeOutputAdapterProcessor(DecodeOutputAdapterSettings(["vx", "vy"]))(
        _out(backend.asarray(host)))
    assert out.dims == ["time", "ch"] and out.key == "sig_pred" and out.stream_dim == "time"
    assert list(out.axes["ch"].data) == ["vx", "vy"]
    assert out.axes["time"].offset == 1.0
    assert_close(out.data, host, xp=backend.xp, device=backend.device, dtype="float64")
    ints = DecodeOutputAdapterProcessor(DecodeOutputAdapterSettings())(
        _out(backend.asarray(np.arange(12, dtype="int32").reshape(3, 2, 2)),
             dims=("time", "a", "b")))
    dt = "float64" if backend.supports_float64() else "float32"
    assert list(ints.axes["ch"].data) == ["ch0", "ch1", "ch2", "ch3"]
    assert_close(ints.data, np.arange(12.0).reshape(3, 4), xp=backend.xp, device=backend.device,
                 dtype=dt)


def test_adapter_bad_and_empty_outputs():
    proc = DecodeOutputAdapterProcessor(DecodeOutputAdapterSettings())
    assert proc(_out(np.zeros((0, 3)))) is None
    with pytest.raises(ValueError, match="'time' axis"):
        proc(AxisArray(np.zeros((2, 3)), dims=["win", "state"]))
    with pytest.raises(ValueError, match="output_labels: 3 labels do not divide"):
        DecodeOutputAdapterProcessor(DecodeOutputAdapterSettings(["a", "b", "c"]))(
            _out(np.zeros((2, 2))))
    one_d = DecodeOutputAdapterProcessor(DecodeOutputAdapterSettings())
    assert one_d(_out(np.zeros(3), dims=("time",))).data.shape == (1, 3)
    assert list(one_d(_out(np.zeros(2), dims=("time",))).axes["ch"].data) == ["ch0", "ch1"]
    with pytest.raises(ValueError, match="^output_labels"):
        DecodeOutputAdapterSettings(output_labels="vx")


# ------------------------------------------------------------------------- settings
def test_settings_defaults_and_validation():
    s = SampleAdaptRegressorSettings()
    assert (s.model_type, s.model_path, s.model_kwargs, s.steady_state, s.output_labels,
            s.resample_axis, s.resample_buffer_duration, s.sampler_max_buffer_dur,
            s.decode_window_dur, s.decode_window_shift) == (
        AdaptiveLinearRegressor.LINEAR, None, {}, True, None, None, 2.0, 5.0, None, None)
    assert s.model_class == "ezmsg.learn.model.mlp.MLP" and s.device is None
    with pytest.warns(FutureWarning, match="resample_axis"):
        SampleAdaptRegressorSettings(resample_axis="time")
    for name, bad in [("sampler_max_buffer_dur", 0), ("decode_window_dur", -1.0),
                      ("model_kwargs", [1]), ("model_type", 3)]:
        with pytest.raises(ValueError, match=f"^{name}"):
            SampleAdaptRegressorSettings(**{name: bad})
    assert pickle.loads(pickle.dumps(s)) == s
    assert SampleAdaptRegressorSettings(model_kwargs=None).model_kwargs == {}


def test_mlp_collection_wiring_and_decoding():
    """``model_type="mlp"``: our torch-hosted MLP (ezmsg-learn's default class path names it)
    and the output adapter; the two stages as wired decode a signal into ``(time, ch)``."""
    pytest.importorskip("torch")
    from ezmsg_sigproc_units.learn.process.torch import TorchModelProcessor, TorchModelUnit

    kwargs = {"hidden_size": [8], "output_heads": 2}
    coll = build_sample_adapt_regressor(SampleAdaptRegressorSettings(
        model_type="mlp", model_kwargs=kwargs, output_labels=["vx", "vy"]))
    assert set(coll.components) == {"REGRESSOR", "ADAPTER"}
    assert isinstance(coll.REGRESSOR, TorchModelUnit)
    assert _edges(coll) == {("INPUT_SIGNAL", "REGRESSOR.INPUT_SIGNAL"),
                            ("REGRESSOR.OUTPUT_SIGNAL", "ADAPTER.INPUT_SIGNAL"),
                            ("ADAPTER.OUTPUT_SIGNAL", "OUTPUT_SIGNAL")}
    coll.configure()
    assert coll.REGRESSOR.SETTINGS.model_class == "ezmsg.learn.model.mlp.MLP"
    model = TorchModelProcessor(coll.REGRESSOR.SETTINGS)
    adapter = DecodeOutputAdapterProcessor(coll.ADAPTER.SETTINGS)
    x = np.random.default_rng(0).standard_normal((5, 4)).astype(np.float32)
    out = model(AxisArray(x, dims=["time", "ch"],
                          axes={"time": AxisArray.TimeAxis(fs=100.0)}))
    outs = out if isinstance(out, list) else [out]
    decoded = adapter(outs[0])
    assert decoded.dims == ["time", "ch"] and decoded.data.shape == (5, 2)
    assert list(decoded.axes["ch"].data) == ["vx", "vy"]


def _edges(coll):
    """Network as (source, destination) address-suffix pairs (unit/stream names)."""
    names = {id(c): n for n, c in coll.components.items()}

    def name(stream):
        for n, c in coll.components.items():
            for sname, s in c.streams.items():
                if s is stream:
                    return f"{n}.{sname}"
        for sname, s in coll.streams.items():
            if s is stream:
                return sname
        raise AssertionError(f"unknown stream {stream!r} {names}")

    return {(name(a), name(b)) for a, b in coll.network()}


@needs["adaptive_linear_regressor"]
def test_linear_collection_wiring():
    coll = build_sample_adapt_regressor(SampleAdaptRegressorSettings(
        model_type="sgd", decode_window_dur=0.2, decode_window_shift=0.1))
    assert set(coll.components) == {"REGRESSOR", "WINDOW", "FLATTEN", "RESAMPLE",
                                    "SEQSEQSAMPLER"}
    assert _edges(coll) == {
        ("INPUT_LABELS", "RESAMPLE.INPUT_SIGNAL"), ("INPUT_SIGNAL", "RESAMPLE.INPUT_REFERENCE"),
        ("RESAMPLE.OUTPUT_SIGNAL", "SEQSEQSAMPLER.INPUT_VALUE"),
        ("INPUT_SIGNAL", "SEQSEQSAMPLER.INPUT_SIGNAL"),
        ("INPUT_TRIGGER", "SEQSEQSAMPLER.INPUT_TRIGGER"),
        ("SEQSEQSAMPLER.OUTPUT_SAMPLE", "REGRESSOR.INPUT_SAMPLE"),
        ("INPUT_SIGNAL", "WINDOW.INPUT_SIGNAL"), ("WINDOW.OUTPUT_SIGNAL", "FLATTEN.INPUT_SIGNAL"),
        ("FLATTEN.OUTPUT_SIGNAL", "REGRESSOR.INPUT_SIGNAL"),
        ("REGRESSOR.OUTPUT_SIGNAL", "OUTPUT_SIGNAL")}
    coll.configure()
    assert coll.REGRESSOR.SETTINGS.model_type == "sgd"
    assert coll.WINDOW.SETTINGS.zero_pad_until == "none"
    assert coll.FLATTEN.SETTINGS.sample_axis == "time"


@needs["refit_kalman"]
def test_kalman_collection_wiring():
    coll = build_sample_adapt_regressor(SampleAdaptRegressorSettings(
        model_type="kalman", output_labels=["vx", "vy"], steady_state=False))
    assert set(coll.components) == {"REGRESSOR", "ADAPTER"}
    assert _edges(coll) == {("INPUT_SIGNAL", "REGRESSOR.INPUT_SIGNAL"),
                            ("REGRESSOR.OUTPUT_SIGNAL", "ADAPTER.INPUT_SIGNAL"),
                            ("ADAPTER.OUTPUT_SIGNAL", "OUTPUT_SIGNAL")}
    coll.configure()
    assert coll.REGRESSOR.SETTINGS.steady_state is False
    assert coll.ADAPTER.SETTINGS.output_labels == ["vx", "vy"]


@needs["adaptive_linear_regressor"]
@pytest.mark.parametrize("backend", [Backend.NUMPY, Backend.ARRAY_API_STRICT_DEVICE1],
                         ids=lambda b: b.value)
def test_sample_path_trains_the_regressor_offline(backend):
    """The linear engine's sample path, stage by stage as the collection wires it: labels
    resampled onto the signal's times, paired per trigger, learned online; the regressor
    then decodes new signal with the labels' linear map."""
    from ezmsg_sigproc_units.learn.process.adaptive_linear_regressor import (
        AdaptiveLinearRegressorSettings,
        AdaptiveLinearRegressorTransformer,
    )

    rng = np.random.default_rng(0)
    n = 150
    x = rng.standard_normal((n, 4))
    y = x @ W
    if backend.unavailable_reason():
        pytest.skip(backend.unavailable_reason())
    resample = ResampleTransformer(ResampleSettings(max_chunk_delay=float("inf")))
    sampler = SeqSeqSampler(max_buffer_dur=5.0)
    reg = AdaptiveLinearRegressorTransformer(AdaptiveLinearRegressorSettings(model_type="linear"))
    for ts in np.arange(0.2, 2.4, 0.5):
        sampler.push_trigger(SampleTriggerMessage(timestamp=ts, period=(0.0, 0.4)))
    samples = []
    for a, b in [(0, 7), (7, 8), (8, 60), (60, 60), (60, n)]:
        tax = AxisArray.TimeAxis(fs=FS, offset=a / FS)
        sig = AxisArray(backend.asarray(x[a:b]), dims=["time", "ch"], axes={"time": tax})
        lab = AxisArray(backend.asarray(y[a:b]), dims=["time", "ch"], axes={"time": tax})
        resample.push_reference(sig)
        for out in (resample.drain_reference(), resample(lab)):
            if out is not None and out.data.shape[0]:
                samples += sampler.push_value(out)
        samples += sampler.push_signal(sig)
    assert len(samples) >= 4
    for s in samples:
        reg.partial_fit(s)
    test = AxisArray(backend.asarray(x[:5]), dims=["time", "ch"],
                     axes={"time": AxisArray.TimeAxis(fs=FS)})
    assert_close(reg(test).data, y[:5], xp=backend.xp, device=backend.device,
                 dtype="float64", rtol=1e-6, atol=1e-6)


# ------------------------------------------------------------------- a real ezmsg graph
T_TEST = 10.0  # test signal starts here (after the training part)


class _SourceSettings(ez.Settings):
    n: int = 150


class _Source(ez.Unit):
    """Labels, signal and triggers of a training part, then test signal from ``T_TEST`` s
    (rows 0, 5, 10, ... of the training signal again), one message every 50 ms."""

    SETTINGS = _SourceSettings
    SIGNAL = ez.OutputStream(AxisArray)
    LABELS = ez.OutputStream(AxisArray)
    TRIGGER = ez.OutputStream(SampleTriggerMessage)

    @ez.publisher(TRIGGER)
    async def triggers(self):
        for ts in np.arange(0.2, 2.4, 0.5):
            yield self.TRIGGER, SampleTriggerMessage(timestamp=float(ts), period=(0.0, 0.4))

    @ez.publisher(SIGNAL)
    @ez.publisher(LABELS)
    async def data(self):
        rng = np.random.default_rng(0)
        x = rng.standard_normal((self.SETTINGS.n, 4))
        await asyncio.sleep(0.2)  # the triggers first
        for a in range(0, self.SETTINGS.n, 10):
            tax = AxisArray.TimeAxis(fs=FS, offset=a / FS)
            yield self.LABELS, AxisArray(x[a:a + 10] @ W, dims=["time", "ch"],
                                         axes={"time": tax})
            yield self.SIGNAL, AxisArray(x[a:a + 10], dims=["time", "ch"], axes={"time": tax})
        for k in range(400):  # until the sink has its three (nothing is decoded untrained)
            await asyncio.sleep(0.05)
            tax = AxisArray.TimeAxis(fs=FS, offset=T_TEST + k * 5 / FS)
            rows = x[(5 * k) % 150:(5 * k) % 150 + 5]
            yield self.SIGNAL, AxisArray(rows, dims=["time", "ch"], axes={"time": tax})


class _SinkSettings(ez.Settings):
    path: str = ""


class _Sink(ez.Unit):
    """Keeps the decoded test messages; ends the run with the third."""

    SETTINGS = _SinkSettings
    INPUT = ez.InputStream(AxisArray)

    async def initialize(self) -> None:
        self.got = []

    @ez.subscriber(INPUT)
    async def on_msg(self, msg: AxisArray) -> None:
        if msg.axes["time"].offset >= T_TEST - 1e-9:
            k = round((msg.axes["time"].offset - T_TEST) * FS / 5)
            self.got.append((k, np.array(msg.data, copy=True)))
            if len(self.got) == 3:
                with open(self.SETTINGS.path, "wb") as f:
                    pickle.dump(self.got, f)
                raise ez.NormalTermination


@pytest.mark.slow
@needs["adaptive_linear_regressor"]
def test_linear_collection_learns_in_a_graph(tmp_path):
    from examples.common import Watchdog, WatchdogSettings
    from ezmsg_sigproc_units.testing.graph import free_port

    path = tmp_path / "out.pkl"
    coll = build_sample_adapt_regressor(SampleAdaptRegressorSettings(model_type="linear"))
    src, sink = _Source(), _Sink(_SinkSettings(path=str(path)))
    ez.run(components={"SRC": src, "DECODE": coll, "SINK": sink,
                       "WATCHDOG": Watchdog(WatchdogSettings(seconds=20.0))},
           connections=((src.SIGNAL, coll.INPUT_SIGNAL), (src.LABELS, coll.INPUT_LABELS),
                        (src.TRIGGER, coll.INPUT_TRIGGER), (coll.OUTPUT_SIGNAL, sink.INPUT)),
           root_name=f"SAR_{uuid.uuid4().hex[:8]}", graph_address=("127.0.0.1", free_port()),
           auto_start=True)
    assert path.exists(), "the decoded test messages never all arrived"
    x = np.random.default_rng(0).standard_normal((150, 4))
    for k, got in pickle.loads(path.read_bytes()):  # any decoded message: the exact map
        rows = x[(5 * k) % 150:(5 * k) % 150 + 5]
        np.testing.assert_allclose(got, rows @ W, rtol=1e-6, atol=1e-6)
