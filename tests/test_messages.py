"""``_messages.replace_fields``, the one output builder: which fields it replaces, copies or
shares, and what it drops."""

from __future__ import annotations

import dataclasses
from types import MappingProxyType

import numpy as np
from ezmsg.util.messages.axisarray import AxisArray

from ezmsg_sigproc_units._messages import replace_fields


@dataclasses.dataclass
class _Tagged(AxisArray):
    tag: str = "none"


def _msg(cls=AxisArray, **kw) -> AxisArray:
    return cls(np.zeros((4, 2)), dims=["time", "ch"],
               axes={"time": AxisArray.TimeAxis(fs=10.0)}, attrs={"a": 1}, key="k",
               stream_dim="time", **kw)


def test_unreplaced_fields_are_shared():
    msg = _msg()
    data = np.ones((4, 2))
    out = replace_fields(msg, data)
    assert type(out) is AxisArray and out is not msg and out.data is data
    assert out.dims is msg.dims and out.axes is msg.axes and out.attrs is msg.attrs
    assert (out.key, out.stream_dim) == ("k", "time")
    assert out == AxisArray(data, dims=["time", "ch"], axes=dict(msg.axes), attrs={"a": 1},
                            key="k", stream_dim="time")


def test_replaced_dims_and_axes_are_copies_and_the_input_is_untouched():
    msg = _msg()
    msg.axes = MappingProxyType(dict(msg.axes))  # any read-only Mapping
    dims = ["win", "ch"]
    axes = {"win": AxisArray.TimeAxis(fs=2.0)}
    out = replace_fields(msg, np.zeros((1, 2)), dims=dims, axes=axes, key="new",
                         attrs={"b": 2})
    assert out.dims == dims and out.dims is not dims
    assert out.axes == axes and out.axes is not axes and type(out.axes) is dict
    assert (out.key, out.attrs) == ("new", {"b": 2})
    assert out.stream_dim is None  # "time" is gone from the dims
    assert msg.dims == ["time", "ch"] and set(msg.axes) == {"time"} and msg.key == "k"
    out.axes["x"] = None  # the output's own dict
    assert "x" not in msg.axes and "x" not in axes


def test_stream_dim_follows_the_dims():
    msg = _msg()
    assert replace_fields(msg, dims=["time", "freq"]).stream_dim == "time"
    assert replace_fields(msg, stream_dim="ch").stream_dim == "ch"
    assert replace_fields(msg, stream_dim="nope").stream_dim is None
    assert replace_fields(msg, dims=["win", "ch"], stream_dim="win").stream_dim == "win"


def test_subclass_fields_are_kept_and_caches_dropped():
    msg = _msg(_Tagged, tag="t")
    msg.__dict__["_fingerprint"] = "stale"
    msg.__dict__["_wire_token"] = b"stale"
    out = replace_fields(msg, np.ones((4, 2)), dims=["time", "ch"])
    assert type(out) is _Tagged and out.tag == "t"
    assert "_fingerprint" not in out.__dict__ and "_wire_token" not in out.__dict__
    plain = _msg()
    plain.__dict__["_fingerprint"] = "stale"
    assert "_fingerprint" not in replace_fields(plain, np.ones((4, 2))).__dict__
