"""Suite-wide set-up. The backend fixtures come from ezmsg_sigproc_units.testing.plugin."""

import os

os.environ.setdefault("EZMSG_LOGLEVEL", "WARNING")

try:  # float64 on JAX for the float64 tests; our code always passes dtypes explicitly.
    import jax

    jax.config.update("jax_enable_x64", True)
except ImportError:  # pragma: no cover - jax is a test dependency
    pass
