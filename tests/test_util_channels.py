import numpy as np
import pytest
from ezmsg.util.messages.axisarray import AxisArray

from ezmsg_sigproc_units.util import channels
from ezmsg_sigproc_units.util.channels import (
    AxisFingerprintMemo,
    array_value_fingerprint,
    channel_groups_from_field,
    coord_value_fingerprint,
    fingerprint_stats,
    group_spec_fields,
    group_spec_fingerprint,
    reset_fingerprint_stats,
    resolve_channel_groups,
    validate_channel_groups,
)

DT = [("label", "U4"), ("array", "U1"), ("bank", "U1")]


def _msg(records=None, n=6, stream_dim=None):
    if records is None:
        records = [(f"c{i}", "XY"[i // 4], "BAAB CA"[i]) for i in range(n)]
    axes = {"time": AxisArray.TimeAxis(fs=10.0)}
    if records is not False:
        axes["ch"] = AxisArray.CoordinateAxis(data=np.array(records, dtype=DT), dims=["ch"])
    return AxisArray(np.zeros((3, n)), dims=["time", "ch"], axes=axes, stream_dim=stream_dim)


def _lists(groups):
    return None if groups is None else [g.tolist() for g in groups]


def test_validate_channel_groups():
    validate_channel_groups([[0, 2], [], [3]], 4)  # gaps and empty groups are fine
    with pytest.raises(ValueError, match="^channel_groups: index 4 .*0..3"):
        validate_channel_groups([[0, 4]], 4)
    with pytest.raises(ValueError, match="^channel_groups: index -1"):
        validate_channel_groups([[-1]], 4)
    with pytest.raises(ValueError, match="^channel_groups: groups overlap .*channel 1"):
        validate_channel_groups([[0, 1], [1]], 4)
    with pytest.raises(ValueError, match="^channel_groups: groups overlap"):
        validate_channel_groups([[2, 2]], 4)
    with pytest.raises(ValueError, match="^channel_groups: group 0 holds non-integer"):
        validate_channel_groups([[0.5]], 4)


def test_groups_from_one_or_more_fields_in_first_appearance_order():
    msg = _msg()
    # banks "BAAB C": B first
    assert _lists(channel_groups_from_field(msg, "ch", "bank")) == [[0, 3], [1, 2], [4], [5]]
    assert _lists(channel_groups_from_field(msg, None, ("array", "bank"))) == [
        [0, 3], [1, 2], [4], [5]]
    assert _lists(channel_groups_from_field(msg, "ch", ["array"])) == [[0, 1, 2, 3], [4, 5]]


def test_groups_from_field_none_when_nothing_to_group_by():
    assert channel_groups_from_field(_msg(), "ch", "elec") is None
    assert channel_groups_from_field(_msg(records=False), "ch", "bank") is None
    plain = AxisArray(np.zeros((2, 3)), dims=["time", "ch"],
                      axes={"ch": AxisArray.CoordinateAxis(data=np.array(list("abc")),
                                                           dims=["ch"])})
    assert channel_groups_from_field(plain, "ch", "bank") is None
    short = _msg(records=[("a", "X", "A")] * 2, n=2)
    short = AxisArray(np.zeros((2, 3)), dims=["time", "ch"], axes=short.axes)
    assert channel_groups_from_field(short, "ch", "bank") is None  # 2 records, 3 channels


def test_resolve_channel_groups_every_spec():
    msg = _msg()
    assert resolve_channel_groups(msg, "ch", None) is None
    assert _lists(resolve_channel_groups(msg, None, "array")) == [[0, 1, 2, 3], [4, 5]]
    assert resolve_channel_groups(msg, "ch", "elec") is None
    assert _lists(resolve_channel_groups(msg, "ch", [[5, 0], (2,)])) == [[5, 0], [2]]
    assert _lists(resolve_channel_groups(msg, "ch", lambda m, ax: [[m.dims.index(ax)]])) == [[1]]
    assert resolve_channel_groups(msg, "ch", lambda m, ax: None) is None
    with pytest.raises(ValueError, match="^channel_groups: mixes"):
        resolve_channel_groups(msg, "ch", ["bank", [0]])
    with pytest.raises(ValueError, match="^channel_groups: index 6"):
        resolve_channel_groups(msg, "ch", [[6]])


def test_group_spec_fields_and_fingerprint():
    assert group_spec_fields("bank") == ("bank",)
    assert group_spec_fields(["array", "bank"]) == ("array", "bank")
    assert group_spec_fields([[0, 1]]) is None
    assert group_spec_fields(None) is None and group_spec_fields(len) is None
    assert group_spec_fields([]) is None
    assert group_spec_fingerprint(_msg(), "ch", [[0]]) == ()
    assert group_spec_fingerprint(_msg(), "ch", "bank") == (True,)
    assert group_spec_fingerprint(_msg(), None, ("bank", "elec")) == (False,)
    assert group_spec_fingerprint(_msg(records=False), "ch", "bank") == (False,)


def test_array_value_fingerprint():
    a = np.array(["x", "yy"])
    assert array_value_fingerprint(a) == array_value_fingerprint(np.array(["x", "yy"]))
    assert array_value_fingerprint(a) != array_value_fingerprint(np.array(["x", "yz"]))
    obj = np.array(["x", "yy"], dtype=object)
    assert array_value_fingerprint(obj) == array_value_fingerprint(
        np.array(["x", "".join(["y", "y"])], dtype=object))  # distinct string objects
    hash(array_value_fingerprint(np.array([object(), 1], dtype=object)))
    rec = np.array([(1, 2.0)], dtype=[("a", "i4"), ("b", "f8")])
    assert array_value_fingerprint(rec["b"]) == array_value_fingerprint(np.array([2.0]))


def test_coord_value_fingerprint_by_field():
    msg = _msg()
    moved = _msg(records=[(f"d{i}", "XY"[i // 4], "BAAB CA"[i]) for i in range(6)])
    assert coord_value_fingerprint(msg, "ch") != coord_value_fingerprint(moved, "ch")
    assert coord_value_fingerprint(msg, "ch", ["bank"]) == coord_value_fingerprint(
        moved, "ch", ["bank"])
    assert coord_value_fingerprint(msg, "ch", ["elec"]) == (None,)
    assert coord_value_fingerprint(msg, "time") == ()


def test_memo_reuses_digests_by_identity(monkeypatch):
    monkeypatch.setattr(channels, "_COUNTING", True)
    reset_fingerprint_stats()
    memo = AxisFingerprintMemo("test")
    msg = _msg()
    first = memo.fingerprint(msg)
    assert [name for name, _ in first] == ["ch"]
    assert memo.fingerprint(msg) is first  # same axes mapping
    same_axes = AxisArray(msg.data, dims=msg.dims, axes=dict(msg.axes))
    assert memo.fingerprint(same_axes) == first  # same axis arrays
    other = _msg(records=[(f"d{i}", "X", "A") for i in range(6)])
    assert memo.fingerprint(other) != first
    calls, digests, hits = fingerprint_stats()["test"]
    assert (calls, hits) == (4, 1)
    reset_fingerprint_stats()
    assert fingerprint_stats()["test"] == (0, 0, 0)
    fresh = AxisFingerprintMemo()
    assert fresh.fingerprint(msg, exclude=("ch",)) == ()
    assert AxisFingerprintMemo().fingerprint(msg, names=["time"]) == ()
