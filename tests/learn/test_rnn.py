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
