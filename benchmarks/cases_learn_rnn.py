"""Learn family, the torch-hosted recurrent and transformer decoders: ours beside ezmsg-learn
1.16.2's (``cases()`` in the format of ``benchmarks.learn``).

Both sides host the same small models on the CPU in float32, built from the same seed: a
GRU ``RNNModel(256 -> 64 hidden -> 2)`` and an encoder-only ``TransformerModel(256 -> 32,
one layer, 4 heads -> 2)``, trained with ``MSELoss`` on the runner's ``(n, 2)`` targets.
ezmsg-learn's ``partial_fit`` takes a plain array as the target (not an AxisArray), so its
training samples carry the targets' array, converted once per message outside the timing,
and its model is built from a signal message before its first training sample (its
``partial_fit`` cannot build it).
Both processors return one message per output head; the runner times the call and gets the
first. ezmsg-learn runs torch on one thread too (``benchmarks.learn`` sets it for ours).
"""

from __future__ import annotations

from collections.abc import Callable

RNN_KW = {"hidden_size": 64, "output_size": 2}
TRANSFORMER_KW = {"hidden_size": 32, "output_size": 2, "attention_heads": 4}


class _First:
    """A processor whose call returns its first output message (the runner's backends sync
    on one message); ``partial_fit`` passes through, optionally with the target converted."""

    def __init__(self, proc: object, plain_targets: bool = False) -> None:
        self.proc, self.plain, self.cache = proc, plain_targets, {}

    def __call__(self, msg: object) -> object:
        return self.proc(msg)[0]

    def partial_fit(self, msg: object) -> None:
        if self.plain:
            _, sample, signal = self._plain(msg)
            if self.proc.state.model is None:  # ezmsg-learn builds its model at a signal only
                self.proc(signal)
            msg = sample
        self.proc.partial_fit(msg)

    def _plain(self, msg: object) -> object:
        key = id(msg)
        if key not in self.cache:
            from ezmsg.baseproc import SampleTriggerMessage
            from ezmsg.util.messages.axisarray import AxisArray

            trig = msg.attrs["trigger"]
            value = trig.value.data if isinstance(trig.value, AxisArray) else trig.value
            plain = SampleTriggerMessage(timestamp=trig.timestamp, period=trig.period,
                                         value=value)
            self.cache[key] = (msg, AxisArray(msg.data, dims=msg.dims, axes=msg.axes,
                                              attrs={"trigger": plain}),
                               AxisArray(msg.data, dims=msg.dims, axes=msg.axes))
        return self.cache[key]


def _factory(package: str, module: str, stem: str, model_kw: dict) -> Callable:
    def make() -> object:
        import importlib

        import torch

        if package == "ezmsg.learn":
            torch.set_num_threads(1)  # as benchmarks.learn runs ours
        mod = importlib.import_module(f"{package}.process.{module}")
        settings = getattr(mod, f"{stem}Settings")(model_kwargs=dict(model_kw), device="cpu",
                                                    loss_fn=torch.nn.MSELoss())
        torch.manual_seed(0)
        return _First(getattr(mod, f"{stem}Processor")(settings),
                      plain_targets=package == "ezmsg.learn")
    return make


def cases() -> list[tuple]:
    out: list[tuple] = []
    for module, stem, kw in (("rnn", "RNN", RNN_KW), ("transformer", "Transformer",
                                                        TRANSFORMER_KW)):
        ours = _factory("ezmsg_sigproc_units.learn", module, stem, kw)
        peer = _factory("ezmsg.learn", module, stem, kw)
        for op in ("predict", "partial_fit"):
            out.append((f"{stem} {op}", op, ours, peer, "targets"))
    return out
