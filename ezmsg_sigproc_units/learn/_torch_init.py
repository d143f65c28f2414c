"""Building a torch model from its settings, a JSON config file and a checkpoint.

ezmsg-learn's ``process.base.ModelInitMixin``. The constructor's keyword arguments come from
four places, each overriding the ones before it (a value that changes is logged as a
warning): the ``model_kwargs`` setting, the config file (``config_path``: a JSON object, or
one with a ``"model_params"`` object), the ``"config"`` entry of the checkpoint, and what the
model class infers from the checkpoint's weights (its ``infer_config_from_state_dict``
classmethod, when it has one). Arguments the constructor does not take are dropped with a
warning when they come from a file (a config may describe more than one model); the
``model_kwargs`` setting itself is checked strictly where the settings are made.
"""

from __future__ import annotations

import inspect
import json
from pathlib import Path
from typing import Any

import ezmsg.core as ez

try:
    import torch
except ImportError as exc:
    raise ImportError("ezmsg_sigproc_units.learn (torch models) needs PyTorch: "
                      "pip install 'ezmsg-sigproc-units[torch]'") from exc


def constructor_parameters(model_class: type) -> tuple[set[str], bool]:
    """(the keyword names ``model_class(...)`` takes, whether it takes ``**kwargs`` too)."""
    params = inspect.signature(model_class.__init__).parameters
    names = {n for n, p in params.items() if n != "self"
             and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)}
    return names, any(p.kind is p.VAR_KEYWORD for p in params.values())


def state_dict_of(checkpoint: Any) -> Any:
    """The weights inside a loaded checkpoint (ezmsg-learn's and older layouts, or bare)."""
    if isinstance(checkpoint, dict):
        for key in ("model_state_dict", "state_dict"):
            if key in checkpoint:
                return checkpoint[key]
    return checkpoint


class ModelInitMixin:
    """Model construction for the torch processors (``_init_model``); see the module doc."""

    @staticmethod
    def _merge_config(model_kwargs: dict, config: dict) -> None:
        """Update ``model_kwargs`` in place from ``config`` (or its ``"model_params"``),
        logging every value that differs from the one already there."""
        if not isinstance(config, dict):
            return
        config = config.get("model_params", config)
        for key, value in config.items():
            if key in model_kwargs and model_kwargs[key] != value:
                ez.logger.warning(f"model parameter {key!r}: {value!r} (config or checkpoint) "
                                  f"replaces {model_kwargs[key]!r}")
            model_kwargs[key] = value

    def _filter_model_kwargs(self, model_class: type, kwargs: dict) -> dict:
        """``kwargs`` less the names ``model_class`` does not take (each dropped name is
        logged), unless it takes ``**kwargs``."""
        names, var_kw = constructor_parameters(model_class)
        if var_kw:
            return dict(kwargs)
        dropped = sorted(set(kwargs) - names)
        if dropped:
            ez.logger.warning(f"{model_class.__name__} does not take {dropped}; ignored")
        return {k: v for k, v in kwargs.items() if k in names}

    def _load_checkpoint(self, path: str | Path, device: Any,
                         weights_only: bool | None = None) -> Any:
        path = Path(path)
        if not path.exists():
            raise FileNotFoundError(f"checkpoint_path: {path} does not exist")
        try:
            return torch.load(path, map_location=device, weights_only=weights_only)
        except Exception as exc:
            raise RuntimeError(f"checkpoint_path: cannot load {path}: {exc}") from exc

    def _init_model(
        self,
        model_class: type,
        params: dict[str, Any] | None = None,
        config_path: str | None = None,
        checkpoint_path: str | None = None,
        device: Any = "cpu",
        state_dict_prefix: str | None = None,
        weights_only: bool | None = None,
    ) -> torch.nn.Module:
        """A ``model_class`` instance on ``device``, its arguments merged from ``params``
        (updated in place, so the caller sees the effective arguments), the config file and
        the checkpoint, and the checkpoint's weights loaded (those under
        ``state_dict_prefix`` only, with the prefix removed, when it is given)."""
        kwargs = params if params is not None else {}
        if config_path:
            cfg = Path(config_path)
            if not cfg.exists():
                raise FileNotFoundError(f"config_path: {cfg} does not exist")
            try:
                config = json.loads(cfg.read_text())
            except (OSError, ValueError) as exc:
                raise RuntimeError(f"config_path: cannot read {cfg}: {exc}") from exc
            self._merge_config(kwargs, config)
        weights = None
        if checkpoint_path:
            checkpoint = self._load_checkpoint(checkpoint_path, device, weights_only)
            if isinstance(checkpoint, dict) and "config" in checkpoint:
                self._merge_config(kwargs, checkpoint["config"])
            weights = state_dict_of(checkpoint)
            if state_dict_prefix:
                n = len(state_dict_prefix)
                weights = {k[n:]: v for k, v in weights.items() if k.startswith(state_dict_prefix)}
            infer = getattr(model_class, "infer_config_from_state_dict", None)
            if infer is not None:
                extra = inspect.signature(infer).parameters
                hints = {k: kwargs[k] for k in extra if k != "state_dict" and k in kwargs}
                try:
                    self._merge_config(kwargs, infer(weights, **hints))
                except Exception as exc:
                    raise RuntimeError(f"checkpoint_path: the weights in {checkpoint_path} do "
                                       f"not fit {model_class.__name__}: {exc}") from exc
        final = {k: v for k, v in self._filter_model_kwargs(model_class, kwargs).items()
                 if v is not None}
        try:
            model = model_class(**final)
        except Exception as exc:
            raise ValueError(f"model_kwargs: {model_class.__name__}(**{final}) failed: "
                             f"{exc}") from exc
        if weights:
            missing, unexpected = model.load_state_dict(weights, strict=False, assign=True)
            if missing or unexpected:
                ez.logger.warning(f"checkpoint_path: partial load into {model_class.__name__}; "
                                  f"missing {list(missing)}, unexpected {list(unexpected)}")
        return model.to(device)
