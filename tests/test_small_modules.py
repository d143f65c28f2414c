"""The peer's small public modules: aliases and re-exports under the peer's paths."""

import importlib
import sys
import warnings

import ezmsg.baseproc as baseproc
import pytest

from ezmsg_sigproc_units import spectral, spectrum


def test_spectral_aliases_are_the_spectrum_objects():
    for name in spectral.__all__:
        assert getattr(spectral, name) is getattr(spectrum, name)
    assert set(spectral.__all__) >= {"Spectrum", "SpectrumSettings", "WindowFunction",
                                     "SpectralTransform", "SpectralOutput", "OptionsEnum"}


def _fresh_import(name):
    sys.modules.pop(name, None)
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        mod = importlib.import_module(name)
    return mod, [w for w in rec if issubclass(w.category, DeprecationWarning)]


def test_base_reexports_baseproc_and_warns():
    mod, warned = _fresh_import("ezmsg_sigproc_units.base")
    assert warned and "ezmsg.baseproc" in str(warned[0].message)
    assert len(mod.__all__) == 52
    for name in mod.__all__:
        assert getattr(mod, name) is getattr(baseproc, name), name


def test_asio_reexports_and_warns():
    from ezmsg.baseproc.util import asio

    mod, warned = _fresh_import("ezmsg_sigproc_units.util.asio")
    assert warned
    for name in ("CoroutineExecutionError", "SyncToAsyncGeneratorWrapper", "run_coroutine_sync"):
        assert getattr(mod, name) is getattr(asio, name)


@pytest.mark.parametrize("name,names", [
    ("typeresolution", ["TypeLike", "check_message_type_compatibility", "resolve_typevar"]),
    ("profile", ["HEADER", "get_logger_path", "logger", "profile_method", "profile_subpub",
                 "_setup_logger"]),
])
def test_util_reexports(name, names):
    ours = importlib.import_module(f"ezmsg_sigproc_units.util.{name}")
    theirs = importlib.import_module(f"ezmsg.baseproc.util.{name}")
    assert set(ours.__all__) == set(names)
    for n in names:
        assert getattr(ours, n) is getattr(theirs, n)
