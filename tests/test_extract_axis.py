import numpy as np
import pytest
from ezmsg.util.messages.axisarray import AxisArray

from ezmsg_sigproc_units.extract_axis import (
    ExtractAxisData,
    ExtractAxisDataUnit,
    ExtractAxisSettings,
)
from ezmsg_sigproc_units.testing import assert_chunked_equals_whole, assert_close


def _msg(backend, n=4, dtype="float32"):
    freqs = np.array([1.5, 3.0, 4.5])
    return AxisArray(backend.asarray(np.zeros((n, 3, 2), dtype=dtype)),
                     dims=["time", "freq", "ch"],
                     axes={"time": AxisArray.TimeAxis(fs=10.0, offset=3.0),
                           "freq": AxisArray.CoordinateAxis(data=freqs, dims=["freq"]),
                           "ch": AxisArray.CoordinateAxis(data=np.array(["a", "b"]),
                                                          dims=["ch"])})


def _float(backend):
    return "float64" if backend.supports_float64() else "float32"


def test_coordinate_axis_moves_to_the_device(backend):
    msg = _msg(backend)
    out = ExtractAxisData(ExtractAxisSettings())(msg)
    assert out.dims == ["freq"] and list(out.axes) == ["freq"]
    assert out.axes["freq"] is msg.axes["freq"]
    assert_close(out.data, np.array([1.5, 3.0, 4.5]), xp=backend.xp, device=backend.device,
                 dtype=_float(backend))


def test_linear_axis_along_the_reference(backend):
    msg = _msg(backend, n=5)
    out = ExtractAxisData(ExtractAxisSettings(axis="time"))(msg)
    assert out.dims == ["time"] and out.axes["time"] is msg.axes["time"]
    assert_close(out.data, 3.0 + 0.1 * np.arange(5), xp=backend.xp, device=backend.device,
                 dtype=_float(backend))
    empty = ExtractAxisData(ExtractAxisSettings(axis="time"))(_msg(backend, n=0))
    assert tuple(empty.data.shape) == (0,)


def test_time_values_chunked_equal_whole(backend):
    msg = _msg(backend, n=20)
    assert_chunked_equals_whole(lambda: ExtractAxisData(ExtractAxisSettings(axis="time")), msg,
                                reference=3.0 + 0.1 * np.arange(20))


def test_linear_axis_of_another_dim_uses_the_reference_length():
    """As the peer: a LinearAxis has no length of its own, ``reference`` gives it."""
    msg = AxisArray(np.zeros((4, 3)), dims=["time", "freq"],
                    axes={"time": AxisArray.TimeAxis(fs=10.0),
                          "freq": AxisArray.LinearAxis(gain=2.0, offset=1.0)})
    out = ExtractAxisData(ExtractAxisSettings())(msg)
    np.testing.assert_array_equal(out.data, [1.0, 3.0, 5.0, 7.0])
    assert out.dims == ["time"]


def test_string_labels_stay_on_the_host(backend):
    out = ExtractAxisData(ExtractAxisSettings(axis="ch"))(_msg(backend))
    assert isinstance(out.data, np.ndarray)
    np.testing.assert_array_equal(out.data, ["a", "b"])
    assert out.dims == ["ch"]


def test_multi_dim_coordinates_keep_their_axes():
    times = np.arange(6.0).reshape(3, 2)
    msg = AxisArray(np.zeros((3, 2)), dims=["win", "time"],
                    axes={"win": AxisArray.LinearAxis(gain=1.0),
                          "t": AxisArray.CoordinateAxis(data=times, dims=["win", "time"])})
    out = ExtractAxisData(ExtractAxisSettings(axis="t"))(msg)
    assert out.dims == ["win", "time"] and list(out.axes) == ["win"]
    np.testing.assert_array_equal(out.data, times)


def test_errors_name_the_axis():
    msg = AxisArray(np.zeros((3, 2)), dims=["time", "ch"],
                    axes={"time": AxisArray.TimeAxis(fs=1.0)})
    with pytest.raises(ValueError, match=r"^axis: .*'freq'.*\['time'\]"):
        ExtractAxisData(ExtractAxisSettings())(msg)
    with pytest.raises(ValueError, match="^reference: .*'win'"):
        ExtractAxisData(ExtractAxisSettings(axis="time", reference="win"))(msg)


def test_settings():
    assert (ExtractAxisSettings().axis, ExtractAxisSettings().reference) == ("freq", "time")
    with pytest.raises(ValueError, match="^axis"):
        ExtractAxisSettings(axis="")
    with pytest.raises(ValueError, match="^reference"):
        ExtractAxisSettings(reference=3)
    assert ExtractAxisDataUnit.SETTINGS is ExtractAxisSettings
