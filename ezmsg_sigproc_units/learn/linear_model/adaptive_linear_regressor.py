"""ezmsg-learn's alias module (deprecated there): use
``learn.process.adaptive_linear_regressor``."""

from ..process.adaptive_linear_regressor import (
    AdaptiveLinearRegressorSettings as AdaptiveLinearRegressorSettings,
)
from ..process.adaptive_linear_regressor import (
    AdaptiveLinearRegressorState as AdaptiveLinearRegressorState,
)
from ..process.adaptive_linear_regressor import (
    AdaptiveLinearRegressorTransformer as AdaptiveLinearRegressorTransformer,
)
from ..process.adaptive_linear_regressor import (
    AdaptiveLinearRegressorUnit as AdaptiveLinearRegressorUnit,
)
