"""learn.model.rnn.RNNModel against a hand-written recurrence from its own weights, and
learn.process.rnn (the hosted recurrent decoder)."""

import pytest

torch = pytest.importorskip("torch")

from ezmsg_sigproc_units.learn.model.rnn import RNNModel  # noqa: E402


def _lin(x, layer):
    return x @ layer.weight.T + layer.bias


def _cell_step(kind, x, h, c, w_ih, w_hh, b_ih, b_hh):
    gi, gh = x @ w_ih.T + b_ih, h @ w_hh.T + b_hh
    if kind == "GRU":
        ri, zi, ni = gi.chunk(3, -1)
        rh, zh, nh = gh.chunk(3, -1)
        r, z = torch.sigmoid(ri + rh), torch.sigmoid(zi + zh)
        n = torch.tanh(ni + r * nh)
        return (1 - z) * n + z * h, c
    if kind == "LSTM":
        i, f, g, o = (gi + gh).chunk(4, -1)
        c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
        return torch.sigmoid(o) * torch.tanh(c), c
    act = torch.relu if kind == "RNN-ReLU" else torch.tanh
    return act(gi + gh), c


def _rnn_by_hand(model, kind, x):
    z = _lin(x, model.linear_embeddings)
    n_layers, hidden = model.rnn.num_layers, model.rnn.hidden_size
    h_last, c_last = [], []
    for layer in range(n_layers):
        w = [getattr(model.rnn, f"{n}_l{layer}") for n in ("weight_ih", "weight_hh", "bias_ih",
                                                             "bias_hh")]
        h = torch.zeros(x.shape[0], hidden, dtype=x.dtype)
        c = torch.zeros_like(h)
        steps = []
        for t in range(x.shape[1]):
            h, c = _cell_step(kind, z[:, t], h, c, *w)
            steps.append(h)
        z = torch.stack(steps, 1)
        h_last.append(h)
        c_last.append(c)
    return {k: _lin(z, head) for k, head in model.heads.items()}, torch.stack(h_last)


@pytest.mark.parametrize("kind", ["GRU", "LSTM", "RNN-Tanh", "RNN-ReLU"])
def test_rnn_model_equals_hand_recurrence(kind):
    torch.manual_seed(0)
    model = RNNModel(4, 6, num_layers=2, output_size={"a": 3, "b": 1}, rnn_type=kind).eval()
    x = torch.randn(2, 7, 4)
    with torch.no_grad():
        got, hx = model(x)
        want, h_last = _rnn_by_hand(model, kind, x)
    assert set(got) == {"a", "b"}
    for k in want:
        torch.testing.assert_close(got[k], want[k], rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(hx[0] if kind == "LSTM" else hx, h_last, rtol=1e-5, atol=1e-6)


def test_rnn_model_defaults_state_and_config():
    torch.manual_seed(1)
    model = RNNModel(5, 8).eval()
    assert model.rnn_type == "GRU" and model.rnn.num_layers == 1
    assert model.heads["output"].out_features == 2 and model.dropout_input.p == 0.3
    assert model.init_hidden(3, "cpu").shape == (1, 3, 8)
    lstm = RNNModel(5, 8, num_layers=3, output_size={"x": 2, "y": 4}, rnn_type="LSTM")
    h, c = lstm.init_hidden(2, torch.device("cpu"))
    assert h.shape == c.shape == (3, 2, 8)
    assert RNNModel.infer_config_from_state_dict(lstm.state_dict(), "LSTM") == {
        "input_size": 5, "hidden_size": 8, "num_layers": 3, "output_size": {"x": 2, "y": 4}}
    # the state carries: two halves with the hidden state handed on == the whole sequence
    x = torch.randn(1, 10, 5)
    with torch.no_grad():
        whole, _ = model(x)
        a, hx = model(x[:, :4])
        b, _ = model(x[:, 4:], hx=hx)
    torch.testing.assert_close(torch.cat([a["output"], b["output"]], 1), whole["output"])
    # padded sequences packed by length: the padding does not change the valid steps
    lens = torch.tensor([10, 6])
    xb = torch.cat([x, torch.randn(1, 10, 5)], 0)
    with torch.no_grad():
        packed, _ = model(xb, input_lens=lens)
        short, _ = model(xb[1:, :6])
    torch.testing.assert_close(packed["output"][1, :6], short["output"][0])
    with pytest.raises(ValueError, match="rnn_type"):
        RNNModel(2, 2, rnn_type="Transformer")


# --- the hosted decoder (learn.process.rnn) ------------------------------------------------

import logging  # noqa: E402

import numpy as np  # noqa: E402
from ezmsg.util.messages.axisarray import AxisArray  # noqa: E402

from ezmsg_sigproc_units.learn.process.rnn import (  # noqa: E402
    RNNProcessor,
    RNNSettings,
    RNNUnit,
)
from ezmsg_sigproc_units.testing import (  # noqa: E402
    Backend,
    assert_chunked_equals_whole,
    assert_close,
    assert_pickle_resumes,
)
from ezmsg_sigproc_units.util.message import SampleTriggerMessage  # noqa: E402

N_IN, N_OUT, HIDDEN = 3, 2, 5


def _model(kind="GRU", seed=0, **kw):
    torch.manual_seed(seed)
    return RNNModel(N_IN, HIDDEN, output_size=N_OUT, dropout=0.0, rnn_type=kind, **kw).eval()


@pytest.fixture(scope="module")
def ckpt(tmp_path_factory):
    """A saved GRU (no dropout): every processor built from it has the same weights."""
    path = tmp_path_factory.mktemp("rnn") / "gru.pt"
    torch.save({"model_state_dict": _model().state_dict(),
                "config": {"dropout": 0.0, "rnn_type": "GRU"}}, path)
    return str(path)


def _proc(ckpt, **kw):
    kw.setdefault("loss_fn", torch.nn.MSELoss())
    return RNNProcessor(RNNSettings(checkpoint_path=ckpt, device="cpu", **kw))


def _msg(data, target=None, dims=("time", "ch"), axes=None):
    attrs = {}
    if target is not None:
        attrs["trigger"] = SampleTriggerMessage(timestamp=0.0, period=(0.0, 1.0), value=target)
    axes = axes if axes is not None else {"time": AxisArray.TimeAxis(fs=100.0)}
    return AxisArray(data, dims=list(dims), axes=axes, attrs=attrs)


def _signal(n=12, seed=1, batch=None):
    shape = (n, N_IN) if batch is None else (batch, n, N_IN)
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


def _direct(model, x, hx=None):
    with torch.no_grad():
        y, hx = model(torch.as_tensor(x).reshape(-1, *x.shape[-2:]), hx=hx)
    return y["output"].numpy().reshape(*x.shape[:-1], N_OUT), hx


def test_hosted_equals_direct_on_every_backend(backend, ckpt):
    x = _signal()
    want, _ = _direct(_model(), x)
    out = _proc(ckpt)(_msg(backend.asarray(x, "float32")))
    assert len(out) == 1 and out[0].key == "output" and out[0].dims == ["time", "ch"]
    assert list(out[0].axes["ch"].data) == ["output_ch0", "output_ch1"]
    assert_close(out[0].data, want, xp=backend.xp, device=backend.device, dtype="float32",
                 rtol=1e-5, atol=1e-6)


def test_hidden_state_carries_across_chunks(backend, ckpt):
    msg = _msg(backend.asarray(_signal(16), "float32"))

    def make():
        proc = _proc(ckpt)
        return lambda m: proc(m)[0]

    assert_chunked_equals_whole(make, msg, rtol=1e-5, atol=1e-6)


def test_lstm_chunks_and_pickle(tmp_path):
    path = tmp_path / "lstm.pt"
    torch.save({"model_state_dict": _model("LSTM").state_dict()}, path)

    def make():
        proc = RNNProcessor(RNNSettings(checkpoint_path=str(path),
                                        model_kwargs={"rnn_type": "LSTM"}))
        return lambda m: proc(m)[0]

    msg = _msg(_signal(10))
    want, _ = _direct(_model("LSTM"), msg.data)
    assert_chunked_equals_whole(make, msg, reference=want, rtol=1e-5, atol=1e-6,
                                partitions=[[0, 1, 4, 0, 5], [3, 3, 4]])

    class _First(RNNProcessor):
        def _process(self, message):
            return super()._process(message)[0]

    assert_pickle_resumes(lambda: _First(RNNSettings(checkpoint_path=str(path),
                                                     model_kwargs={"rnn_type": "LSTM"})),
                          msg, split_at=4, rtol=1e-6)


def _windows(gain, batch=3, n=4, seed=2, target=None):
    axes = {"win": AxisArray.LinearAxis(gain=gain), "time": AxisArray.TimeAxis(fs=100.0)}
    return _msg(_signal(n, seed, batch), target, dims=("win", "time", "ch"), axes=axes)


def test_reset_rules(ckpt):
    model = _model()
    x1, x2 = _signal(6, 3), _signal(5, 4)
    # preserve_state_across_windows=False: every message starts from a zero state
    proc = _proc(ckpt, preserve_state_across_windows=False)
    proc(_msg(x1))
    np.testing.assert_allclose(proc(_msg(x2))[0].data, _direct(model, x2)[0], rtol=1e-5,
                               atol=1e-6)
    # "auto", overlapping windows (stride 0.01 s < 4 samples at 100 Hz): independent windows
    proc = _proc(ckpt)
    proc(_msg(x1))
    over = _windows(0.01)
    np.testing.assert_allclose(proc(over)[0].data, _direct(model, over.data)[0], rtol=1e-5,
                               atol=1e-6)
    # "auto", windows that do not overlap: one sequence, carried window to window and on
    proc = _proc(ckpt)
    seq = _windows(0.04)
    got = proc(seq)[0].data
    after = proc(_msg(x2))[0].data
    whole, _ = _direct(model, np.concatenate([seq.data.reshape(-1, N_IN), x2]))
    np.testing.assert_allclose(np.concatenate([got.reshape(-1, N_OUT), after]), whole,
                               rtol=1e-5, atol=1e-6)
    # True: windows are always consecutive
    proc = _proc(ckpt, preserve_state_across_windows=True)
    np.testing.assert_allclose(proc(over)[0].data.reshape(-1, N_OUT),
                               _direct(model, over.data.reshape(-1, N_IN))[0], rtol=1e-5,
                               atol=1e-6)
    # reset_hidden(): back to a zero state
    proc.reset_hidden(1)
    np.testing.assert_allclose(proc(_msg(x2))[0].data, _direct(model, x2)[0], rtol=1e-5,
                               atol=1e-6)
    # "auto" without a 'win' axis: independent windows (ezmsg-learn's fallback)
    bare = _msg(over.data, dims=("win", "time", "ch"), axes={})
    proc = _proc(ckpt)
    for _ in range(2):
        np.testing.assert_allclose(proc(bare)[0].data, _direct(model, over.data)[0],
                                   rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="preserve_state_across_windows"):
        RNNSettings(preserve_state_across_windows="sometimes")


def _by_hand(model, pieces, lr=0.001, wd=0.0001, gamma=0.999, carry=False):
    """The optimiser steps of ``partial_fit`` written out: one AdamW step and one schedule
    step per piece (x, y), from a zero state, or from the previous piece's when ``carry``."""
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=wd)
    sched = torch.optim.lr_scheduler.ExponentialLR(opt, gamma=gamma)
    hx, losses = None, []
    model.train()
    for x, y in pieces:
        pred, h = model(torch.as_tensor(x)[None], hx=hx)
        loss = torch.nn.functional.mse_loss(pred["output"], torch.as_tensor(y)[None])
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        hx = h.detach() if carry else None
        losses.append(loss.item())
    model.eval()
    return losses


@pytest.mark.parametrize("split", [[12], [1, 5, 6], [4, 4, 4]])
@pytest.mark.parametrize("reset", [True, False])
def test_partial_fit_equals_steps_by_hand(ckpt, split, reset):
    x, y = _signal(12, 5), _signal(12, 6)[:, :N_OUT]
    proc = _proc(ckpt, reset_hidden_on_fit=reset)
    model = _model()
    edges = np.cumsum([0] + split)
    pieces = [(x[a:b], y[a:b]) for a, b in zip(edges[:-1], edges[1:], strict=True)]
    for xs, ys in pieces:
        proc.partial_fit(_msg(xs, ys))
    losses = _by_hand(model, pieces, carry=not reset)
    assert proc.state.n_steps == len(pieces)
    assert proc.state.last_loss == pytest.approx(losses[-1], rel=1e-5)
    for (k, a), b in zip(proc.state.model.state_dict().items(),
                         model.state_dict().values(), strict=True):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6, msg=k)
    x2 = _signal(4, 7)
    hx = None if reset else proc.state.hx
    np.testing.assert_allclose(proc(_msg(x2))[0].data, _direct(model, x2, hx)[0], rtol=1e-5,
                               atol=1e-6)


def test_partial_fit_windows(ckpt):
    """Non-overlapping windows: one step per window with the state carried; overlapping
    windows: one step on the batch from zero states."""
    y = _signal(4, 8, 3)[..., :N_OUT]
    seq = _windows(0.04, target=y)
    proc, model = _proc(ckpt), _model()
    proc.partial_fit(seq)
    _by_hand(model, list(zip(seq.data, y, strict=True)), carry=True)
    for a, b in zip(proc.state.model.parameters(), model.parameters(), strict=True):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6)
    over = _windows(0.01, target=y)
    proc, model = _proc(ckpt), _model()
    proc.partial_fit(over)
    opt = torch.optim.AdamW(model.parameters(), lr=0.001, weight_decay=0.0001)
    pred, _ = model(torch.as_tensor(over.data))
    loss = torch.nn.functional.mse_loss(pred["output"], torch.as_tensor(y))
    loss.backward()
    opt.step()
    for a, b in zip(proc.state.model.parameters(), model.parameters(), strict=True):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6)
    assert proc.state.hx.shape == (1, 3, HIDDEN)


def test_training_from_any_backend_and_cross_entropy(ckpt):
    backend = Backend.TORCH
    x = _signal(6)
    proc = _proc(ckpt, loss_fn=torch.nn.CrossEntropyLoss())
    labels = np.array([0, 1, 1, 0, 1, 0])
    proc.partial_fit(_msg(backend.asarray(x, "float32"), backend.asarray(labels)))
    model = _model()
    opt = torch.optim.AdamW(model.parameters(), lr=0.001, weight_decay=0.0001)
    pred, _ = model(torch.as_tensor(x)[None])
    torch.nn.functional.cross_entropy(pred["output"].permute(0, 2, 1),
                                      torch.as_tensor(labels)[None]).backward()
    opt.step()
    for a, b in zip(proc.state.model.parameters(), model.parameters(), strict=True):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6)
    # one class index for the whole sample: every time step
    proc2 = _proc(ckpt, loss_fn=torch.nn.CrossEntropyLoss())
    proc2.partial_fit(_msg(x, np.int64(1)))
    ref = _proc(ckpt, loss_fn=torch.nn.CrossEntropyLoss())
    ref.partial_fit(_msg(x, np.ones(6, np.int64)))
    assert proc2.state.last_loss == ref.state.last_loss
    # an AxisArray target, a dict keyed by head
    target = AxisArray(_signal(6, 9)[:, :N_OUT], dims=["time", "ch"])
    proc = _proc(ckpt)
    proc.partial_fit(_msg(x, {"output": target}))
    assert proc.state.n_steps == 1


def test_checkpoint_round_trip(ckpt, tmp_path):
    proc = _proc(ckpt)
    x = _signal(8)
    proc.partial_fit(_msg(x, x[:, :N_OUT]))
    path = str(tmp_path / "trained.pt")
    proc.save_checkpoint(path)
    # the peer's class path names this package's model; sizes come from the weights
    again = RNNProcessor(RNNSettings(model_class="ezmsg.learn.model.rnn.RNNModel",
                                     checkpoint_path=path))
    np.testing.assert_array_equal(again(_msg(x))[0].data, _proc(path)(_msg(x))[0].data)
    proc.reset_hidden(1)
    again.reset_hidden(1)
    np.testing.assert_array_equal(again(_msg(x))[0].data, proc(_msg(x))[0].data)
    assert isinstance(again.state.model, RNNModel)


def test_feature_count_mismatch_names_both_sizes(ckpt, caplog):
    with pytest.raises(ValueError, match=r"input_size=3.*has 4"):
        _proc(ckpt)(_msg(np.zeros((5, 4), np.float32)))
    proc = RNNProcessor(RNNSettings(model_kwargs={"input_size": 4, "hidden_size": 3}))
    with pytest.raises(ValueError, match=r"input_size=4.*has 3"):
        proc(_msg(_signal()))
    # an inferred size follows the data: rebuilt with one log line
    proc = RNNProcessor(RNNSettings(model_kwargs={"hidden_size": 3}))
    proc(_msg(_signal()))
    with caplog.at_level(logging.INFO, logger="ezmsg"):
        out = proc(_msg(np.zeros((2, 5), np.float32)))
    assert out[0].data.shape == (2, 2) and proc.state.n_input == 5
    with pytest.raises(ValueError, match="model_kwargs"):
        RNNSettings(model_kwargs={"hidden_size": 3, "n_hidden": 2})
    with pytest.raises(ValueError, match="model_class"):
        RNNSettings(model_class="no.such.Model")


def test_nan_policy(ckpt, caplog):
    x = _signal(6)
    bad = x.copy()
    bad[2, 1] = np.nan
    proc = _proc(ckpt, reset_hidden_on_fit=False)
    proc.partial_fit(_msg(bad, x[:, :N_OUT]))
    before = _model().state_dict()
    for k, v in proc.state.model.state_dict().items():
        torch.testing.assert_close(v, before[k], msg=k)
    assert proc.state.n_steps == 0 and torch.isfinite(proc.state.hx).all()
    proc.partial_fit(_msg(x, np.full((6, N_OUT), np.nan, np.float32)))
    assert proc.state.n_steps == 0
    assert "NaN" in caplog.text
    # decoding: NaN where the input is NaN; the state then starts again from zero
    proc = _proc(ckpt)
    first = proc(_msg(x))[0].data
    assert np.isnan(proc(_msg(bad))[0].data[2:]).all()
    np.testing.assert_array_equal(proc(_msg(x))[0].data, first)
    assert torch.isfinite(proc.state.hx).all()


def test_settings_defaults_and_unit():
    s = RNNSettings()
    assert s.model_class.endswith("learn.model.rnn.RNNModel")
    assert (s.reset_hidden_on_fit, s.preserve_state_across_windows) == (True, "auto")
    assert (s.learning_rate, s.weight_decay, s.scheduler_gamma) == (0.001, 0.0001, 0.999)
    from ezmsg.baseproc.units import get_base_adaptive_transformer_type

    assert get_base_adaptive_transformer_type(RNNUnit) is RNNProcessor
    assert RNNUnit.SETTINGS is RNNSettings
    unit = RNNUnit(RNNSettings(model_kwargs={"hidden_size": 4}))
    unit.create_processor()
    assert type(unit.processor) is RNNProcessor
    assert {"on_signal", "on_sample"} <= set(unit.__tasks__)
    with pytest.raises(ValueError, match="loss_fn"):
        RNNProcessor(RNNSettings()).partial_fit(_msg(_signal(), _signal()[:, :2]))


# --- a real ezmsg graph: training on INPUT_SAMPLE, the state carried on INPUT_SIGNAL --------

import asyncio  # noqa: E402
import pathlib  # noqa: E402
import pickle  # noqa: E402
import uuid  # noqa: E402

import ezmsg.core as ez  # noqa: E402


class _Feed(ez.Settings):
    out: str = ""


def _feed_messages():
    x, y = _signal(9, 11), _signal(3, 12)[:, :N_OUT]
    return [("sample", _msg(_signal(3, 13), y))] + [
        ("signal", m) for m in (_msg(x[:4]), _msg(x[4:5]), _msg(x[5:]))]


class _Feeder(ez.Unit):
    """A training sample, then (after it has had time to train) three consecutive chunks."""

    SETTINGS = _Feed
    SAMPLE = ez.OutputStream(AxisArray)
    SIGNAL = ez.OutputStream(AxisArray)

    @ez.publisher(SAMPLE)
    @ez.publisher(SIGNAL)
    async def feed(self):
        for i, (kind, msg) in enumerate(_feed_messages()):
            await asyncio.sleep(0.3 if i == 1 else 0.02)
            yield (self.SAMPLE if kind == "sample" else self.SIGNAL), msg


class _Collector(ez.Unit):
    SETTINGS = _Feed
    SIGNAL = ez.InputStream(AxisArray)
    SAMPLE = ez.InputStream(AxisArray)

    async def initialize(self) -> None:
        self.seen = {"sample": [], "signal": []}

    async def _seen(self, kind, msg) -> None:
        self.seen[kind].append(np.array(msg.data, copy=True))
        if len(self.seen["sample"]) == 1 and len(self.seen["signal"]) == 3:
            pathlib.Path(self.SETTINGS.out).write_bytes(pickle.dumps(self.seen))
            raise ez.NormalTermination

    @ez.subscriber(SIGNAL)
    async def on_signal(self, msg: AxisArray) -> None:
        await self._seen("signal", msg)

    @ez.subscriber(SAMPLE)
    async def on_sample(self, msg: AxisArray) -> None:
        await self._seen("sample", msg)


@pytest.mark.slow
def test_unit_trains_and_carries_state_in_a_graph(ckpt, tmp_path):
    from examples.common import Watchdog, WatchdogSettings
    from ezmsg_sigproc_units.testing.graph import free_port

    feed = _Feed(out=str(tmp_path / "seen.pkl"))
    src, sink = _Feeder(feed), _Collector(feed)
    unit = RNNUnit(RNNSettings(checkpoint_path=ckpt, loss_fn=torch.nn.MSELoss()))
    ez.run(components={"SRC": src, "RNN": unit, "SINK": sink,
                       "WATCHDOG": Watchdog(WatchdogSettings(seconds=20.0))},
           connections=((src.SAMPLE, unit.INPUT_SAMPLE), (src.SIGNAL, unit.INPUT_SIGNAL),
                        (unit.OUTPUT_SIGNAL, sink.SIGNAL), (unit.OUTPUT_SAMPLE, sink.SAMPLE)),
           root_name=f"RNN_{uuid.uuid4().hex[:8]}", graph_address=("127.0.0.1", free_port()),
           auto_start=True)
    seen = pickle.loads(pathlib.Path(feed.out).read_bytes())
    proc = _proc(ckpt)
    (_, sample), *signals = _feed_messages()
    np.testing.assert_allclose(seen["sample"][0], proc.partial_fit_transform(sample)[0].data,
                               rtol=1e-6)
    for got, (_, m) in zip(seen["signal"], signals, strict=True):
        np.testing.assert_allclose(got, proc(m)[0].data, rtol=1e-6)
