"""learn.model.transformer.TransformerModel against hand-written attention from its own
weights, and learn.process.transformer (the hosted transformer decoder)."""

import pytest

torch = pytest.importorskip("torch")

from ezmsg_sigproc_units.learn.model.transformer import TransformerModel  # noqa: E402


def _lin(x, layer):
    return x @ layer.weight.T + layer.bias


def _encoder_layer_by_hand(layer, x):
    attn = layer.self_attn
    d, heads = x.shape[-1], attn.num_heads
    q, k, v = (x @ attn.in_proj_weight.T + attn.in_proj_bias).chunk(3, -1)

    def split(t):
        return t.reshape(t.shape[0], t.shape[1], heads, d // heads).transpose(1, 2)

    w = torch.softmax(split(q) @ split(k).transpose(-1, -2) / (d // heads) ** 0.5, -1)
    a = (w @ split(v)).transpose(1, 2).reshape(x.shape)
    a = _lin(a, attn.out_proj)
    x = torch.nn.functional.layer_norm(x + a, (d,), layer.norm1.weight, layer.norm1.bias,
                                       layer.norm1.eps)
    f = _lin(torch.relu(_lin(x, layer.linear1)), layer.linear2)
    return torch.nn.functional.layer_norm(x + f, (d,), layer.norm2.weight, layer.norm2.bias,
                                          layer.norm2.eps)


def test_transformer_encoder_equals_hand_attention():
    torch.manual_seed(2)
    model = TransformerModel(3, 8, encoder_layers=2, output_size=2, attention_heads=2).eval()
    x = torch.randn(2, 5, 3)
    with torch.no_grad():
        got = model(x, start_pos=4)["output"]
        h = _lin(x, model.input_proj) + model.pos_embedding.weight[4:9]
        for layer in model.encoder.layers:
            h = _encoder_layer_by_hand(layer, h)
        want = _lin(h, model.heads["output"])
    torch.testing.assert_close(got, want, rtol=1e-5, atol=1e-5)


def test_transformer_decoder_shapes_and_config():
    torch.manual_seed(3)
    model = TransformerModel(3, 8, encoder_layers=2, decoder_layers=1,
                             output_size={"p": 2, "q": 5}, autoregressive_head="q").eval()
    assert model.start_token.shape == (1, 1, 5) and model.output_to_hidden.in_features == 5
    x = torch.randn(1, 6, 3)
    with torch.no_grad():
        out = model(x)
        assert out["p"].shape == (1, 1, 2) and out["q"].shape == (1, 1, 5)
        # no target: the learned start token is the target
        same = model(x, tgt=model.start_token)
    torch.testing.assert_close(out["q"], same["q"])
    assert TransformerModel.infer_config_from_state_dict(model.state_dict()) == {
        "input_size": 3, "hidden_size": 8, "output_size": {"p": 2, "q": 5},
        "encoder_layers": 2, "decoder_layers": 1}
    enc = TransformerModel(3, 8)
    assert TransformerModel.infer_config_from_state_dict(enc.state_dict())["decoder_layers"] == 0


# --- the hosted decoder (learn.process.transformer) ----------------------------------------

import numpy as np  # noqa: E402
from ezmsg.util.messages.axisarray import AxisArray  # noqa: E402

from ezmsg_sigproc_units.learn.process.transformer import (  # noqa: E402
    TransformerProcessor,
    TransformerSettings,
    TransformerUnit,
)
from ezmsg_sigproc_units.testing import assert_close  # noqa: E402
from ezmsg_sigproc_units.util.message import SampleTriggerMessage  # noqa: E402

N_IN, HID = 3, 8


def _model(decoder=0, seed=0, output_size=2):
    torch.manual_seed(seed)
    return TransformerModel(N_IN, HID, decoder_layers=decoder, output_size=output_size,
                            dropout=0.0, attention_heads=2, max_seq_len=32).eval()


def _ckpt(tmp_path, decoder=0, **kw):
    path = tmp_path / f"tr{decoder}.pt"
    torch.save({"model_state_dict": _model(decoder, **kw).state_dict(),
                "config": {"dropout": 0.0, "attention_heads": 2, "max_seq_len": 32}}, path)
    return str(path)


def _msg(data, target=None):
    attrs = {}
    if target is not None:
        attrs["trigger"] = SampleTriggerMessage(timestamp=0.0, period=(0.0, 1.0), value=target)
    return AxisArray(data, dims=["time", "ch"], axes={"time": AxisArray.TimeAxis(fs=50.0)},
                     attrs=attrs)


def _x(n=6, seed=1):
    return np.random.default_rng(seed).standard_normal((n, N_IN)).astype(np.float32)


def test_encoder_hosted_equals_direct_on_every_backend(backend, tmp_path):
    proc = TransformerProcessor(TransformerSettings(checkpoint_path=_ckpt(tmp_path)))
    x = _x()
    out = proc(_msg(backend.asarray(x, "float32")))
    with torch.no_grad():
        want = _model()(torch.as_tensor(x)[None])["output"][0].numpy()
    assert len(out) == 1 and out[0].key == "output"
    assert_close(out[0].data, want, xp=backend.xp, device=backend.device, dtype="float32",
                 rtol=1e-5, atol=1e-5)


def test_decoder_cache_and_training(tmp_path):
    path = _ckpt(tmp_path, decoder=1)
    proc = TransformerProcessor(TransformerSettings(
        checkpoint_path=path, max_cache_len=2, loss_fn=torch.nn.MSELoss(),
        model_kwargs={"decoder_layers": 1}))
    assert proc.has_decoder
    model = _model(1)
    x1, x2, x3 = _x(4, 1), _x(4, 2), _x(4, 3)
    with torch.no_grad():
        y1 = model(torch.as_tensor(x1)[None])["output"]
        y2 = model(torch.as_tensor(x2)[None], tgt=y1[:, -1:])["output"]
        cache = torch.cat([y1[:, -1:], y2[:, -1:]], 1)
        y3 = model(torch.as_tensor(x3)[None], tgt=cache)["output"]
    got = [proc(_msg(x))[0].data for x in (x1, np.zeros((0, N_IN), np.float32), x2, x3)]
    assert got.pop(1).shape == (0, 2)  # an empty message: no output rows, the cache as it was
    assert [g.shape for g in got] == [(1, 2), (1, 2), (2, 2)]
    for g, w in zip(got, (y1, y2, y3), strict=True):
        np.testing.assert_allclose(g, w[0].numpy(), rtol=1e-5, atol=1e-6)
    assert proc.state.tgt_cache.shape == (1, 2, 2)  # max_cache_len
    # teacher forcing: the targets shifted by one step feed the decoder; the cache empties
    t = _x(4, 4)[:, :2]
    proc.partial_fit(_msg(x1, t))
    assert proc.state.tgt_cache is None and proc.state.n_steps == 1
    opt = torch.optim.AdamW(model.parameters(), lr=0.001, weight_decay=0.0001)
    tt = torch.as_tensor(t)[None]
    model.train()
    y = model(torch.as_tensor(x1)[None], tgt=torch.cat([torch.zeros(1, 1, 2), tt[:, :-1]], 1))
    loss = torch.nn.functional.mse_loss(y["output"], tt)
    loss.backward()
    opt.step()
    assert proc.state.last_loss == pytest.approx(loss.item(), rel=1e-5)
    for a, b in zip(proc.state.model.parameters(), model.parameters(), strict=True):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="batch"):
        proc(AxisArray(np.zeros((2, 3, N_IN), np.float32), dims=["win", "time", "ch"]))


def test_encoder_training_steps_and_checkpoint(tmp_path):
    path = _ckpt(tmp_path)
    proc = TransformerProcessor(TransformerSettings(checkpoint_path=path,
                                                    loss_fn=torch.nn.MSELoss()))
    model = _model()
    opt = torch.optim.AdamW(model.parameters(), lr=0.001, weight_decay=0.0001)
    sched = torch.optim.lr_scheduler.ExponentialLR(opt, gamma=0.999)
    for n, seed in ((3, 1), (5, 2)):
        x, t = _x(n, seed), _x(n, seed + 10)[:, :2]
        proc.partial_fit(_msg(x, t))
        model.train()
        loss = torch.nn.functional.mse_loss(model(torch.as_tensor(x)[None])["output"],
                                            torch.as_tensor(t)[None])
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        model.eval()
    for a, b in zip(proc.state.model.parameters(), model.parameters(), strict=True):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6)
    saved = str(tmp_path / "trained.pt")
    proc.save_checkpoint(saved)
    again = TransformerProcessor(TransformerSettings(
        model_class="ezmsg.learn.model.transformer.TransformerModel", checkpoint_path=saved))
    x = _x(5, 9)
    np.testing.assert_array_equal(again(_msg(x))[0].data, proc(_msg(x))[0].data)
    # NaN in a sample: skipped, the weights unchanged
    before = [p.detach().clone() for p in proc.state.model.parameters()]
    bad = x.copy()
    bad[1, 0] = np.nan
    proc.partial_fit(_msg(bad, x[:, :2]))
    assert proc.state.n_steps == 2
    for a, b in zip(proc.state.model.parameters(), before, strict=True):
        torch.testing.assert_close(a, b)


def test_settings_and_bad_input(tmp_path):
    s = TransformerSettings()
    assert (s.autoregressive_head, s.max_cache_len) == (None, 128)
    assert s.model_class.endswith("learn.model.transformer.TransformerModel")
    with pytest.raises(ValueError, match="max_cache_len"):
        TransformerSettings(max_cache_len=0)
    proc = TransformerProcessor(TransformerSettings(
        checkpoint_path=_ckpt(tmp_path, output_size={"a": 2, "b": 1}),
        autoregressive_head="c"))
    with pytest.raises(ValueError, match="autoregressive_head"):
        proc(_msg(_x()))
    proc = TransformerProcessor(TransformerSettings(checkpoint_path=_ckpt(tmp_path)))
    with pytest.raises(ValueError, match=r"input_size=3.*has 4"):
        proc(_msg(np.zeros((2, 4), np.float32)))
    from ezmsg.baseproc.units import get_base_adaptive_transformer_type

    assert get_base_adaptive_transformer_type(TransformerUnit) is TransformerProcessor
