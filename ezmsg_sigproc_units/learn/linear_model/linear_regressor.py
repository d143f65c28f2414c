"""ezmsg-learn's alias module (deprecated there): use ``learn.process.linear_regressor``."""

from ..process.linear_regressor import (
    LinearRegressorSettings as LinearRegressorSettings,
)
from ..process.linear_regressor import (
    LinearRegressorState as LinearRegressorState,
)
from ..process.linear_regressor import (
    LinearRegressorTransformer as LinearRegressorTransformer,
)
