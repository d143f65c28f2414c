"""The peer's older module name for the spectrum stage: the same objects as :mod:`.spectrum`
under the names the peer's ``spectral`` module offers."""

from .spectrum import OptionsEnum as OptionsEnum
from .spectrum import SpectralOutput as SpectralOutput
from .spectrum import SpectralTransform as SpectralTransform
from .spectrum import Spectrum as Spectrum
from .spectrum import SpectrumSettings as SpectrumSettings
from .spectrum import WindowFunction as WindowFunction

__all__ = [
    "OptionsEnum",
    "SpectralOutput",
    "SpectralTransform",
    "Spectrum",
    "SpectrumSettings",
    "WindowFunction",
]
