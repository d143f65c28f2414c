"""Suite-wide set-up. The backend fixtures come from ezmsg_sigproc_units.testing.plugin.

``tests`` is a package, so pytest puts the repository root on ``sys.path``: test modules
import ``tests.helpers`` and ``examples`` by their package names."""

import os

os.environ.setdefault("EZMSG_LOGLEVEL", "WARNING")
# JAX compiles every new op shape on first use, and the suite makes thousands of shapes: with
# XLA's CPU backend optimisations off those compiles take a quarter less time (measured on the
# JAX tests of four modules: 64 s -> 48 s), results within the tests' tolerances. Test-only;
# an XLA_FLAGS of your own wins.
os.environ.setdefault("XLA_FLAGS", "--xla_backend_optimization_level=0")

try:  # float64 on JAX for the float64 tests; our code always passes dtypes explicitly.
    import jax

    jax.config.update("jax_enable_x64", True)
except ImportError:  # pragma: no cover - jax is a test dependency
    pass
