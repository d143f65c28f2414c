"""What the torch-hosting processors share (``learn.process.torch`` and the modules built on
it): the model class from its path, the model built for the first message, data into torch and
the outputs back in the input's backend (``_backend.torch_bridge``), the training step's
pieces and checkpoints. ``TorchProcessorMixin`` is public through ``learn.process.torch``.
"""

from __future__ import annotations

import importlib
import typing
from typing import Any

import numpy as np
from ezmsg.util.messages.axisarray import AxisArray

from .._backend.torch_bridge import from_torch, to_torch, torch_device_of
from .._messages import replace_fields
from ._learn_common import finite_batch, log_feature_change, trigger_value
from ._torch_init import constructor_parameters

try:
    import torch
except ImportError as exc:
    raise ImportError("ezmsg_sigproc_units.learn (torch models) needs PyTorch: "
                      "pip install 'ezmsg-sigproc-units[torch]'") from exc

_PEER_PREFIX = "ezmsg.learn."
_OUR_PREFIX = "ezmsg_sigproc_units.learn."


def import_model_class(class_path: Any, setting: str = "model_class") -> type:
    """The ``torch.nn.Module`` subclass at ``class_path`` ("package.module.Class").

    A path into ezmsg-learn (``ezmsg.learn.model.rnn.RNNModel``) names this package's model of
    the same name (the same architecture and parameter names), so a migrated graph's settings
    work unchanged. ``ValueError`` naming ``setting`` when it does not import."""
    if not isinstance(class_path, str) or "." not in class_path:
        raise ValueError(f"{setting}: expected a class path 'package.module.Class', "
                         f"got {class_path!r}")
    tries = [class_path]
    if class_path.startswith(_PEER_PREFIX):
        tries.insert(0, _OUR_PREFIX + class_path[len(_PEER_PREFIX):])
    errors = []
    for path in tries:
        module_path, name = path.rsplit(".", 1)
        try:
            cls = getattr(importlib.import_module(module_path), name)
        except (ImportError, AttributeError) as exc:
            errors.append(f"{path}: {exc}")
            continue
        if not (isinstance(cls, type) and issubclass(cls, torch.nn.Module)):
            raise ValueError(f"{setting}: {path} is not a torch.nn.Module subclass")
        return cls
    raise ValueError(f"{setting}: cannot import {class_path!r} ({'; '.join(errors)})")


def check_model_kwargs(model_class: type, model_kwargs: Any,
                       allowed: typing.Iterable[str] = ("input_size",)) -> None:
    """``ValueError`` naming ``model_kwargs`` when it is not a dict or names an argument the
    model's constructor does not take (``allowed`` names are always accepted: the processor
    fills ``input_size`` from the data, as ezmsg-learn does)."""
    if model_kwargs is None:
        return
    if not isinstance(model_kwargs, dict):
        raise ValueError(f"model_kwargs: expected a dict or None, got "
                         f"{type(model_kwargs).__name__}")
    names, var_kw = constructor_parameters(model_class)
    unknown = sorted(set(model_kwargs) - names - set(allowed))
    if unknown and not var_kw:
        raise ValueError(f"model_kwargs: {model_class.__name__} does not take {unknown} "
                         f"(it takes {sorted(names)})")


def channel_axis(head: str | None, size: int) -> AxisArray.CoordinateAxis:
    """The output ``ch`` axis of a head: labels ``"{head}_ch{i}"`` (``"ch{i}"`` for None),
    fingerprint computed."""
    prefix = "ch" if head is None else f"{head}_ch"
    axis = AxisArray.CoordinateAxis(data=np.array([f"{prefix}{i}" for i in range(size)]),
                                    dims=["ch"])
    axis.fingerprint  # noqa: B018 - computed once here, cached on the axis
    return axis


class TorchProcessorMixin:
    """What the torch processors share: building the model, moving data in and out, the
    training step's pieces, checkpoints. Subclasses call ``_common_reset_state`` from
    ``_reset_state`` and ``_common_process`` from ``_process`` (as ezmsg-learn's do)."""

    def _import_model(self, class_path: str) -> type:
        return import_model_class(class_path)

    # --- building -----------------------------------------------------------------------

    def _model_device(self, message: AxisArray) -> Any:
        device = getattr(self.settings, "device", None)
        return torch.device(device) if device else torch_device_of(message.data)

    def _feature_count(self, message: AxisArray) -> int:
        data, dims = message.data, list(message.dims)
        if data.ndim == 0:
            raise ValueError("a torch decoder needs (time, ch) or (batch, time, ch) data; "
                             "got a scalar")
        if "ch" in dims and dims.index("ch") != data.ndim - 1:
            raise ValueError(f"the 'ch' dim must be last (the model's features); the message's "
                             f"dims are {dims}")
        return int(data.shape[-1])

    def _infer_output_sizes(self, model: torch.nn.Module, n_input: int) -> dict[str, int]:
        """Each head's output size, from one forward pass of zeros ``(1, 1, n_input)``."""
        probe = torch.zeros(1, 1, n_input, device=self._state.device, dtype=self._state.dtype)
        try:
            with torch.no_grad():
                out = model(probe)
        except RuntimeError as exc:
            raise ValueError(f"the model does not take {n_input} features (the message's "
                             f"'ch' size): {exc}") from exc
        if isinstance(out, tuple):
            out = out[0]
        if isinstance(out, dict):
            return {k: int(v.shape[-1]) for k, v in out.items()}
        return {"output": int(out.shape[-1])}

    def _common_reset_state(self, message: AxisArray, model_kwargs: dict) -> None:
        """Build the model for ``message`` (``model_kwargs``: the settings' arguments, a copy
        this may change), its output axes, and the feature-count bookkeeping."""
        st, s = self._state, self.settings
        n_input = self._feature_count(message)
        st.device = self._model_device(message)
        st.dtype = torch.float32 if s.single_precision else torch.float64
        model_class = self._import_model(s.model_class)
        given = model_kwargs.get("input_size")
        if given is None and "input_size" in constructor_parameters(model_class)[0]:
            model_kwargs["input_size"] = n_input
        st.model = self._init_model(model_class=model_class, params=model_kwargs,
                                    config_path=s.config_path,
                                    checkpoint_path=s.checkpoint_path, device=st.device)
        st.model.to(device=st.device, dtype=st.dtype)
        st.model.eval()
        st.model_kwargs = model_kwargs
        st.input_fixed = given is not None or bool(s.checkpoint_path)
        size = model_kwargs.get("input_size")
        st.n_input = int(size) if size is not None else n_input
        if st.n_input != n_input:
            raise ValueError(f"the model takes input_size={st.n_input} features; the message "
                             f"has {n_input} (its 'ch' dim)")
        sizes = self._infer_output_sizes(st.model, n_input)
        st.chan_ax = {head: channel_axis(head, size) for head, size in sizes.items()}

    def _check_features(self, message: AxisArray) -> None:
        st = self._state
        n = self._feature_count(message)
        if n == st.n_input:
            return
        if st.input_fixed:
            raise ValueError(f"the model takes input_size={st.n_input} features; the message "
                             f"has {n} (its 'ch' dim)")
        log_feature_change(type(self).__name__, st.n_input, n)
        self._reset_state(message)

    def _ensure_model(self, message: AxisArray) -> None:
        """Build the model from ``message`` if there is none yet (``partial_fit`` before any
        inference), else check its feature count."""
        if self._state.model is None:
            self._reset_state(message)
            self._hash = self._hash_message(message)
        else:
            self._check_features(message)

    # --- data in and out ------------------------------------------------------------------

    def _to_tensor(self, data: Any) -> torch.Tensor:
        """``data`` (any backend) as a tensor on the model's device in its dtype; shares the
        input's memory where ``torch_bridge`` can."""
        st = self._state
        if isinstance(data, AxisArray):
            data = data.data
        return to_torch(data, device=st.device, dtype=st.dtype)

    @staticmethod
    def _ensure_batched(tensor: torch.Tensor) -> tuple[torch.Tensor, bool]:
        """``(time, ch)`` as ``(1, time, ch)``; True when the batch dim was added."""
        if tensor.ndim == 2:
            return tensor.unsqueeze(0), True
        return tensor, False

    def _outputs(self, message: AxisArray, output: Any, added_batch: bool) -> list[AxisArray]:
        """One message per output head, in the input's namespace, device and float dtype."""
        like = message.data
        if isinstance(output, tuple):  # (outputs, state), as recurrent models return
            output = output[0]
        if isinstance(output, dict):
            heads = output.items()
            keys = list(output)
        else:
            heads, keys = [("output", output)], [message.key]
        out = []
        for (head, value), key in zip(heads, keys, strict=True):
            if added_batch:
                value = value[0]
            axes = dict(message.axes)
            axes["ch"] = self._state.chan_ax[head]
            out.append(replace_fields(message, from_torch(value, like), axes=axes, key=key))
        return out

    def _common_process(self, message: AxisArray) -> list[AxisArray]:
        self._check_features(message)
        x, added = self._ensure_batched(self._to_tensor(message.data))
        with torch.no_grad():
            output = self._state.model(x)
        return self._outputs(message, output, added)

    # --- training ---------------------------------------------------------------------------

    def _init_optimizer(self) -> None:
        st, s = self._state, self.settings
        st.optimizer = torch.optim.AdamW(st.model.parameters(), lr=s.learning_rate,
                                         weight_decay=s.weight_decay)
        st.scheduler = (torch.optim.lr_scheduler.ExponentialLR(st.optimizer,
                                                               gamma=s.scheduler_gamma)
                        if s.scheduler_gamma > 0.0 else None)

    def _validate_loss_keys(self, output_keys: list[str]) -> None:
        if isinstance(self.settings.loss_fn, dict):
            missing = [k for k in output_keys if k not in self.settings.loss_fn]
            if missing:
                raise ValueError(f"loss_fn: no loss for the model's output head(s) {missing}")

    def _targets(self, message: AxisArray, batched: bool) -> dict[str, torch.Tensor]:
        """The sample's targets by head, as tensors (batched like the input)."""
        value = trigger_value(message, type(self).__name__)
        if not isinstance(value, dict):
            value = {"output": value}
        out = {}
        for key, v in value.items():
            t = self._to_tensor(v.data if isinstance(v, AxisArray) else v)
            out[key] = t.unsqueeze(0) if batched else t
        return out

    def _loss(self, y_pred: Any, y_targ: dict[str, torch.Tensor]) -> torch.Tensor:
        """The weighted sum of the heads' losses (``loss_fn``, ``loss_weights``)."""
        fns = self.settings.loss_fn
        if fns is None:
            raise ValueError("loss_fn: must be set to train the model (partial_fit)")
        if not isinstance(y_pred, dict):
            y_pred = {"output": y_pred}
        weights = self.settings.loss_weights or {}
        total = None
        for key, target in y_targ.items():
            fn = fns.get(key) if isinstance(fns, dict) else fns
            if fn is None:
                raise ValueError(f"loss_fn: no loss for the target of head {key!r}")
            if key not in y_pred:
                raise ValueError(f"the sample's target names head {key!r}; the model's heads "
                                 f"are {sorted(y_pred)}")
            pred = y_pred[key]
            if isinstance(fn, (torch.nn.CrossEntropyLoss, torch.nn.NLLLoss)):
                if pred.ndim == 3:
                    pred = pred.permute(0, 2, 1)
                target = target.long()
            loss = fn(pred, target) * weights.get(key, 1.0)
            total = loss if total is None else total + loss
        return total

    def _step(self, loss: torch.Tensor) -> bool:
        """One optimiser (and schedule) step on ``loss``; skipped, with one warning, when the
        loss is not finite. True when the step was taken."""
        st = self._state
        if not finite_batch(self, torch, loss.detach()):
            st.optimizer.zero_grad()
            return False
        st.optimizer.zero_grad()
        loss.backward()
        st.optimizer.step()
        if st.scheduler is not None:
            st.scheduler.step()
        return True

    # --- checkpoints ------------------------------------------------------------------------

    def save_checkpoint(self, path: str) -> None:
        """Save the model's weights, its constructor arguments (``"config"``) and the
        optimiser's state to ``path`` (ezmsg-learn's layout; ``checkpoint_path`` loads it)."""
        st = self._state
        if st.model is None:
            raise RuntimeError("the model is built at the first message; there is nothing to "
                               "save yet")
        ckpt = {"model_state_dict": st.model.state_dict(),
                "config": dict(st.model_kwargs or self.settings.model_kwargs or {})}
        if getattr(st, "optimizer", None) is not None:
            ckpt["optimizer_state_dict"] = st.optimizer.state_dict()
        torch.save(ckpt, path)
