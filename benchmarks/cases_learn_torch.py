"""Learn family, the generic torch host (``process.torch.TorchModelProcessor``) with the MLP
model: ours beside ezmsg-learn 1.16.2's (``cases()`` in the format of ``benchmarks.learn``).

Both sides host the same ``model.mlp.MLP(256 -> 64 -> 64 -> 2, ReLU)`` on the CPU in float32,
built from the same seed, trained with ``MSELoss`` on the runner's ``(n, 2)`` targets (AdamW
and the exponential schedule, the defaults). The processors return one message per output
head; ``_Adapter`` hands the runner the first. ezmsg-learn's ``partial_fit`` takes a plain
array as the target (the runner's samples carry an AxisArray) and cannot build its model, so
its samples are rewritten once per message outside the timing (cached) and its model is built
from a signal before its first training sample.

The conversion into torch and back is timed apart in ``conversion_us()`` (``python -m
benchmarks.cases_learn_torch``): NumPy shares its memory with torch, MLX goes through the
buffer protocol (no copy in, one copy out).
"""

from __future__ import annotations

from collections.abc import Callable

MLP_KW = {"hidden_size": [64, 64], "output_heads": 2, "activation_layer": "torch.nn.ReLU"}


class _Adapter:
    def __init__(self, proc: object, peer: bool) -> None:
        self.proc, self.peer, self.samples = proc, peer, {}

    def __call__(self, msg: object) -> object:
        return self.proc(msg)[0]

    def partial_fit(self, msg: object) -> None:
        if self.peer:
            from ezmsg.util.messages.util import replace

            if id(msg) not in self.samples:
                trig = msg.attrs["trigger"]
                self.samples[id(msg)] = replace(msg, attrs={
                    "trigger": replace(trig, value=trig.value.data)})
            if self.proc.state.model is None:
                self.proc(replace(msg, attrs={}))
            msg = self.samples[id(msg)]
        self.proc.partial_fit(msg)


def _factory(package: str) -> Callable:
    def make() -> object:
        import importlib

        import torch

        if package == "ezmsg.learn":
            torch.set_num_threads(1)  # as benchmarks.learn runs ours
        mod = importlib.import_module(f"{package}.process.torch")
        settings = mod.TorchModelSettings(model_class=f"{package}.model.mlp.MLP",
                                          model_kwargs=dict(MLP_KW), device="cpu",
                                          loss_fn=torch.nn.MSELoss())
        torch.manual_seed(0)
        return _Adapter(mod.TorchModelProcessor(settings), peer=package == "ezmsg.learn")
    return make


def cases() -> list[tuple]:
    ours, peer = _factory("ezmsg_sigproc_units.learn"), _factory("ezmsg.learn")
    return [(f"TorchModel MLP {op}", op, ours, peer, "targets")
            for op in ("predict", "partial_fit")]


def conversion_us() -> dict[str, float]:
    """Median us of ``to_torch`` (into float32 on the CPU) and ``from_torch`` (an output of
    ``(n, 2)`` back) for NumPy and MLX inputs of ``(n, 256)`` float32, n = 1 and 50."""
    import numpy as np

    from ezmsg_sigproc_units._backend.torch_bridge import from_torch, to_torch

    from .timing import per_call_us

    out = {}
    libs = {"numpy": lambda a: a}
    try:
        import mlx.core as mx

        def to_mlx(a):
            y = mx.array(a)
            mx.eval(y)
            return y

        libs["mlx"] = to_mlx
    except ImportError:
        pass
    for name, conv in libs.items():
        for n in (1, 50):
            x = conv(np.random.default_rng(0).standard_normal((n, 256)).astype(np.float32))
            t = to_torch(x)[:, :2].contiguous()
            out[f"{name} in @{n}"] = per_call_us(lambda x=x: to_torch(x, "cpu", "float32"),
                                                 repeats=15)
            out[f"{name} out @{n}"] = per_call_us(lambda t=t, x=x: from_torch(t, x), repeats=15)
    return out


if __name__ == "__main__":
    for k, v in conversion_us().items():
        print(f"{k}: {v:.2f} us")
