"""A 5-stage windowed chain as five Units and as one ``Pipeline`` Unit, in the same run:
source -> ButterworthFilter -> Window -> Spectrum -> RangedAggregate -> Log -> sink.

The source, sink, phases and message shapes are ``benchmarks.graph_chain``'s (10-sample x
64-channel float32 chunks at 1 kHz, 0.5 s windows with a 0.1 s hop): chunks/s over an
as-fast-as-possible phase, then latency (sink callback minus the source's build time of the
chunk that completed the window) at a paced rate far below capacity. Everything runs in one
process, where ezmsg's per-hop cost is what the pipeline saves. Numbers, not assertions.
"""

from __future__ import annotations

import json
import logging
import sys
import tempfile
import uuid
from pathlib import Path

import ezmsg.core as ez
import numpy as np

from benchmarks.graph_chain import (
    AFAP_SECONDS,
    BANDS,
    CHUNKS_PER_WINDOW,
    FS,
    N_CH,
    N_TIME,
    PACED_RATE,
    PACED_SECONDS,
    WINDOW_DUR,
    WINDOW_SHIFT,
    Sink,
    SinkSettings,
    Source,
    SourceSettings,
    Watchdog,
    WatchdogSettings,
    _ms,
    free_port,
)
from ezmsg_sigproc_units.aggregate import (
    AggregationFunction,
    RangedAggregate,
    RangedAggregateSettings,
)
from ezmsg_sigproc_units.butterworthfilter import ButterworthFilter, ButterworthFilterSettings
from ezmsg_sigproc_units.math.log import Log, LogSettings
from ezmsg_sigproc_units.pipeline import Pipeline, PipelineSettings, pipeline_name
from ezmsg_sigproc_units.spectrum import SpectralTransform, Spectrum, SpectrumSettings
from ezmsg_sigproc_units.window import Window, WindowSettings

EVERY_CHUNK_DUR = 0.1
"""Config "every chunk": 0.1 s windows hopping by one chunk, so every chunk crosses every
stage (six hops for the five Units, two for the pipeline)."""


def stages(every_chunk: bool = False) -> tuple:
    """The chain's stage settings, shared by both forms: graph_chain's windows (one chunk in
    ten completes one), or with ``every_chunk`` windows that hop by one chunk."""
    dur, shift = (EVERY_CHUNK_DUR, N_TIME / FS) if every_chunk else (WINDOW_DUR, WINDOW_SHIFT)
    return (
        ButterworthFilterSettings(axis="time", order=4, cuton=1.0, cutoff=100.0),
        WindowSettings(axis="time", newaxis="win", window_dur=dur, window_shift=shift),
        SpectrumSettings(axis="time", transform=SpectralTransform.REL_POWER),
        RangedAggregateSettings(axis="freq", bands=BANDS, operation=AggregationFunction.MEAN),
        LogSettings(clip_zero=True),
    )


STAGES = stages()

UNITS = (ButterworthFilter, Window, Spectrum, RangedAggregate, Log)


def chain_components(form: str, every_chunk: bool = False) -> list[tuple[str, ez.Unit]]:
    """The processing components in order: five Units (``"units"``) or one Pipeline."""
    settings = stages(every_chunk)
    if form == "units":
        return [(u.__name__.upper(), u(s)) for u, s in zip(UNITS, settings, strict=True)]
    return [(pipeline_name(PipelineSettings(stages=settings)),
             Pipeline(PipelineSettings(stages=settings)))]


def run_case(form: str, tmp: Path, every_chunk: bool = False) -> dict:
    """One single-process graph; graph_chain's result dict, its rate in chunks/s (0 if it
    failed)."""
    path = tmp / f"{form}_{int(every_chunk)}.json"
    stages = chain_components(form, every_chunk)
    comps: dict[str, ez.Component] = {
        "SRC": Source(SourceSettings()), **dict(stages),
        "SINK": Sink(SinkSettings(path=str(path))),
        "WATCHDOG": Watchdog(WatchdogSettings(seconds=AFAP_SECONDS + PACED_SECONDS + 40)),
    }
    chain = ["SRC", *(name for name, _ in stages), "SINK"]
    conns = [(comps[a].OUTPUT_SIGNAL, comps[b].INPUT_SIGNAL)
             for a, b in zip(chain[:-1], chain[1:], strict=True)]
    ez.run(components=comps, connections=conns, root_name=f"bench_pipe_{uuid.uuid4().hex[:8]}",
           graph_address=("127.0.0.1", free_port()), auto_start=True)
    if not path.exists():
        return {"rate": 0.0, "latencies": [], "empty": 0}
    out = json.loads(path.read_text())
    if every_chunk:  # graph_chain's sink counts CHUNKS_PER_WINDOW chunks per window
        out["rate"] /= CHUNKS_PER_WINDOW
    return out


def figures(repeats: int = 1, every_chunk: bool = False) -> dict[str, list[dict]]:
    """{"units" / "pipeline": [run_case result per repeat]}, the forms alternating."""
    logger = logging.getLogger("ezmsg")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            out: dict[str, list[dict]] = {"units": [], "pipeline": []}
            for _ in range(repeats):
                for form in out:
                    out[form].append(run_case(form, Path(tmp), every_chunk))
            return out
    finally:
        logger.setLevel(level)


CONFIGS = {
    f"{WINDOW_DUR} s windows, {WINDOW_SHIFT} s hop (1 chunk in "
    f"{CHUNKS_PER_WINDOW} reaches the sink)": False,
    f"{EVERY_CHUNK_DUR} s windows, one-chunk hop (every chunk reaches the sink)": True,
}


def run(repeats: int = 1) -> str:
    """The table: per config and form, the median throughput of ``repeats`` runs (the forms
    alternate, so both see the same background load) and the latencies of all of them."""
    rows = []
    for config, every_chunk in CONFIGS.items():
        rate = {}
        for form, runs in figures(repeats, every_chunk).items():
            lat = [v for r in runs for v in r["latencies"]]
            rate[form] = float(np.median([r["rate"] for r in runs]))
            mean = f"{sum(lat) / len(lat) * 1e3:.2f}" if lat else "n/a"
            rows.append(f"| {config} | {form} | {rate[form]:.0f} | {mean} | "
                        f"{_ms(lat, 0.5)} | {_ms(lat, 0.99)} | {len(lat)} |")
        u = rate["units"]
        rows.append(f"| {config} | pipeline / units | "
                    f"{rate['pipeline'] / u if u else float('nan'):.2f}x | | | | |")
    head = ("| config | form | chunks/s | mean latency (ms) | median latency (ms) | "
            "p99 latency (ms) | latency samples |\n|---|---|---|---|---|---|---|")
    return ("## One-Unit pipeline: ButterworthFilter -> Window -> Spectrum -> RangedAggregate "
            "-> Log\n\n"
            f"Five Units against one `Pipeline` Unit in the same run, one process, {repeats} "
            f"run(s) each (median throughput, latencies pooled); {N_TIME} x {N_CH} float32 "
            f"chunks at {FS:.0f} Hz; latency paced at {PACED_RATE:.0f} chunks/s.\n\n"
            + head + "\n" + "\n".join(rows) + "\n")


if __name__ == "__main__":
    print(run(int(sys.argv[1]) if len(sys.argv) > 1 else 1))
