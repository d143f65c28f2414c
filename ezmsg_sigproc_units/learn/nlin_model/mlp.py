"""ezmsg-learn's ``nlin_model.mlp``: the older MLP and its decoder (``process.mlp_old``)."""

from ..model import mlp_old as _old_model
from ..process.mlp_old import MLPProcessor as MLPProcessor
from ..process.mlp_old import MLPSettings as MLPSettings
from ..process.mlp_old import MLPState as MLPState

MLP = _old_model.MLP

__all__ = ["MLP", "MLPProcessor", "MLPSettings", "MLPState"]
