"""What the processors share (``_processors``): the reset rule's axis resolution, the reused
idle output, and the message contract every processor keeps: input ``axes`` may be any
read-only Mapping, and only ``_messages`` builds AxisArrays or touches their private fields."""

from __future__ import annotations

import ast
from pathlib import Path
from types import MappingProxyType

import numpy as np
import pytest
from ezmsg.baseproc.util.streamdim import resolve_configured_stream_dim
from ezmsg.util.messages.axisarray import AxisArray

from ezmsg_sigproc_units._processors import IdleOutput, stream_axis
from ezmsg_sigproc_units.testing import Backend, split_message
from ezmsg_sigproc_units.testing.catalog import configs

PKG = Path(__file__).resolve().parents[1] / "ezmsg_sigproc_units"


class _Proc:
    """A processor as far as the resolvers read it."""

    STREAMING_DIMS = ("win", "time")


def _m(dims, stream_dim=None) -> AxisArray:
    return AxisArray(np.zeros((2,) * len(dims)), dims=list(dims), stream_dim=stream_dim)


@pytest.mark.parametrize("dims,stream_dim,configured", [
    (("time", "ch"), None, None),  # the fallback
    (("win", "time", "ch"), None, None),  # the first fallback present
    (("ch", "freq"), None, None),  # no fallback present: the first dim
    (("time", "ch"), None, "ch"),  # configured, nothing declared
    (("win", "time", "ch"), "win", None),  # declared
    (("win", "time", "ch"), "win", "win"),  # configured and declared agree
    (("win", "time", "ch"), "win", "time"),  # they disagree: configured wins (with a warning)
])
def test_stream_axis_agrees_with_ezmsg(dims, stream_dim, configured):
    """The inlined common cases give what ezmsg's resolver gives."""
    msg = _m(dims, stream_dim)
    assert stream_axis(_Proc(), msg, configured) == resolve_configured_stream_dim(
        _Proc(), msg, configured)


def test_idle_output_relabels_a_copy():
    template = AxisArray(np.zeros((0, 3)), dims=["time", "ch"],
                         axes={"time": AxisArray.TimeAxis(fs=10.0)}, key="old", attrs={"a": 1})
    template._fingerprint = "stale"  # a cache ezmsg may attach; it must not carry over
    src = AxisArray(np.zeros((7, 3)), dims=["win", "ch"],
                    axes=MappingProxyType({"win": AxisArray.TimeAxis(fs=5.0, offset=2.0)}),
                    key="new", attrs={"b": 2})
    idle = IdleOutput("time", "win")
    assert idle.get("plan", src) is None  # no template yet
    idle.put("plan", template)
    assert idle.get("other plan", src) is None
    out = idle.get("plan", src)
    assert out is not template and out.data is template.data
    assert out.axes["time"] is src.axes["win"] and out.key == "new" and out.attrs == {"b": 2}
    assert "_fingerprint" not in out.__dict__
    assert template.axes["time"].gain == 0.1 and template.key == "old"  # template untouched


def _read_only(msg: AxisArray) -> AxisArray:
    return AxisArray(msg.data, dims=list(msg.dims), axes=MappingProxyType(dict(msg.axes)),
                     attrs=dict(msg.attrs), key=msg.key, stream_dim=msg.stream_dim)


@pytest.mark.parametrize("backend", [Backend.NUMPY, Backend.ARRAY_API_STRICT_DEVICE1],
                         ids=lambda b: b.value)
def test_every_processor_takes_read_only_axes(backend):
    """Every catalog processor runs on messages whose ``axes`` is a read-only Mapping, over
    two chunks (state set up, then used), and leaves its inputs as they were."""
    tried = 0
    for cfg in configs():
        inputs = cfg.inputs(backend)
        if cfg.two_input:
            continue
        whole = inputs[0]
        n = whole.data.shape[whole.dims.index("time")]
        chunks = [_read_only(c) for c in split_message(whole, [n // 2, n - n // 2])]
        before = [(c.data, dict(c.axes), list(c.dims)) for c in chunks]
        proc = cfg.make()
        for c in chunks:
            proc(c)
        for c, (data, axes, dims) in zip(chunks, before, strict=True):
            assert c.data is data and dict(c.axes) == axes and c.dims == dims, cfg.label
        tried += 1
    assert tried > 100


_FORBIDDEN_ATTRS = {"_fingerprint", "_wire_token"}


def _violations(source: str, name: str) -> list[str]:
    """AxisArray construction, ``object.__new__``, ``__dict__`` assignment or a message
    cache field named in ``source`` (module ``name``)."""
    out = []
    for node in ast.walk(ast.parse(source, filename=name)):
        where = f"{name}:{getattr(node, 'lineno', '?')}"
        if isinstance(node, ast.Call):
            f = node.func
            called = getattr(f, "id", None) or getattr(f, "attr", None)
            if called == "AxisArray":
                out.append(f"{where} builds an AxisArray")
        if isinstance(node, ast.Attribute) and node.attr == "__new__" and isinstance(
                node.value, ast.Name) and node.value.id == "object":
            out.append(f"{where} uses object.__new__")
        if isinstance(node, (ast.Assign, ast.AugAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if any(isinstance(t, ast.Attribute) and t.attr == "__dict__" for t in targets):
                out.append(f"{where} assigns __dict__")
        if (isinstance(node, ast.Attribute) and node.attr in _FORBIDDEN_ATTRS) or (
                isinstance(node, ast.Constant) and node.value in _FORBIDDEN_ATTRS):
            out.append(f"{where} touches a message cache field")
    return out


def test_only_messages_builds_axisarrays():
    """Outside ``_messages.py`` (and the test kit, which builds test inputs) no module builds
    an AxisArray or touches its private fields."""
    paths = [p for p in PKG.rglob("*.py")
             if p.name != "_messages.py" and "testing" not in p.relative_to(PKG).parts]
    assert len(paths) > 50
    bad = [v for p in paths for v in _violations(p.read_text(), str(p.relative_to(PKG)))]
    assert not bad, bad


def test_builder_scan_can_fail():
    """Guard: the scan flags each kind of violation."""
    source = (
        "out = AxisArray(x, dims=['time'])\n"
        "out = axisarray.AxisArray(x, dims=['time'])\n"
        "new = object.__new__(AxisArray)\n"
        "new.__dict__ = fields\n"
        "fields.pop('_wire_token', None)\n"
        "msg._fingerprint = None\n"
    )
    found = _violations(source, "example.py")
    lines = sorted(int(v.split(" ", 1)[0].split(":")[1]) for v in found)
    assert lines == list(range(1, 7)), found
