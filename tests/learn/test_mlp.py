"""The MLP models (``model.mlp``, ``model.mlp_old``) and the older MLP decoder
(``process.mlp_old``, alias ``nlin_model.mlp``): ezmsg-learn's layer layout (so checkpoints
load in either package), outputs equal to the layers applied by hand, training equal to the
same Adam steps by hand, checkpoints, every CPU backend (issue 16)."""

from __future__ import annotations

import copy
import logging
import warnings

import numpy as np
import pytest
from ezmsg.util.messages.axisarray import AxisArray

from ezmsg_sigproc_units.testing import Backend, assert_close
from ezmsg_sigproc_units.util.message import SampleTriggerMessage

torch = pytest.importorskip("torch")

from ezmsg_sigproc_units.learn.model.mlp import MLP  # noqa: E402
from ezmsg_sigproc_units.learn.model.mlp_old import MLP as OldMLP  # noqa: E402
from ezmsg_sigproc_units.learn.nlin_model import mlp as alias  # noqa: E402
from ezmsg_sigproc_units.learn.process.mlp_old import (  # noqa: E402
    MLPProcessor,
    MLPSettings,
    MLPState,
    MLPUnit,
)


def test_mlp_layer_names_are_ezmsg_learns():
    m = MLP(5, [8, 6], output_heads={"a": 2, "b": 3}, activation_layer="torch.nn.ReLU",
            norm_layer="torch.nn.LayerNorm")
    # ezmsg-learn 1.16.2 names these parameters exactly so
    assert list(m.state_dict()) == [
        "feature_extractor.0.weight", "feature_extractor.0.bias",
        "feature_extractor.1.weight", "feature_extractor.1.bias",
        "feature_extractor.4.weight", "feature_extractor.4.bias",
        "heads.a.weight", "heads.a.bias", "heads.b.weight", "heads.b.bias"]
    assert [type(x).__name__ for x in m.feature_extractor] == [
        "Linear", "LayerNorm", "ReLU", "Dropout", "Linear"]
    assert MLP.infer_config_from_state_dict(m.state_dict()) == {
        "input_size": 5, "hidden_size": [8, 6], "output_heads": {"a": 2, "b": 3}}


def test_mlp_forward_equals_the_layers_by_hand():
    torch.manual_seed(0)
    m = MLP(4, 7, num_layers=2, output_heads=3, activation_layer="torch.nn.Tanh").eval()
    x = torch.randn(2, 5, 4)
    l0, l1 = m.feature_extractor[0], m.feature_extractor[3]
    h = torch.tanh(x @ l0.weight.T + l0.bias) @ l1.weight.T + l1.bias
    want = h @ m.heads["output"].weight.T + m.heads["output"].bias
    torch.testing.assert_close(m(x)["output"], want)


def test_bare_layer_names_add_no_layer_with_a_warning():
    with pytest.warns(UserWarning, match="torch.nn.ReLU"):
        m = MLP(3, [4, 4])
    assert [type(x).__name__ for x in m.feature_extractor] == ["Linear", "Dropout", "Linear"]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        MLP(3, [4], activation_layer=None)


@pytest.mark.parametrize("kw,match", [
    ({"hidden_size": 4}, "num_layers"),
    ({"hidden_size": []}, "hidden_size"),
    ({"hidden_size": [4, 2.5]}, "hidden_size"),
    ({"hidden_size": [4, 4], "num_layers": 3}, "num_layers"),
    ({"hidden_size": [4], "norm_layer": "torch.nn.NoSuchNorm"}, "norm_layer"),
])
def test_mlp_rejects_bad_shapes(kw, match):
    with pytest.raises(ValueError, match=match):
        MLP(3, activation_layer=None, **kw)


def test_old_mlp_layout():
    m = OldMLP(5, [7, 3], norm_layer=torch.nn.LayerNorm, dropout=0.1)
    assert [type(x).__name__ for x in m] == ["Linear", "LayerNorm", "ReLU", "Dropout", "Linear"]
    assert m(torch.zeros(2, 5)).shape == (2, 3)
    with pytest.raises(ValueError, match="hidden_channels"):
        OldMLP(5, [])


def _msg(backend, host, target=None):
    attrs = {}
    if target is not None:
        attrs["trigger"] = SampleTriggerMessage(timestamp=0.0, period=(0.0, 1.0), value=target)
    return AxisArray(backend.asarray(host), dims=["time", "ch"],
                     axes={"time": AxisArray.TimeAxis(fs=10.0)}, attrs=attrs, key="k")


def _data(n=10, p=4, q=2, seed=0):
    rng = np.random.default_rng(seed)
    return (rng.standard_normal((n, p)).astype(np.float32),
            rng.standard_normal((n, q)).astype(np.float32))


def test_old_processor_output_equals_the_network(backend):
    torch.manual_seed(0)
    x, _ = _data()
    msg = _msg(backend, x)
    proc = MLPProcessor(MLPSettings(hidden_channels=[6, 2]))
    out = proc(msg)
    with torch.no_grad():
        want = proc.state.model(torch.from_numpy(x)).numpy()
    assert list(out.axes["ch"].data) == ["ch0", "ch1"] and out.key == "k"
    assert_close(out.data, want, xp=backend.xp, device=backend.device, dtype=msg.data.dtype,
                 rtol=1e-6)


@pytest.mark.parametrize("splits", [[10], [3, 1, 6]])
def test_old_processor_training_equals_adam_by_hand(splits):
    torch.manual_seed(0)
    x, y = _data()
    proc = MLPProcessor(MLPSettings(hidden_channels=[6, 2], learning_rate=0.02,
                                    scheduler_gamma=0.5))
    proc(_msg(Backend.NUMPY, x))
    ref = copy.deepcopy(proc.state.model)
    opt = torch.optim.Adam(ref.parameters(), lr=0.02)
    sched = torch.optim.lr_scheduler.ExponentialLR(opt, gamma=0.5)
    i = 0
    for n in splits:
        proc.partial_fit(_msg(Backend.NUMPY, x[i:i + n], target=y[i:i + n]))
        loss = torch.nn.functional.mse_loss(ref(torch.from_numpy(x[i:i + n])),
                                            torch.from_numpy(y[i:i + n]))
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        i += n
    for got, want in zip(proc.state.model.parameters(), ref.parameters(), strict=True):
        torch.testing.assert_close(got, want)


def test_old_processor_checkpoint_round_trip(tmp_path):
    torch.manual_seed(0)
    x, y = _data()
    proc = MLPProcessor(MLPSettings(hidden_channels=[5, 2]))
    proc.partial_fit(_msg(Backend.NUMPY, x, target=y))
    path = str(tmp_path / "old.pt")
    proc.save_checkpoint(path)
    loaded = MLPProcessor(MLPSettings(hidden_channels=[5, 2], checkpoint_path=path))
    np.testing.assert_array_equal(loaded(_msg(Backend.NUMPY, x)).data,
                                  proc(_msg(Backend.NUMPY, x)).data)
    # the optimiser's moments came along: the next step is the same in both
    for p in (proc, loaded):
        p.partial_fit(_msg(Backend.NUMPY, x, target=y))
    np.testing.assert_array_equal(loaded(_msg(Backend.NUMPY, x)).data,
                                  proc(_msg(Backend.NUMPY, x)).data)
    with pytest.raises(ValueError, match="checkpoint_path"):
        MLPProcessor(MLPSettings(hidden_channels=[5, 2], checkpoint_path=path))(
            _msg(Backend.NUMPY, x[:, :3]))


def test_old_processor_nan_and_feature_change(caplog):
    torch.manual_seed(0)
    x, y = _data()
    proc = MLPProcessor(MLPSettings(hidden_channels=[3]))
    proc(_msg(Backend.NUMPY, x))
    before = copy.deepcopy(proc.state.model.state_dict())
    bad = x.copy()
    bad[0, 0] = np.nan
    with caplog.at_level(logging.INFO, logger="ezmsg"):
        proc.partial_fit(_msg(Backend.NUMPY, bad, target=np.zeros((10, 3), np.float32)))
        for k, v in proc.state.model.state_dict().items():
            torch.testing.assert_close(v, before[k])
        assert proc(_msg(Backend.NUMPY, np.ones((2, 6), np.float32))).data.shape == (2, 3)
    assert "skipped" in caplog.text and "from 4 to 6" in caplog.text


def test_old_settings_validate_and_alias():
    with pytest.raises(ValueError, match="hidden_channels"):
        MLPSettings(hidden_channels=[])
    with pytest.raises(ValueError, match="learning_rate"):
        MLPSettings(hidden_channels=[2], learning_rate=-1.0)
    assert MLPSettings(hidden_channels=[2]).activation_layer is torch.nn.ReLU
    assert (alias.MLP, alias.MLPProcessor, alias.MLPSettings, alias.MLPState) == (
        OldMLP, MLPProcessor, MLPSettings, MLPState)
    assert MLPUnit.SETTINGS is MLPSettings
