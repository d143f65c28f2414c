"""Per-call cost of every transformer next to the bare NumPy expression (the floor)."""

from __future__ import annotations

import numpy as np
from ezmsg.util.messages.axisarray import AxisArray

from .timing import paired_us, table

SHAPES = [(1, 8), (10, 64), (200, 8)]


def _cases():
    from ezmsg_sigproc_units.aggregate import (
        AggregateSettings,
        AggregateTransformer,
        AggregationFunction,
        RangedAggregateSettings,
        RangedAggregateTransformer,
    )
    from ezmsg_sigproc_units.coordinatespaces import CoordinateSpacesTransformer
    from ezmsg_sigproc_units.diff import DiffSettings, DiffTransformer
    from ezmsg_sigproc_units.linear import LinearTransformSettings, LinearTransformTransformer
    from ezmsg_sigproc_units.math.abs import AbsTransformer
    from ezmsg_sigproc_units.math.add import ConstAddSettings, ConstAddTransformer
    from ezmsg_sigproc_units.math.anscombe import AnscombeTransformer
    from ezmsg_sigproc_units.math.clip import ClipSettings, ClipTransformer
    from ezmsg_sigproc_units.math.difference import (
        ConstDifferenceSettings,
        ConstDifferenceTransformer,
    )
    from ezmsg_sigproc_units.math.invert import InvertTransformer
    from ezmsg_sigproc_units.math.log import LogSettings, LogTransformer
    from ezmsg_sigproc_units.math.pow import PowSettings, PowTransformer
    from ezmsg_sigproc_units.math.scale import ScaleSettings, ScaleTransformer
    from ezmsg_sigproc_units.transpose import TransposeSettings, TransposeTransformer

    # (name, stateless math op?, processor factory, bare numpy floor taking x)
    return [
        ("abs", True, AbsTransformer, np.abs),
        ("clip", True, lambda: ClipTransformer(ClipSettings(min=-1.0, max=1.0)),
         lambda x: np.clip(x, -1.0, 1.0)),
        ("log", True, lambda: LogTransformer(LogSettings(base=10.0)), np.log10),
        ("scale", True, lambda: ScaleTransformer(ScaleSettings(scale=2.0)), lambda x: x * 2.0),
        ("invert", True, InvertTransformer, lambda x: 1.0 / x),
        ("const_difference", True,
         lambda: ConstDifferenceTransformer(ConstDifferenceSettings(value=1.0)), lambda x: x - 1.0),
        ("const_add", True, lambda: ConstAddTransformer(ConstAddSettings(value=1.0)),
         lambda x: x + 1.0),
        ("pow", True, lambda: PowTransformer(PowSettings(exponent=3.0)), lambda x: x**3.0),
        ("anscombe", True, AnscombeTransformer, lambda x: 2.0 * np.sqrt(x + 0.375)),
        ("diff", False, lambda: DiffTransformer(DiffSettings(axis="time")),
         lambda x: np.diff(x, axis=0, prepend=x[:1])),
        ("transpose", False, lambda: TransposeTransformer(TransposeSettings(axes=("ch", "time"))),
         lambda x: np.transpose(x)),
        ("linear", False, lambda: LinearTransformTransformer(LinearTransformSettings(scale=2.0,
                                                                                     offset=1.0)),
         lambda x: x * 2.0 + 1.0),
        ("coordinatespaces", False, CoordinateSpacesTransformer, None),
        ("aggregate(mean)", False,
         lambda: AggregateTransformer(AggregateSettings(axis="time",
                                                        operation=AggregationFunction.MEAN)),
         lambda x: np.mean(x, axis=0)),
        ("ranged_aggregate(2 bands)", False,
         lambda: RangedAggregateTransformer(RangedAggregateSettings(
             axis="ch", bands=[(0.0, 3.0), (4.0, 7.0)])),
         lambda x: np.stack([x[:, 0:4].mean(axis=1), x[:, 4:8].mean(axis=1)], axis=1)),
    ]


def _polar(x: np.ndarray) -> tuple:
    return np.hypot(x[:, 0], x[:, 1]), np.arctan2(x[:, 1], x[:, 0])


def _message(shape: tuple[int, int], rng: np.random.Generator, *, xy: bool = False) -> AxisArray:
    n, ch = shape
    if xy:
        ch = 2
    x = (rng.random((n, ch)) + 0.5).astype(np.float32)
    return AxisArray(x, dims=["time", "ch"],
                     axes={"time": AxisArray.TimeAxis(fs=1000.0),
                           "ch": AxisArray.LinearAxis(gain=1.0, offset=0.0)})


def run() -> str:
    rng = np.random.default_rng(0)
    rows = []
    worst = 0.0
    for name, is_math, factory, floor in _cases():
        row: list[object] = [name]
        for shape in SHAPES:
            msg = _message(shape, rng, xy=name == "coordinatespaces")
            proc = factory()
            floor_fn = floor or _polar
            ours, bare, over = paired_us(lambda: proc(msg), lambda: floor_fn(msg.data))
            row += [ours, bare, over]
            if is_math and shape == (10, 64):
                worst = max(worst, over)
        rows.append(row)
    headers = ["transformer"]
    for n, ch in SHAPES:
        headers += [f"ours {n}x{ch}", f"numpy {n}x{ch}", f"overhead {n}x{ch}"]
    text = ("### Per-call cost, float32 numpy, median us per call\n\nOverhead = median of "
            "paired differences (ours and the bare NumPy expression timed alternately)."
            "\n\n") + table(headers, rows)
    text += (f"\n\nWorst framework overhead of a stateless math op at 10x64: {worst:.2f} us "
             "(target <= 1.5 us).\n")
    return text


def run_two_input() -> str:
    from ezmsg_sigproc_units.math.add import AddProcessor

    rng = np.random.default_rng(1)
    rows = []
    for shape in SHAPES:
        a = _message(shape, rng)
        b = _message(shape, rng)
        proc = AddProcessor()

        def pair() -> object:
            proc.push_a(a)
            proc.push_b(b)
            return proc()

        ours, bare, over = paired_us(pair, lambda: a.data + b.data)
        rows.append([f"{shape[0]}x{shape[1]}", ours, bare, over])
    return ("### Two-input Add (push_a + push_b + call), median us per pair\n\n"
            + table(["shape", "ours", "numpy a+b", "overhead"], rows) + "\n")
