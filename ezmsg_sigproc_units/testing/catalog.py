"""Every processor configuration we claim, run on every backend: the source of the backend
support table in README.md and docs/backends.md.

A cell says how many of a module's configurations returned output in the input's namespace,
on its device and in its dtype. ``tests/test_backend_table.py`` runs this on every CPU backend
and checks that README.md shows exactly the table it produces.

    python -m ezmsg_sigproc_units.testing.catalog            # print the table
    python -m ezmsg_sigproc_units.testing.catalog --write F  # replace it between markers in F
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import numpy as np
from ezmsg.util.messages.axisarray import AxisArray

from .backends import CPU_BACKENDS, Backend
from .catalog_base import Config, _p, _signal, _xy

BEGIN = "<!-- backend-table:begin -->"
END = "<!-- backend-table:end -->"


def _spectrogram_settings() -> Any:
    from ..spectrogram import SpectrogramSettings

    return SpectrogramSettings(window_dur=0.1, window_shift=0.05)


def configs() -> list[Config]:
    c: list[Config] = [
        Config("math.abs", "abs", _p("math.abs", "AbsTransformer")),
        Config("math.clip", "clip", _p("math.clip", "ClipTransformer", "ClipSettings", min=0.6,
                                       max=1.2)),
        Config("math.log", "log10", _p("math.log", "LogTransformer", "LogSettings")),
        Config("math.log", "log2 clip_zero", _p("math.log", "LogTransformer", "LogSettings",
                                                base=2.0, clip_zero=True)),
        Config("math.scale", "scale", _p("math.scale", "ScaleTransformer", "ScaleSettings",
                                         scale=3.0)),
        Config("math.invert", "invert", _p("math.invert", "InvertTransformer")),
        Config("math.difference", "const", _p("math.difference", "ConstDifferenceTransformer",
                                              "ConstDifferenceSettings", value=1.0)),
        Config("math.difference", "two-input", _p("math.difference", "DifferenceProcessor"),
               inputs=lambda b: (_signal(b), _signal(b)), two_input=True),
        Config("math.add", "const", _p("math.add", "ConstAddTransformer", "ConstAddSettings",
                                       value=1.0)),
        Config("math.add", "two-input", _p("math.add", "AddProcessor"),
               inputs=lambda b: (_signal(b), _signal(b)), two_input=True),
        Config("math.pow", "pow", _p("math.pow", "PowTransformer", "PowSettings", exponent=3.0)),
        Config("math.anscombe", "forward", _p("math.anscombe", "AnscombeTransformer")),
    ]
    for method in ("exact", "asymptotic", "algebraic"):
        c.append(Config("math.anscombe", f"inverse {method}",
                        _p("math.anscombe", "InverseAnscombeTransformer",
                           "InverseAnscombeSettings", method=method)))
    for scale_by_fs in (False, True):
        c.append(Config("diff", f"scale_by_fs={scale_by_fs}",
                        _p("diff", "DiffTransformer", "DiffSettings", axis="time",
                           scale_by_fs=scale_by_fs)))
    c += [
        Config("transpose", "swap", _p("transpose", "TransposeTransformer", "TransposeSettings",
                                       axes=("ch", "time"))),
        Config("transpose", "identity", _p("transpose", "TransposeTransformer",
                                           "TransposeSettings", axes=("time", "ch"))),
        Config("linear", "scalar", _p("linear", "LinearTransformTransformer",
                                      "LinearTransformSettings", scale=2.0, offset=1.0)),
        Config("linear", "per-channel", _p("linear", "LinearTransformTransformer",
                                           "LinearTransformSettings",
                                           scale=[float(i) for i in range(8)], offset=0.5)),
    ]
    for mode in ("cart2pol", "pol2cart"):
        c.append(Config("coordinatespaces", mode,
                        _p("coordinatespaces", "CoordinateSpacesTransformer",
                           "CoordinateSpacesSettings", mode=mode), inputs=_xy))
    from ..aggregate import AggregationFunction

    for op in AggregationFunction:
        if op is AggregationFunction.NONE:
            continue
        c.append(Config("aggregate", f"full {op.value}",
                        _p("aggregate", "AggregateTransformer", "AggregateSettings", axis="time",
                           operation=op)))
        c.append(Config("aggregate", f"ranged {op.value}",
                        _p("aggregate", "RangedAggregateTransformer", "RangedAggregateSettings",
                           axis="ch", bands=[(0.0, 2.0), (3.0, 7.0)], operation=op)))
    from ..spectrum import SpectralTransform

    for tr in SpectralTransform:
        complex_out = tr is SpectralTransform.RAW_COMPLEX
        c.append(Config("spectrum", tr.value,
                        _p("spectrum", "SpectrumTransformer", "SpectrumSettings", axis="time",
                           transform=tr), out_dtype="complex64" if complex_out else None))
    c.append(Config("spectrum", "multitaper density",
                    _p("spectrum", "SpectrumTransformer", "SpectrumSettings", axis="time",
                       tapers=3, transform="POWER", scaling="density")))
    for label, kw in (("overlapping", dict(window_dur=0.05, window_shift=0.02)),
                      ("one per message", dict(window_dur=0.05)),
                      ("batch", dict(window_dur=0.05, window_shift=0.05, batch_windows=True))):
        c.append(Config("window", label, _p("window", "WindowTransformer", "WindowSettings", **kw)))
    c.append(Config("spectrogram", "rel dB", _p("spectrogram", "SpectrogramTransformer",
                                                "SpectrogramSettings", window_dur=0.05,
                                                window_shift=0.02)))
    for agg in ("mean", "trapezoid"):
        c.append(Config("bandpower", agg, _p("bandpower", "BandPowerTransformer",
                                             "BandPowerSettings", bands=[(5.0, 20.0)],
                                             aggregation=agg,
                                             spectrogram_settings=_spectrogram_settings())))
    c.append(Config("welch", "density", _p("welch", "WelchTransformer", "WelchSettings",
                                           segment_dur=0.05, n_segments=2)))
    c += _filter_configs()
    c.append(Config("materialize", "sync", _p("materialize", "MaterializeTransformer")))
    for target in ("numpy", "array_api_strict", "torch", "jax", "mlx"):
        c.append(Config("asarray", f"to {target}",
                        _p("asarray", "AsArrayTransformer", "AsArraySettings", backend=target),
                        target=target))
    from . import (
        catalog_buffers,
        catalog_channels,
        catalog_events,
        catalog_learn,
        catalog_notch,
        catalog_routing,
        catalog_scaling,
        catalog_spatial,
        catalog_wavelets,
    )

    for family in (catalog_scaling, catalog_spatial, catalog_channels, catalog_notch,
                   catalog_buffers, catalog_events, catalog_routing, catalog_wavelets,
                   catalog_learn):
        c += family.configs()
    return c


def _long(b: Backend) -> tuple:
    return (_signal(b, shape=(200, 8)),)


def _irregular(b: Backend) -> tuple:
    rng = np.random.default_rng(1)
    times = np.cumsum(rng.uniform(0.005, 0.015, 40))
    host = rng.standard_normal((40, 8)).astype("float32")
    return (AxisArray(b.asarray(host), dims=["time", "ch"],
                      axes={"time": AxisArray.CoordinateAxis(data=times, dims=["time"])}),)


def _butter(**kw: Any) -> Any:
    from ..butterworthfilter import ButterworthFilterSettings

    return ButterworthFilterSettings(axis="time", coef_type="sos", **kw)


def _filter_configs() -> list[Config]:
    """The filtering family (fs = 100 Hz inputs)."""
    from ..downsample import DownsampleSettings
    from ..filterbank import FilterbankMode, MinPhaseMode

    t = dict(axis="time")
    kernels = [np.full(5, 0.2), np.array([1.0, -1.0]), np.hanning(9)]
    c = [
        Config("filter", "sos", _p("filter", "FilterTransformer", "FilterSettings", **t,
                                   coef_type="sos",
                                   coefs=np.array([[0.2, 0.4, 0.2, 1.0, -0.4, 0.2]]))),
        Config("filter", "fir ba", _p("filter", "FilterTransformer", "FilterSettings", **t,
                                      coefs=(np.hanning(7) / 3.0, np.array([1.0])))),
        Config("butterworthfilter", "bandpass sos",
               _p("butterworthfilter", "ButterworthFilterTransformer",
                  "ButterworthFilterSettings", **t, order=4, cuton=5.0, cutoff=30.0,
                  coef_type="sos")),
        Config("butterworthfilter", "lowpass ba",
               _p("butterworthfilter", "ButterworthFilterTransformer",
                  "ButterworthFilterSettings", **t, order=2, cutoff=20.0)),
        Config("cheby", "cheby1 bandpass",
               _p("cheby", "ChebyshevFilterTransformer", "ChebyshevFilterSettings", **t,
                  order=4, ripple_tol=0.5, Wn=(5.0, 30.0), btype="bandpass", coef_type="sos")),
        Config("cheby", "cheby2 lowpass",
               _p("cheby", "ChebyshevFilterTransformer", "ChebyshevFilterSettings", **t,
                  order=4, ripple_tol=40.0, Wn=20.0, cheby_type="cheby2")),
        Config("firfilter", "31 taps lowpass",
               _p("firfilter", "FIRFilterTransformer", "FIRFilterSettings", **t, order=31,
                  cutoff=20.0)),
        Config("firfilter", "101 taps bandpass (fft)",
               _p("firfilter", "FIRFilterTransformer", "FIRFilterSettings", **t, order=101,
                  cutoff=[5.0, 30.0], pass_zero=False)),
        Config("kaiser", "lowpass", _p("kaiser", "KaiserFilterTransformer",
                                       "KaiserFilterSettings", **t, cutoff=20.0, ripple=40.0,
                                       width=10.0)),
        Config("fir_pmc", "bandpass", _p("fir_pmc", "ParksMcClellanFIRTransformer",
                                         "ParksMcClellanFIRSettings", **t, order=30,
                                         cuton=10.0, cutoff=30.0, transition=5.0)),
        Config("gaussiansmoothing", "causal",
               _p("gaussiansmoothing", "GaussianSmoothingFilterTransformer",
                  "GaussianSmoothingSettings", **t, sigma=0.02, causal=True)),
        Config("combfilter", "notch 3 harmonics",
               _p("combfilter", "CombFilterTransformer", "CombFilterSettings", **t,
                  fundamental_freq=10.0, num_harmonics=3, coef_type="sos")),
        Config("fir_hilbert", "filter", _p("fir_hilbert", "FIRHilbertFilterTransformer",
                                           "FIRHilbertFilterSettings", **t, order=30,
                                           f_lo=5.0, trans_lo=5.0)),
        Config("fir_hilbert", "envelope", _p("fir_hilbert", "FIRHilbertEnvelopeTransformer",
                                             "FIRHilbertFilterSettings", **t, order=30,
                                             f_lo=5.0, trans_lo=5.0)),
        Config("butterworthzerophase", "bandpass",
               _p("butterworthzerophase", "ButterworthZeroPhaseTransformer",
                  "ButterworthZeroPhaseSettings", **t, order=2, cuton=5.0, cutoff=20.0,
                  coef_type="sos", max_pad_duration=0.05)),
        Config("decimate", "factor 2", _p("decimate", "DecimateTransformer", "DecimateSettings",
                                          **t, factor=2)),
        Config("decimate", "target_rate 25", _p("decimate", "DecimateTransformer",
                                                "DecimateSettings", **t, target_rate=25.0)),
        Config("downsample", "factor 3", _p("downsample", "DownsampleTransformer",
                                            "DownsampleSettings", **t, factor=3)),
        Config("downsample", "target_rate 30", _p("downsample", "DownsampleTransformer",
                                                  "DownsampleSettings", **t, target_rate=30.0)),
        Config("resample", "polyphase down", _p("resample", "ResampleTransformer",
                                                "ResampleSettings", **t, resample_rate=40.0),
               inputs=_long),
        Config("resample", "polyphase up", _p("resample", "ResampleTransformer",
                                              "ResampleSettings", **t, resample_rate=250.0),
               inputs=_long),
        Config("resample", "linear", _p("resample", "ResampleTransformer", "ResampleSettings",
                                        **t, resample_rate=30.0, method="linear"),
               inputs=_long),
        Config("resample", "irregular timestamps",
               _p("resample", "ResampleTransformer", "ResampleSettings", **t,
                  resample_rate=50.0), inputs=_irregular),
        Config("singlebandpow", "rms", _p("singlebandpow", "RMSBandPowerTransformer",
                                          "RMSBandPowerSettings",
                                          bandpass=_butter(order=4, cuton=5.0, cutoff=30.0),
                                          bin_duration=0.05)),
        Config("singlebandpow", "square law",
               _p("singlebandpow", "SquareLawBandPowerTransformer",
                  "SquareLawBandPowerSettings", bandpass=_butter(order=4, cuton=5.0, cutoff=30.0),
                  lowpass=_butter(order=2, cutoff=10.0),
                  downsample=DownsampleSettings(axis="time", factor=2))),
    ]
    for mode in FilterbankMode:
        c.append(Config("filterbank", mode.name.lower(),
                        _p("filterbank", "FilterbankTransformer", "FilterbankSettings", **t,
                           kernels=kernels, mode=mode)))
    c.append(Config("filterbank", "min-phase homomorphic",
                    _p("filterbank", "FilterbankTransformer", "FilterbankSettings", **t,
                       kernels=[np.hanning(9)], min_phase=MinPhaseMode.HOMOMORPHIC)))
    return c


def _check(cfg: Config, b: Backend) -> bool:
    from .._backend import array_namespace, backend_name, device_of, dtype_name

    inputs = cfg.inputs(b)
    proc = cfg.make()
    if cfg.two_input:
        proc.push_a(inputs[0])
        proc.push_b(inputs[1])
        out = proc()
    else:
        out = proc(inputs[0])
    x = inputs[0].data
    if cfg.target is not None:  # a boundary: output lands on the target by design
        return backend_name(out.data) == cfg.target and str(out.data.dtype).endswith("float32")
    return (array_namespace(out.data) is array_namespace(x)
            and str(device_of(out.data)) == str(device_of(x))
            and dtype_name(out.data.dtype) == (cfg.out_dtype or dtype_name(x.dtype)))


def results(backends=CPU_BACKENDS) -> dict[tuple[str, str], dict[Backend, bool]]:
    """{(module, label): {backend: worked}} for every available backend."""
    out: dict[tuple[str, str], dict[Backend, bool]] = {}
    usable = [b for b in backends if b.unavailable_reason() is None]
    for cfg in configs():
        row = {}
        for b in usable:
            try:
                row[b] = _check(cfg, b)
            except Exception:  # noqa: BLE001 - a failure is a cell in the table, not a crash
                row[b] = False
        out[(cfg.module, cfg.label)] = row
    return out


def markdown(res: dict[tuple[str, str], dict[Backend, bool]]) -> str:
    backends = list(next(iter(res.values())).keys())
    modules: dict[str, list[dict[Backend, bool]]] = {}
    for (module, _), row in res.items():
        modules.setdefault(module, []).append(row)
    lines = ["| module | configs | " + " | ".join(b.value for b in backends) + " |",
             "|---|---|" + "---|" * len(backends)]
    for module, rows in modules.items():
        cells = [f"{sum(r[b] for r in rows)}/{len(rows)}" for b in backends]
        lines.append(f"| `{module}` | {len(rows)} | " + " | ".join(cells) + " |")
    total = len(res)
    all_ok = sum(all(r.values()) for r in res.values())
    lines.append(f"\n{all_ok} of {total} configurations work on all of: "
                 + ", ".join(b.value for b in backends) + ".")
    return "\n".join(lines)


def replace_between_markers(text: str, table: str) -> str:
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    return f"{head}{BEGIN}\n{table}\n{END}{tail}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", type=Path, action="append", default=[],
                        help="file(s) whose table between the markers is replaced")
    args = parser.parse_args()
    table = markdown(results())
    for path in args.write:
        path.write_text(replace_between_markers(path.read_text(), table))
    print(table)


if __name__ == "__main__":
    main()
