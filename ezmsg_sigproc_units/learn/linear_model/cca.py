"""ezmsg-learn's ``linear_model.cca``: the same :class:`IncrementalCCA` as ``learn.model.cca``."""

from ..model.cca import IncrementalCCA as IncrementalCCA

__all__ = ["IncrementalCCA"]
