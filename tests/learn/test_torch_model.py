"""``learn.process.torch``: a hosted model computes what the same ``nn.Module`` computes when
called directly, trains as the same optimiser steps run by hand, round-trips through
checkpoints, takes every CPU backend's input and answers in it, and rejects bad settings and
mismatched inputs clearly (issue 16)."""

from __future__ import annotations

import asyncio
import copy
import json
import logging
import pathlib
import pickle
import subprocess
import sys
import uuid

import ezmsg.core as ez
import numpy as np
import pytest
from ezmsg.util.messages.axisarray import AxisArray

from ezmsg_sigproc_units.testing import Backend, assert_chunked_equals_whole, assert_close
from ezmsg_sigproc_units.util.message import SampleTriggerMessage

torch = pytest.importorskip("torch")

from ezmsg_sigproc_units.learn.process.base import ModelInitMixin  # noqa: E402
from ezmsg_sigproc_units.learn.process.torch import (  # noqa: E402
    TorchModelProcessor,
    TorchModelSettings,
    TorchModelUnit,
    TorchProcessorMixin,
    TorchSimpleProcessor,
    TorchSimpleSettings,
    TorchSimpleUnit,
)

MLP = "ezmsg_sigproc_units.learn.model.mlp.MLP"
KW = {"hidden_size": [6, 5], "output_heads": {"a": 2, "b": 3},
      "activation_layer": "torch.nn.Tanh"}


def _msg(backend, host, target=None, dtype=None):
    attrs = {}
    if target is not None:
        attrs["trigger"] = SampleTriggerMessage(timestamp=0.0, period=(0.0, 1.0), value=target)
    ch = AxisArray.CoordinateAxis(data=np.array([f"f{i}" for i in range(host.shape[-1])]),
                                  dims=["ch"])
    return AxisArray(backend.asarray(host, dtype), dims=["time", "ch"],
                     axes={"time": AxisArray.TimeAxis(fs=10.0), "ch": ch}, attrs=attrs,
                     key="sig")


def _data(n=12, p=4, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, p)).astype(np.float32)
    return x, {"a": rng.standard_normal((n, 2)).astype(np.float32),
               "b": rng.standard_normal((n, 3)).astype(np.float32)}


def _model_settings(**kw):
    base = dict(model_class=MLP, model_kwargs=dict(KW), loss_fn=torch.nn.MSELoss(),
                learning_rate=0.01, scheduler_gamma=0.9)
    base.update(kw)
    return TorchModelSettings(**base)


def test_outputs_equal_the_module_called_directly(backend):
    torch.manual_seed(0)
    x, _ = _data()
    msg = _msg(backend, x)
    proc = TorchModelProcessor(_model_settings())
    outs = proc(msg)
    assert [o.key for o in outs] == ["a", "b"]
    with torch.no_grad():
        want = proc.state.model(torch.from_numpy(x)[None])
    for out, head in zip(outs, ("a", "b"), strict=True):
        assert out.dims == ["time", "ch"] and out.axes["time"] is msg.axes["time"]
        assert list(out.axes["ch"].data) == [f"{head}_ch{i}" for i in range(want[head].shape[-1])]
        assert_close(out.data, want[head][0].numpy(), xp=backend.xp, device=backend.device,
                     dtype=msg.data.dtype, rtol=1e-6)


def test_chunked_equals_whole_and_empty_samples(backend):
    """Each sample is decoded on its own: any chunking (empty and 1-sample chunks included)
    gives the whole message's outputs; an empty training sample changes nothing."""
    x, y = _data()

    def make():
        torch.manual_seed(0)
        proc = TorchModelProcessor(_model_settings())
        return lambda m: proc(m)[1]

    assert_chunked_equals_whole(make, _msg(backend, x), rtol=1e-6)
    proc = TorchModelProcessor(_model_settings())
    proc.partial_fit(_msg(backend, x[:0], target={k: v[:0] for k, v in y.items()}))
    assert proc.state.scheduler.last_epoch == 0


def test_float64_input_and_double_precision():
    torch.manual_seed(0)
    x, _ = _data()
    msg = _msg(Backend.NUMPY, x.astype(np.float64))
    single = TorchSimpleProcessor(TorchSimpleSettings(model_class=MLP, model_kwargs=dict(KW)))
    out = single(msg)[0]
    assert out.data.dtype == np.float64  # the input's dtype, computed in float32
    double = TorchSimpleProcessor(TorchSimpleSettings(model_class=MLP, model_kwargs=dict(KW),
                                                      single_precision=False))
    double(msg)
    assert next(double.state.model.parameters()).dtype == torch.float64
    with torch.no_grad():
        want = double.state.model(torch.from_numpy(msg.data)[None])["a"][0].numpy()
    np.testing.assert_allclose(double(msg)[0].data, want, rtol=1e-12)


def test_batched_input_and_single_output_tensor():
    """(batch, time, ch) data goes through as is; a model returning one tensor keeps the key."""
    x = np.random.default_rng(1).standard_normal((2, 5, 3)).astype(np.float32)
    msg = AxisArray(x, dims=["batch", "time", "ch"], key="k")
    proc = TorchSimpleProcessor(TorchSimpleSettings(
        model_class="torch.nn.Linear", model_kwargs={"in_features": 3, "out_features": 2}))
    (out,) = proc(msg)
    assert out.key == "k" and out.data.shape == (2, 5, 2)
    with torch.no_grad():
        np.testing.assert_allclose(out.data, proc.state.model(torch.from_numpy(x)).numpy())


def _train_by_hand(model, batches, lr, gamma, wd=1e-4):
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=wd)
    sched = torch.optim.lr_scheduler.ExponentialLR(opt, gamma=gamma)
    for xb, yb in batches:
        model.train()
        pred = model(torch.from_numpy(xb)[None])
        loss = sum(torch.nn.functional.mse_loss(pred[k], torch.from_numpy(v)[None])
                   for k, v in yb.items())
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
    model.eval()
    return model


@pytest.mark.parametrize("splits", [[12], [1, 4, 7], [5, 1, 1, 5]])
def test_training_equals_the_same_steps_by_hand(splits):
    torch.manual_seed(0)
    x, y = _data()
    proc = TorchModelProcessor(_model_settings())
    proc(_msg(Backend.NUMPY, x))  # builds the model
    ref = copy.deepcopy(proc.state.model)
    batches, i = [], 0
    for n in splits:
        batches.append((x[i:i + n], {k: v[i:i + n] for k, v in y.items()}))
        i += n
    for xb, yb in batches:
        proc.partial_fit(_msg(Backend.NUMPY, xb, target=yb))
    _train_by_hand(ref, batches, lr=0.01, gamma=0.9)
    for (name, got), want in zip(proc.state.model.state_dict().items(),
                                 ref.state_dict().values(), strict=True):
        torch.testing.assert_close(got, want, rtol=1e-6, atol=1e-7, msg=name)
    assert proc.state.scheduler.get_last_lr()[0] == pytest.approx(0.01 * 0.9 ** len(splits))


def test_training_from_every_backend_equals_numpy(backend):
    torch.manual_seed(0)
    x, y = _data()
    procs = []
    for b in (Backend.NUMPY, backend):
        torch.manual_seed(0)
        p = TorchModelProcessor(_model_settings())
        target = {k: b.asarray(v) for k, v in y.items()}
        p.partial_fit(_msg(b, x, target=target))  # partial_fit first builds the model
        procs.append(p)
    for got, want in zip(procs[1].state.model.parameters(), procs[0].state.model.parameters(),
                         strict=True):
        torch.testing.assert_close(got, want)


def test_partial_fit_transform_and_cross_entropy():
    torch.manual_seed(0)
    x, _ = _data()
    labels = (x[:, 0] > 0).astype(np.int64)
    proc = TorchModelProcessor(TorchModelSettings(
        model_class=MLP, model_kwargs={"hidden_size": 8, "num_layers": 1, "output_heads": 2,
                      "activation_layer": "torch.nn.ReLU"},
        loss_fn=torch.nn.CrossEntropyLoss(), learning_rate=0.05))
    first = None
    for _ in range(30):
        outs = proc.partial_fit_transform(_msg(Backend.NUMPY, x, target=labels))
        loss = torch.nn.functional.cross_entropy(torch.from_numpy(outs[0].data),
                                                 torch.from_numpy(labels))
        first = first if first is not None else float(loss)
    assert float(loss) < first


def test_checkpoint_round_trip(tmp_path):
    torch.manual_seed(0)
    x, y = _data()
    proc = TorchModelProcessor(_model_settings())
    proc.partial_fit(_msg(Backend.NUMPY, x, target=y))
    path = str(tmp_path / "ck.pt")
    proc.save_checkpoint(path)
    want = proc(_msg(Backend.NUMPY, x))
    # the config and the weights' sizes come from the checkpoint: no model_kwargs needed
    loaded = TorchSimpleProcessor(TorchSimpleSettings(model_class=MLP, checkpoint_path=path,
                                                      model_kwargs={"activation_layer":
                                                                    "torch.nn.Tanh"}))
    got = loaded(_msg(Backend.NUMPY, x))
    for g, w in zip(got, want, strict=True):
        np.testing.assert_array_equal(g.data, w.data)
    assert loaded.state.input_fixed
    with pytest.raises(ValueError, match=r"input_size=4.*has 3"):
        loaded(_msg(Backend.NUMPY, x[:, :3]))


def test_config_file_overrides_settings(tmp_path, caplog):
    cfg = tmp_path / "cfg.json"
    cfg.write_text(json.dumps({"model_params": {"hidden_size": [3], "output_heads": 1,
                                                    "activation_layer": "torch.nn.Tanh"}}))
    proc = TorchSimpleProcessor(TorchSimpleSettings(model_class=MLP, config_path=str(cfg),
                                                    model_kwargs={"hidden_size": [9]}))
    with caplog.at_level(logging.WARNING, logger="ezmsg"):
        (out,) = proc(_msg(Backend.NUMPY, _data()[0]))
    assert out.data.shape == (12, 1) and "hidden_size" in caplog.text


def test_bad_settings_fail_at_construction():
    with pytest.raises(ValueError, match="model_class"):
        TorchModelSettings(model_class="no_such_package.Model")
    with pytest.raises(ValueError, match="model_class"):
        TorchSimpleSettings(model_class="numpy.ndarray")  # not an nn.Module
    with pytest.raises(ValueError, match=r"model_kwargs.*\['hidden_sise'\]"):
        TorchModelProcessor(TorchModelSettings(model_class=MLP,
                                               model_kwargs={"hidden_sise": 4}))
    with pytest.raises(ValueError, match="learning_rate"):
        _model_settings(learning_rate=float("nan"))
    with pytest.raises(ValueError, match="loss_fn"):
        _model_settings(loss_fn="mse")
    with pytest.raises(ValueError, match="device"):
        _model_settings(device="no-such-device")


def test_ezmsg_learn_class_paths_name_our_models():
    s = TorchSimpleSettings(model_class="ezmsg.learn.model.mlp.MLP",
                            model_kwargs={"hidden_size": [3], "output_heads": 2,
                                          "activation_layer": "torch.nn.Tanh"})
    proc = TorchSimpleProcessor(s)
    proc(_msg(Backend.NUMPY, _data()[0]))
    assert type(proc.state.model).__module__ == "ezmsg_sigproc_units.learn.model.mlp"


def test_feature_count_mismatch_names_both_sizes():
    x, _ = _data()
    kw = dict(KW, input_size=5)
    proc = TorchModelProcessor(_model_settings(model_kwargs=kw))
    with pytest.raises(ValueError, match=r"input_size=5.*has 4"):
        proc(_msg(Backend.NUMPY, x))
    plain = TorchSimpleProcessor(TorchSimpleSettings(
        model_class="torch.nn.Linear", model_kwargs={"in_features": 5, "out_features": 2}))
    with pytest.raises(ValueError, match="does not take 4 features"):
        plain(_msg(Backend.NUMPY, x))


def test_feature_count_change_rebuilds_a_data_sized_model(caplog):
    x, _ = _data()
    proc = TorchModelProcessor(_model_settings())
    proc(_msg(Backend.NUMPY, x))
    with caplog.at_level(logging.INFO, logger="ezmsg"):
        outs = proc(_msg(Backend.NUMPY, np.ones((3, 6), dtype=np.float32)))
    assert proc.state.n_input == 6 and outs[0].data.shape == (3, 2)
    assert "from 4 to 6" in caplog.text


def test_nan_samples_never_reach_the_weights(caplog):
    torch.manual_seed(0)
    x, y = _data()
    proc = TorchModelProcessor(_model_settings())
    proc(_msg(Backend.NUMPY, x))
    before = copy.deepcopy(proc.state.model.state_dict())
    bad_x = x.copy()
    bad_x[3, 1] = np.nan
    bad_y = {k: v.copy() for k, v in y.items()}
    bad_y["b"][0, 0] = np.inf
    with caplog.at_level(logging.WARNING, logger="ezmsg"):
        proc.partial_fit(_msg(Backend.NUMPY, bad_x, target=y))
        proc.partial_fit(_msg(Backend.NUMPY, x, target=bad_y))
    for k, v in proc.state.model.state_dict().items():
        torch.testing.assert_close(v, before[k])
    assert "skipped" in caplog.text
    out = proc(_msg(Backend.NUMPY, bad_x))[0].data  # inference: NaN in, NaN out, that row only
    assert np.isnan(out[3]).all() and np.isfinite(np.delete(out, 3, axis=0)).all()
    proc.partial_fit(_msg(Backend.NUMPY, x, target=y))  # finite samples still train
    assert not torch.equal(proc.state.model.heads["a"].weight, before["heads.a.weight"])


def test_input_is_not_mutated_nor_aliased():
    x, y = _data()
    msg = _msg(Backend.NUMPY, x, target=y)
    keep = x.copy()
    proc = TorchModelProcessor(_model_settings())
    outs = proc.partial_fit_transform(msg)
    np.testing.assert_array_equal(msg.data, keep)
    assert not any(np.shares_memory(o.data, msg.data) for o in outs)


def test_pickled_processor_resumes():
    torch.manual_seed(0)
    x, y = _data()
    proc = TorchModelProcessor(_model_settings())
    proc.partial_fit(_msg(Backend.NUMPY, x[:6], target={k: v[:6] for k, v in y.items()}))
    clone = pickle.loads(pickle.dumps(proc))
    for p in (proc, clone):
        p.partial_fit(_msg(Backend.NUMPY, x[6:], target={k: v[6:] for k, v in y.items()}))
    for a, b in zip(proc(_msg(Backend.NUMPY, x)), clone(_msg(Backend.NUMPY, x)), strict=True):
        np.testing.assert_array_equal(a.data, b.data)


def test_partial_fit_needs_a_loss_and_a_target():
    x, y = _data()
    proc = TorchModelProcessor(TorchModelSettings(model_class=MLP, model_kwargs=dict(KW)))
    with pytest.raises(ValueError, match="loss_fn"):
        proc.partial_fit(_msg(Backend.NUMPY, x, target=y))
    with pytest.raises(ValueError, match="trigger"):
        TorchModelProcessor(_model_settings()).partial_fit(_msg(Backend.NUMPY, x))


def test_public_api_shape():
    assert issubclass(TorchModelProcessor, TorchProcessorMixin)
    assert issubclass(TorchModelProcessor, ModelInitMixin)
    assert TorchSimpleUnit.SETTINGS is TorchSimpleSettings
    assert TorchModelUnit.SETTINGS is TorchModelSettings
    assert [f for f in TorchModelSettings.__dataclass_fields__][:6] == [
        "model_class", "checkpoint_path", "config_path", "single_precision", "device",
        "model_kwargs"]


def test_importing_without_torch_names_the_extra():
    # every module of ezmsg-learn's torch family (the API data lists them)
    family = json.loads((pathlib.Path(__file__).parents[1] / "data" / "peer_api_learn.json")
                        .read_text())["torch_modules"]
    mods = [f"ezmsg_sigproc_units.learn.{m}" for m in family]
    assert len(mods) >= 10 and "ezmsg_sigproc_units.learn.process.rnn" in mods
    code = ("import sys, importlib\nsys.modules['torch'] = None\nbad = []\n"
            f"for m in {mods!r}:\n"
            "    try:\n        importlib.import_module(m)\n        bad.append(m)\n"
            "    except ImportError as e:\n"
            "        if \"ezmsg-sigproc-units[torch]\" not in str(e): bad.append((m, str(e)))\n"
            "print(bad)\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60)
    assert done.stdout.strip() == "[]", done.stdout + done.stderr[-1500:]


# ------------------------------------------------------------------- a real ezmsg graph
class _GraphSettings(ez.Settings):
    path: str = ""


def _graph_data():
    x, y = _data()
    sample = _msg(Backend.NUMPY, x[:6], target={k: v[:6] for k, v in y.items()})
    return sample, [_msg(Backend.NUMPY, x[6 + 2 * k:8 + 2 * k]) for k in range(3)]


class _Source(ez.Unit):
    """One training sample, then (0.3 s later, so it has trained) three signal messages."""

    SAMPLE = ez.OutputStream(AxisArray)
    SIGNAL = ez.OutputStream(AxisArray)

    @ez.publisher(SAMPLE)
    @ez.publisher(SIGNAL)
    async def emit(self):
        sample, signals = _graph_data()
        for delay, stream, msg in [(0.0, self.SAMPLE, sample),
                                   *[(0.3 if i == 0 else 0.05, self.SIGNAL, m)
                                     for i, m in enumerate(signals)]]:
            await asyncio.sleep(delay)
            yield stream, msg


class _Sink(ez.Unit):
    SETTINGS = _GraphSettings
    SIGNAL = ez.InputStream(AxisArray)
    SAMPLE = ez.InputStream(AxisArray)

    async def initialize(self) -> None:
        self.got = []

    async def _keep(self, stream: str, msg: AxisArray) -> None:
        self.got.append((stream, msg.key, np.array(msg.data, copy=True)))
        if len(self.got) == 8:  # two heads for the sample and for each of three signals
            with open(self.SETTINGS.path, "wb") as f:
                pickle.dump(self.got, f)
            raise ez.NormalTermination

    @ez.subscriber(SIGNAL)
    async def on_signal(self, msg: AxisArray) -> None:
        await self._keep("signal", msg)

    @ez.subscriber(SAMPLE)
    async def on_sample(self, msg: AxisArray) -> None:
        await self._keep("sample", msg)


@pytest.mark.slow
def test_unit_publishes_every_head_and_learns_in_a_graph(tmp_path):
    from examples.common import Watchdog, WatchdogSettings
    from ezmsg_sigproc_units.testing.graph import free_port

    torch.manual_seed(0)
    init = TorchModelProcessor(_model_settings())
    init(_graph_data()[1][0])
    ckpt = str(tmp_path / "init.pt")
    init.save_checkpoint(ckpt)
    path = tmp_path / "out.pkl"
    src, sink = _Source(), _Sink(_GraphSettings(path=str(path)))
    unit = TorchModelUnit(_model_settings(checkpoint_path=ckpt))
    ez.run(components={"SRC": src, "NN": unit, "SINK": sink,
                       "WATCHDOG": Watchdog(WatchdogSettings(seconds=20.0))},
           connections=((src.SAMPLE, unit.INPUT_SAMPLE), (src.SIGNAL, unit.INPUT_SIGNAL),
                        (unit.OUTPUT_SIGNAL, sink.SIGNAL), (unit.OUTPUT_SAMPLE, sink.SAMPLE)),
           root_name=f"TM_{uuid.uuid4().hex[:8]}", graph_address=("127.0.0.1", free_port()),
           auto_start=True)
    assert path.exists(), "the decoded messages never all arrived"
    got = pickle.loads(path.read_bytes())
    sample, tests = _graph_data()
    proc = TorchModelProcessor(_model_settings(checkpoint_path=ckpt))
    want = [("sample", o.key, o.data) for o in proc.partial_fit_transform(sample)]
    want += [("signal", o.key, o.data) for m in tests for o in proc(m)]
    assert [g[:2] for g in got] == [w[:2] for w in want]
    for g, w in zip(got, want, strict=True):
        np.testing.assert_allclose(g[2], w[2], rtol=1e-6)
