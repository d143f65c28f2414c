import numpy as np
import pytest
import scipy.special as sp
from ezmsg.util.messages.axisarray import AxisArray

from ezmsg_sigproc_units._backend import to_host
from ezmsg_sigproc_units._kernels import activation as K
from ezmsg_sigproc_units.activation import (
    Activation,
    ActivationFunction,
    ActivationSettings,
    ActivationTransformer,
    activation,
)
from ezmsg_sigproc_units.testing import assert_close

REFS = {
    ActivationFunction.NONE: lambda x: x,
    ActivationFunction.SIGMOID: sp.expit,
    ActivationFunction.EXPIT: sp.expit,
    ActivationFunction.LOGIT: sp.logit,
    ActivationFunction.LOGEXPIT: sp.log_expit,
}


def _host(fn, dtype):
    rng = np.random.default_rng(0)
    if fn is ActivationFunction.LOGIT:
        x = np.concatenate([rng.uniform(0, 1, 20), [0.0, 1.0, 1e-30, 1 - 1e-7, 0.5]])
    else:
        x = np.concatenate([rng.standard_normal(20) * 5, [0.0, -80.0, 80.0, -700.0, 700.0]])
    return x.reshape(5, 5).astype(dtype)


def _msg(backend, host):
    return AxisArray(backend.asarray(host), dims=["time", "ch"],
                     axes={"time": AxisArray.TimeAxis(fs=10.0)})


@pytest.mark.parametrize("fn", list(ActivationFunction), ids=lambda f: f.value)
def test_matches_scipy_on_every_backend(backend, float_dtype, fn):
    host = _host(fn, float_dtype)
    with np.errstate(over="ignore", divide="ignore"):
        ref = REFS[fn](host.astype(np.float64))
    with np.errstate(divide="ignore"):  # logit(0), logit(1) on strict's NumPy
        out = activation(fn)(_msg(backend, host))
    # MLX's CPU build evaluates exp/log in float32 precision even for float64 arrays
    loose = float_dtype == "float32" or backend.value == "mlx"
    assert_close(out.data, ref, xp=backend.xp, device=backend.device, dtype=float_dtype,
                 rtol=2e-6 if loose else 1e-13)


@pytest.mark.parametrize("name", ["sigmoid", "expit", "logit", "log_expit"])
def test_portable_kernels_equal_scipy_on_numpy(name):
    """The portable formulas (run through array-api-strict's NumPy) against the native path."""
    import array_api_strict as xps

    kernel = {"sigmoid": K.expit, "expit": K.expit, "logit": K.logit,
              "log_expit": K.log_expit}[name]
    fn = ActivationFunction(name)
    host = _host(fn, "float64")
    with np.errstate(divide="ignore"):
        got = np.asarray(kernel(xps, xps.asarray(host)))
        np.testing.assert_allclose(got, kernel(np, host), rtol=1e-13, atol=1e-300)


def test_logit_outside_the_unit_interval_is_nan(backend):
    host = np.array([[-0.5, 1.5, 0.0, 1.0]])
    with np.errstate(divide="ignore", invalid="ignore"):
        out = activation("logit")(_msg(backend, host.astype("float32")))
    got = to_host(out.data)
    assert np.isnan(got[0, :2]).all() and got[0, 2] == -np.inf and got[0, 3] == np.inf


def test_integer_input_is_computed_in_float(backend):
    host = np.arange(-3, 3, dtype="int32").reshape(3, 2)
    out = activation("sigmoid")(_msg(backend, host))
    dt = "float64" if backend.supports_float64() else "float32"
    assert_close(out.data, sp.expit(host.astype(float)), xp=backend.xp, device=backend.device,
                 dtype=dt, rtol=2e-6 if backend.value == "mlx" else None)
    same = activation("none")(_msg(backend, host))
    assert same.data is not None and str(same.data.dtype).endswith("int32")


def test_names_in_any_case_and_errors():
    for f in ("SIGMOID", "Sigmoid", "log_expit", "LOG_EXPIT", "LOGEXPIT", "logit",
              ActivationFunction.EXPIT, "none"):
        ActivationSettings(function=f)
    for bad in ("relu", "", 3, None):
        with pytest.raises(ValueError, match="^function"):
            ActivationSettings(function=bad)
    assert ActivationSettings().function is ActivationFunction.NONE
    assert ActivationFunction.options() == ["none", "sigmoid", "expit", "logit", "log_expit"]
    assert Activation.SETTINGS is ActivationSettings


def test_string_settings_give_the_member_function():
    host = _host(ActivationFunction.SIGMOID, "float64")
    msg = AxisArray(host, dims=["time", "ch"])
    a = ActivationTransformer(ActivationSettings(function="LOG_EXPIT"))(msg)
    np.testing.assert_allclose(a.data, sp.log_expit(host), rtol=1e-13)
    assert activation(ActivationFunction.NONE)(msg).data is host


def test_input_not_mutated():
    host = _host(ActivationFunction.SIGMOID, "float64")
    data = host.copy()
    activation("expit")(AxisArray(data, dims=["time", "ch"]))
    np.testing.assert_array_equal(data, host)
