"""Catalog entries of the channel selection and quantisation family (see ``catalog.configs``):
slicer, extract_axis, flatten, quantize, digitize, denormalize."""

from __future__ import annotations

from typing import Any

import numpy as np
from ezmsg.util.messages.axisarray import AxisArray

from .backends import Backend
from .catalog_base import Config, _p, _signal


def _wide(b: Backend) -> tuple:
    """The default signal in the backend's widest float (coordinates come out in it), with a
    "freq" CoordinateAxis of float64 values."""
    msg = _signal(b)
    dtype = "float64" if b.supports_float64() else "float32"
    axes: dict[str, Any] = dict(msg.axes)
    axes["freq"] = AxisArray.CoordinateAxis(data=np.linspace(1.0, 8.0, 8), dims=["ch"])
    return (AxisArray(b.xp.astype(msg.data, getattr(b.xp, dtype)), dims=list(msg.dims),
                      axes=axes),)


def _three_d(b: Backend) -> tuple:
    """(time=20, ch=8, feature=2) float32 with "ch" and "feature" label axes."""
    host = np.random.default_rng(1).random((20, 8, 2)).astype("float32") + 0.5
    axes = {"time": AxisArray.TimeAxis(fs=100.0),
            "ch": AxisArray.CoordinateAxis(data=np.array([f"Ch{i}" for i in range(8)]),
                                           dims=["ch"]),
            "feature": AxisArray.CoordinateAxis(data=np.array(["lo", "hi"]), dims=["feature"])}
    return (AxisArray(b.asarray(host), dims=["time", "ch", "feature"], axes=axes),)


def _labelled(b: Backend) -> tuple:
    """The default signal with "ch" labels Ch0..Ch7 on a CoordinateAxis."""
    msg = _signal(b)
    axes = dict(msg.axes)
    axes["ch"] = AxisArray.CoordinateAxis(data=np.array([f"Ch{i}" for i in range(8)]),
                                          dims=["ch"])
    return (AxisArray(msg.data, dims=list(msg.dims), axes=axes),)


def configs() -> list[Config]:
    q = ("quantize", "QuantizeTransformer", "QuantizeSettings")
    d = ("digitize", "DigitizeTransformer", "DigitizeSettings")
    c = [
        Config("quantize", "8 bits", _p(*q, max_val=1.5, min_val=0.5), out_dtype="uint8"),
        Config("quantize", "1 bit", _p(*q, max_val=1.5, min_val=0.5, bits=1),
               out_dtype="bool"),
        Config("quantize", "32 bits (exact top)", _p(*q, max_val=1.5, min_val=0.5, bits=32),
               out_dtype="uint32"),
        Config("digitize", "int16", _p(*d, min_val=0.5, max_val=1.5), out_dtype="int16"),
        Config("digitize", "int32 (exact top)", _p(*d, min_val=0.5, max_val=1.5,
                                                   dtype="int32"), out_dtype="int32"),
        Config("denormalize", "uniform seed=0", _p("denormalize", "DenormalizeTransformer",
                                                   "DenormalizeSettings", seed=0)),
        Config("denormalize", "normal seed=1", _p("denormalize", "DenormalizeTransformer",
                                                  "DenormalizeSettings", distribution="normal",
                                                  seed=1)),
    ]
    e = ("extract_axis", "ExtractAxisData", "ExtractAxisSettings")
    c += [
        Config("extract_axis", "LinearAxis", _p(*e, axis="time"), inputs=_wide),
        Config("extract_axis", "CoordinateAxis", _p(*e, axis="freq"), inputs=_wide),
    ]
    f = ("flatten", "FlattenTransformer", "FlattenSettings")
    c += [
        Config("flatten", "2-D", _p(*f)),
        Config("flatten", "3-D (time, ch x feature)", _p(*f), inputs=_three_d),
        Config("flatten", "3-D feature-major", _p(*f, flatten_axes=("feature", "ch"),
                                                  output_axis="fc"), inputs=_three_d),
    ]
    sl = ("slicer", "SlicerTransformer", "SlicerSettings")
    c += [
        Config("slicer", "slice 2:6", _p(*sl, selection="2:6")),
        Config("slicer", "position 3 (drops ch)", _p(*sl, selection="3")),
        Config("slicer", "positions 1,3,6 (take)", _p(*sl, selection="1,3,6")),
        Config("slicer", "reversed ::-1 (take)", _p(*sl, selection="::-1")),
        Config("slicer", "labels Ch6,Ch1 in selection order", _p(
            *sl, selection="Ch6,Ch1", order="selection"), inputs=_labelled),
        Config("slicer", "regex Ch[2-4]", _p(*sl, selection="Ch[2-4]"), inputs=_labelled),
    ]
    return c
