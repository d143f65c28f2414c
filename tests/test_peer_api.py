"""Every public class, function and settings field of ezmsg-sigproc in the modules we ship
exists here with a compatible signature (issue 12, Deliver item 2).

The peer's API is read from ``tests/data/peer_api.json``, generated once in the peer's
environment by ``tools/peer_api.py``; no peer is needed here. Compatible means:

* settings: the peer's fields come first, in its order, with its defaults (an enum default
  equals its value; a field the peer requires may have a default here); fields we add follow
  them;
* functions: the peer's positional parameters are the first of ours, in order; its
  keyword-only parameters exist; its defaults are ours; any parameter we add has a default;
* enums: every member, with its value; Units: every stream; other classes: every public
  method; processor states: the name (their fields are internals).

A difference not yet closed is listed in ``KNOWN_GAPS`` with its reason. The test fails when
a new difference appears and when a listed one is closed (remove it from the list then).
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import pathlib

import pytest

from tools.peer_api import OUR_PACKAGE, describe

PEER = json.loads((pathlib.Path(__file__).parent / "data" / "peer_api.json").read_text())

# (module, name) -> why it still differs. Keep each reason one line.
KNOWN_GAPS: dict[tuple[str, str], str] = {
    ("bandpower", "bandpower"): "bands=None stands for the peer's default [(17, 30), (70, 170)] "
                                "(same bands, no shared mutable default); bandpower.py's owner",
}


def _same(peer, ours) -> bool:
    """Whether our default equals the peer's: an enum default equals its value
    (``AggregationFunction.MEAN`` == ``"mean"``); nested settings compare on the peer's fields
    (fields we add to them are allowed)."""
    if isinstance(peer, dict) and set(peer) == {"enum"}:
        return _same(peer["enum"], ours)
    if isinstance(ours, dict) and set(ours) == {"enum"}:
        return _same(peer, ours["enum"])
    if isinstance(peer, dict) and set(peer) == {"seq"}:
        return (isinstance(ours, dict) and set(ours) == {"seq"}
                and len(peer["seq"]) == len(ours["seq"])
                and all(_same(p, o) for p, o in zip(peer["seq"], ours["seq"], strict=True)))
    if isinstance(peer, dict) and "obj" in peer:
        return (isinstance(ours, dict) and ours.get("obj") == peer["obj"]
                and all(k in ours["fields"] and _same(v, ours["fields"][k])
                        for k, v in peer["fields"].items()))
    return peer == ours


def _settings_gaps(peer: dict, ours: dict) -> list[str]:
    out = []
    pos, our_pos = peer["positional"], ours["positional"]
    if our_pos[: len(pos)] != pos:
        out.append(f"positional fields {our_pos} do not start with the peer's {pos}")
    fields = {f["name"]: f for f in ours["fields"]}
    for pf in peer["fields"]:
        of = fields.get(pf["name"])
        if of is None:
            out.append(f"field {pf['name']!r} missing")
        elif "default" in pf and not _same(pf["default"], of.get("default", "<required>")):
            # a field the peer requires may have a default here (every peer config still works)
            out.append(f"field {pf['name']!r} default {of.get('default', '<required>')!r} != "
                       f"peer's {pf.get('default', '<required>')!r}")
    peer_names = {f["name"] for f in peer["fields"]}
    out += [f"added field {n!r} has no default" for n, f in fields.items()
            if n not in peer_names and "default" not in f]
    return out


def _function_gaps(peer: dict, ours: dict) -> list[str]:
    out = []
    pos, our_pos = peer["positional"], ours["positional"]
    if our_pos[: len(pos)] != pos:
        out.append(f"positional parameters {our_pos} do not start with the peer's {pos}")
    names = set(our_pos) | set(ours["keyword_only"])
    out += [f"keyword {k!r} missing" for k in peer["keyword_only"] if k not in names]
    for k, v in peer["defaults"].items():
        if k in names and not _same(v, ours["defaults"].get(k, "<required>")):
            out.append(f"default of {k!r} {ours['defaults'].get(k, '<required>')!r} != "
                       f"peer's {v!r}")
    peer_names = set(pos) | set(peer["keyword_only"])
    out += [f"added parameter {k!r} has no default" for k in names - peer_names
            if k not in ours["defaults"]]
    return out


def _gaps(obj, peer: dict) -> list[str]:
    if obj is None:
        return ["missing"]
    ours = describe(obj)
    if peer["kind"] == "state":
        return []
    if ours["kind"] != peer["kind"]:
        return [f"is a {ours['kind']}, the peer's a {peer['kind']}"]
    kind = peer["kind"]
    if kind == "settings":
        return _settings_gaps(peer, ours)
    if kind == "function":
        return _function_gaps(peer, ours)
    if kind == "enum":
        return [f"member {k}={v!r} missing or different" for k, v in peer["members"].items()
                if ours["members"].get(k) != v]
    if kind == "unit":
        return [f"stream {s} missing" for s in peer["streams"] if s not in ours["streams"]]
    return [f"method {m} missing" for m in peer["methods"] if not callable(getattr(obj, m, None))]


def _all_gaps() -> dict[tuple[str, str], list[str]]:
    found = {}
    for module, names in PEER["modules"].items():
        ours = importlib.import_module(f"{OUR_PACKAGE}.{module}")
        for name, peer in names.items():
            gaps = _gaps(getattr(ours, name, None), peer)
            if gaps:
                found[(module, name)] = gaps
    return found


def test_the_list_covers_the_modules_we_ship():
    assert PEER["peer"] == "ezmsg-sigproc 3.11.1"
    # the families this package exists for must be in the list, with their settings
    for module, name in [("butterworthfilter", "ButterworthFilterSettings"),
                         ("spectrum", "SpectrumSettings"), ("window", "WindowSettings"),
                         ("aggregate", "aggregate_slices"), ("util.array", "xp_copy"),
                         ("math.clip", "ClipSettings"), ("resample", "ResampleSettings")]:
        assert name in PEER["modules"][module], (module, name)


def test_every_public_name_of_the_peer_exists_compatibly():
    found = _all_gaps()
    new = {k: v for k, v in found.items() if k not in KNOWN_GAPS}
    closed = sorted(k for k in KNOWN_GAPS if k not in found)
    report = "\n".join(f"{m}.{n}: {'; '.join(g)}" for (m, n), g in sorted(new.items()))
    assert not new, f"differences from the peer's API:\n{report}"
    assert not closed, f"closed, remove from KNOWN_GAPS: {closed}"


@pytest.mark.parametrize("peer,ours,expected", [
    ({"kind": "settings", "positional": ["a", "b"],
      "fields": [{"name": "a", "default": 1}, {"name": "b", "default": 2}]},
     {"kind": "settings", "positional": ["a", "c", "b"],
      "fields": [{"name": "a", "default": 1}, {"name": "c"}, {"name": "b", "default": 2}]},
     ["positional", "no default"]),
    ({"kind": "settings", "positional": ["a", "b"],
      "fields": [{"name": "a", "default": {"enum": "mean"}},
                 {"name": "b", "default": {"obj": "S", "fields": {"x": 1}}}]},
     {"kind": "settings", "positional": ["a", "b"],
      "fields": [{"name": "a", "default": "max"},
                 {"name": "b", "default": {"obj": "S", "fields": {"x": 2, "y": 0}}}]},
     ["'a' default", "'b' default"]),
    ({"kind": "settings", "positional": ["path"], "fields": [{"name": "path", "required": True}]},
     {"kind": "settings", "positional": ["path"], "fields": [{"name": "path", "default": None}]},
     []),
    ({"kind": "function", "positional": ["x", "axis"], "keyword_only": [], "defaults": {}},
     {"kind": "function", "positional": ["x", "dim"], "keyword_only": [], "defaults": {}},
     ["positional", "no default"]),
])
def test_the_comparison_catches_differences(peer, ours, expected, monkeypatch):
    import tests.test_peer_api as me

    monkeypatch.setattr(me, "describe", lambda obj: ours)
    gaps = _gaps(object(), peer)
    assert len(gaps) == len(expected)
    for gap, word in zip(gaps, expected, strict=True):
        assert word in gap


REPLACED_BY_PORTABLE_KERNELS = {
    "util.ewma_mlx_metal", "util.mlx_metal_common", "util.sosfilt_direct",
    "util.sosfilt_mlx_metal", "util.threaded_filt",
}
"""The peer's backend-specific accelerators: our portable kernels replace them
(docs/migration.md)."""


def test_every_module_of_the_peer_exists_here():
    peer_modules = set(PEER["peer_modules"])
    assert REPLACED_BY_PORTABLE_KERNELS <= peer_modules  # still the peer's names
    missing = sorted(m for m in peer_modules - REPLACED_BY_PORTABLE_KERNELS
                     if importlib.util.find_spec(f"ezmsg_sigproc_units.{m}") is None)
    assert not missing, f"modules of the peer we do not ship: {missing}"
