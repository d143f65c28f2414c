"""ezmsg-learn's ``linear_model.slda`` path: the shrinkage LDA decoder of ``process.slda``."""

from ..process import slda as _slda

SLDA = _slda.SLDA
SLDASettings = _slda.SLDASettings
SLDAState = _slda.SLDAState
SLDATransformer = _slda.SLDATransformer

__all__ = ["SLDA", "SLDASettings", "SLDAState", "SLDATransformer"]
