"""A recurrent decoder network (GRU, LSTM or Elman RNN) with one or more linear heads.

ezmsg-learn's ``model.rnn.RNNModel``: the same constructor, the same parameter names (a
checkpoint saved by either package loads in the other) and the same outputs. Shapes:
``x`` is ``(batch, time, input_size)``; each head's output is ``(batch, time, size)``; the
hidden state is ``(num_layers, batch, hidden_size)`` (a pair ``(h, c)`` of those for LSTM).

The layers, in order: a square linear embedding of the input, dropout, the recurrent stack
(``batch_first``; dropout between its layers when there are several), dropout, and one
``Linear(hidden_size, size)`` per output head.
"""

from __future__ import annotations

try:
    import torch
except ImportError as exc:
    raise ImportError("ezmsg_sigproc_units.learn.model.rnn needs PyTorch: "
                      "pip install 'ezmsg-sigproc-units[torch]'") from exc

_CELLS = {"GRU": (torch.nn.GRU, 3), "LSTM": (torch.nn.LSTM, 4), "RNN": (torch.nn.RNN, 1)}


def _cell(rnn_type: str) -> tuple[str, str | None]:
    """``rnn_type`` as (cell family, nonlinearity): "GRU", "LSTM", "RNN-Tanh", "RNN-ReLU"."""
    family, _, nonlin = str(rnn_type).upper().partition("-")
    if family not in _CELLS:
        raise ValueError(f"rnn_type: expected 'GRU', 'LSTM', 'RNN-Tanh' or 'RNN-ReLU', "
                         f"got {rnn_type!r}")
    if family != "RNN":
        return family, None
    nonlin = (nonlin or "TANH").lower()
    if nonlin not in ("tanh", "relu"):
        raise ValueError(f"rnn_type: a plain RNN's nonlinearity is 'Tanh' or 'ReLU', "
                         f"got {rnn_type!r}")
    return family, nonlin


class RNNModel(torch.nn.Module):
    """Recurrent decoder: ``forward(x, input_lens=None, hx=None) -> (outputs, hx_out)``.

    Args:
        input_size: features per time step.
        hidden_size: units of the recurrent cell.
        num_layers: stacked recurrent layers (default 1).
        output_size: an int (one head named ``"output"``, default 2) or a dict of head name
            to size (one head each).
        dropout: dropout probability after the embedding, between recurrent layers (when
            ``num_layers > 1``) and before the heads (default 0.3; inactive in ``eval()``).
        rnn_type: ``"GRU"`` (default), ``"LSTM"``, ``"RNN-Tanh"`` or ``"RNN-ReLU"``.

    ``outputs`` is a dict of head name to ``(batch, time, size)``. ``input_lens`` (per batch
    row, on the CPU) packs padded sequences so that padding does not enter the state.
    """

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1,
                 output_size: int | dict[str, int] = 2, dropout: float = 0.3,
                 rnn_type: str = "GRU"):
        super().__init__()
        family, nonlin = _cell(rnn_type)
        self.rnn_type = family
        self.linear_embeddings = torch.nn.Linear(input_size, input_size)
        self.dropout_input = torch.nn.Dropout(dropout)
        extra = {} if nonlin is None else {"nonlinearity": nonlin}
        self.rnn = _CELLS[family][0](input_size, hidden_size, num_layers, batch_first=True,
                                     dropout=dropout if num_layers > 1 else 0.0, **extra)
        self.output_dropout = torch.nn.Dropout(dropout)
        sizes = {"output": output_size} if isinstance(output_size, int) else dict(output_size)
        self.heads = torch.nn.ModuleDict(
            {name: torch.nn.Linear(hidden_size, n) for name, n in sizes.items()})

    @staticmethod
    def _get_gate_count(rnn_type: str) -> int:
        """Gate blocks stacked in the cell's input weight (GRU 3, LSTM 4, RNN 1)."""
        return _CELLS[_cell(rnn_type)[0]][1]

    @classmethod
    def infer_config_from_state_dict(cls, state_dict: dict,
                                     rnn_type: str = "GRU") -> dict[str, int | float]:
        """The constructor arguments that the weights determine: ``input_size``,
        ``hidden_size``, ``num_layers`` and ``output_size`` (a dict of head sizes).
        ``rnn_type`` must name the cell the weights came from (it fixes the gate count)."""
        heads = {key.split(".")[1]: value.shape[0] for key, value in state_dict.items()
                 if key.startswith("heads.") and key.endswith(".bias")}
        n_layers = sum(1 for key in state_dict if key.startswith("rnn.weight_ih_l")
                       and not key.endswith("_reverse"))
        return {
            "input_size": state_dict["linear_embeddings.weight"].shape[1],
            "hidden_size": state_dict["rnn.weight_ih_l0"].shape[0] // cls._get_gate_count(rnn_type),
            "num_layers": n_layers,
            "output_size": heads,
        }

    def init_hidden(self, batch_size: int, device: torch.device | str | None = None
                    ) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
        """A zero hidden state for ``batch_size`` sequences (a pair for LSTM), in the dtype
        of the model's parameters."""
        dtype = self.rnn.weight_ih_l0.dtype
        shape = (self.rnn.num_layers, batch_size, self.rnn.hidden_size)
        if self.rnn_type == "LSTM":
            return (torch.zeros(shape, device=device, dtype=dtype),
                    torch.zeros(shape, device=device, dtype=dtype))
        return torch.zeros(shape, device=device, dtype=dtype)

    def forward(self, x: torch.Tensor, input_lens: torch.Tensor | None = None,
                hx: torch.Tensor | tuple[torch.Tensor, torch.Tensor] | None = None
                ) -> tuple[dict[str, torch.Tensor], torch.Tensor | tuple]:
        steps = x.shape[1]
        z = self.dropout_input(self.linear_embeddings(x))
        if input_lens is not None:
            z = torch.nn.utils.rnn.pack_padded_sequence(z, input_lens, batch_first=True,
                                                        enforce_sorted=False)
        z, hx_out = self.rnn(z, hx)
        if input_lens is not None:
            z, _ = torch.nn.utils.rnn.pad_packed_sequence(z, batch_first=True,
                                                          total_length=steps)
        z = self.output_dropout(z)
        return {name: head(z) for name, head in self.heads.items()}, hx_out
