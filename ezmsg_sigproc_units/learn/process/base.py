"""Building a torch model from its settings, a JSON config file and a checkpoint.

ezmsg-learn's ``process.base``: ``ModelInitMixin`` (``_init_model``) gives a model class its
constructor's keyword arguments from four places, each overriding the ones before it (a
changed value is logged as a warning): the ``model_kwargs`` setting, the JSON config file
(``config_path``: an object, or one with a ``"model_params"`` object), the checkpoint's
``"config"`` entry, and what the class infers from the checkpoint's weights (its
``infer_config_from_state_dict`` classmethod, when it has one); then it loads the weights.
"""

from __future__ import annotations

try:
    import torch  # noqa: F401 - the extra this module needs
except ImportError as exc:
    raise ImportError("ezmsg_sigproc_units.learn.process.base needs PyTorch: "
                      "pip install 'ezmsg-sigproc-units[torch]'") from exc

from .._torch_init import ModelInitMixin

__all__ = ["ModelInitMixin"]
