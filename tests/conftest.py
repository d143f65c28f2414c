"""Suite-wide set-up. The backend fixtures come from ezmsg_sigproc_units.testing.plugin.

``tests`` is a package, so pytest puts the repository root on ``sys.path``: test modules
import ``tests.helpers`` and ``examples`` by their package names."""

import os

os.environ.setdefault("EZMSG_LOGLEVEL", "WARNING")

try:  # float64 on JAX for the float64 tests; our code always passes dtypes explicitly.
    import jax

    jax.config.update("jax_enable_x64", True)
except ImportError:  # pragma: no cover - jax is a test dependency
    pass


def pytest_collection_modifyitems(config, items):
    """Under pytest-xdist (``make test``), run every real-graph test on one worker, one after
    another: they bind loopback ports and share-memory names, and stay timing-tolerant only
    without a second graph competing."""
    import pytest

    for item in items:
        if item.get_closest_marker("slow") is not None:
            item.add_marker(pytest.mark.xdist_group("ezmsg-graph"))
