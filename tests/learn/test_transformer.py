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
