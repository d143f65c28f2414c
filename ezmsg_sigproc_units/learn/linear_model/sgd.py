"""ezmsg-learn's alias module (deprecated there): use ``learn.process.sgd``."""

from ..process.sgd import SGDDecoder as SGDDecoder
from ..process.sgd import SGDDecoderSettings as SGDDecoderSettings
from ..process.sgd import SGDDecoderTransformer as SGDDecoderTransformer
