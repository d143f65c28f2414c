"""Print every benchmark table (Markdown). Run with `make bench`."""

from __future__ import annotations

import os
import platform

from . import (
    conditioning,
    graph,
    imports,
    large_chunks,
    learn,
    report,
    spectral,
    transformers,
    window,
)
from . import filter as filter_bench
from . import pipeline as pipeline_bench


def main() -> None:
    print(f"# ezmsg-sigproc-units benchmarks\n\nmachine: {platform.machine()}, "
          f"{os.cpu_count()} cores, Python {platform.python_version()}\n")
    # The graph benchmark forks processes: run it before anything imports JAX (multithreaded,
    # so a fork after it may deadlock).
    print(graph.run())
    print(pipeline_bench.run())
    print(transformers.run())
    print(transformers.run_two_input())
    print(conditioning.run())
    print(learn.run())
    print(window.run())
    print(spectral.run())
    print(filter_bench.run())
    print(large_chunks.run())
    print(report.run())  # also writes benchmarks/results/ (tables, JSON, plots)
    print(imports.run())


if __name__ == "__main__":
    main()
