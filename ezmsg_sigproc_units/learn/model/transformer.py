"""A transformer encoder (and optional autoregressive decoder) with linear output heads.

ezmsg-learn's ``model.transformer.TransformerModel``: the same constructor, parameter names
(checkpoints load in either package) and outputs. Shapes: ``src`` is
``(batch, time, input_size)``; each head's output is ``(batch, time, size)`` without a
decoder, ``(batch, tgt_time, size)`` with one.

Encoder path: ``input_proj`` to ``hidden_size``, plus a learned position embedding (positions
``start_pos .. start_pos + time - 1``, so ``max_seq_len`` bounds them), dropout, then
``encoder_layers`` standard encoder layers (``batch_first``, feed-forward width
``4 * hidden_size``). With ``decoder_layers > 0`` the target sequence (the autoregressive
head's values; a learned start token when none is given) is projected by ``output_to_hidden``,
gets the same position embedding from 0, and attends to the encoder's memory.
"""

from __future__ import annotations

try:
    import torch
except ImportError as exc:
    raise ImportError("ezmsg_sigproc_units.learn.model.transformer needs PyTorch: "
                      "pip install 'ezmsg-sigproc-units[torch]'") from exc


def _layer_count(state_dict: dict, prefix: str) -> int:
    """Distinct layer indices under ``prefix`` (``encoder.layers.<i>.…``)."""
    return len({key[len(prefix):].split(".")[0] for key in state_dict if key.startswith(prefix)})


class TransformerModel(torch.nn.Module):
    """Transformer decoder network:
    ``forward(src, tgt=None, src_mask=None, tgt_mask=None, start_pos=0) -> outputs``.

    Args:
        input_size: features per time step.
        hidden_size: model width (``d_model``); must be divisible by ``attention_heads``.
        encoder_layers: encoder layers (default 1).
        decoder_layers: decoder layers (default 0: encoder only).
        output_size: an int (one head named ``"output"``, default 2) or a dict of head name
            to size.
        dropout: dropout probability everywhere (default 0.3; inactive in ``eval()``).
        attention_heads: attention heads per layer (default 4).
        max_seq_len: positions the embedding covers (default 512).
        autoregressive_head: the head whose values feed the decoder (default: the first).
    """

    def __init__(self, input_size: int, hidden_size: int, encoder_layers: int = 1,
                 decoder_layers: int = 0, output_size: int | dict[str, int] = 2,
                 dropout: float = 0.3, attention_heads: int = 4, max_seq_len: int = 512,
                 autoregressive_head: str | None = None):
        super().__init__()
        sizes = {"output": output_size} if isinstance(output_size, int) else dict(output_size)
        ar_size = sizes.get(autoregressive_head, next(iter(sizes.values())))
        self.decoder_layers = decoder_layers
        self.hidden_size = hidden_size
        self.start_token = torch.nn.Parameter(torch.zeros(1, 1, ar_size))
        self.output_to_hidden = torch.nn.Linear(ar_size, hidden_size)
        self.input_proj = torch.nn.Linear(input_size, hidden_size)
        self.pos_embedding = torch.nn.Embedding(max_seq_len, hidden_size)
        self.dropout = torch.nn.Dropout(dropout)
        shape = {"d_model": hidden_size, "nhead": attention_heads,
                 "dim_feedforward": 4 * hidden_size, "dropout": dropout, "batch_first": True}
        self.encoder = torch.nn.TransformerEncoder(torch.nn.TransformerEncoderLayer(**shape),
                                                   num_layers=encoder_layers)
        self.decoder = None
        if decoder_layers > 0:
            self.decoder = torch.nn.TransformerDecoder(
                torch.nn.TransformerDecoderLayer(**shape), num_layers=decoder_layers)
        self.heads = torch.nn.ModuleDict(
            {name: torch.nn.Linear(hidden_size, n) for name, n in sizes.items()})

    @classmethod
    def infer_config_from_state_dict(cls, state_dict: dict) -> dict[str, int | float]:
        """The constructor arguments the weights determine: ``input_size``, ``hidden_size``,
        ``output_size`` (a dict of head sizes), ``encoder_layers``, ``decoder_layers``."""
        heads = {key.split(".")[1]: value.shape[0] for key, value in state_dict.items()
                 if key.startswith("heads.") and key.endswith(".bias")}
        proj = state_dict["input_proj.weight"]
        return {
            "input_size": proj.shape[1],
            "hidden_size": proj.shape[0],
            "output_size": heads,
            "encoder_layers": _layer_count(state_dict, "encoder.layers."),
            "decoder_layers": _layer_count(state_dict, "decoder.layers."),
        }

    def _positions(self, batch: int, steps: int, start: int, device) -> torch.Tensor:
        ids = torch.arange(start, start + steps, device=device)
        return self.pos_embedding(ids.expand(batch, steps))

    def forward(self, src: torch.Tensor, tgt: torch.Tensor | None = None,
                src_mask: torch.Tensor | None = None, tgt_mask: torch.Tensor | None = None,
                start_pos: int = 0) -> dict[str, torch.Tensor]:
        batch, steps = src.shape[0], src.shape[1]
        h = self.input_proj(src) + self._positions(batch, steps, start_pos, src.device)
        memory = self.encoder(self.dropout(h), mask=src_mask)
        if self.decoder is None:
            out = memory
        else:
            if tgt is None:
                tgt = self.start_token.expand(batch, -1, -1).to(src.device)
            q = self.output_to_hidden(tgt) + self._positions(batch, tgt.shape[1], 0, src.device)
            out = self.decoder(self.dropout(q), memory, tgt_mask=tgt_mask, memory_mask=src_mask)
        return {name: head(out) for name, head in self.heads.items()}
