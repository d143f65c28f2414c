"""Sphinx extension: build the documentation's figures when the build starts.

Every ``docs/figures/*.py`` (names starting with an underscore are helpers, not scripts)
exposes ``make(outdir: pathlib.Path) -> None``, which writes PNG files into ``outdir``. All of
them run at ``builder-inited`` with matplotlib's Agg backend, writing into
``docs/_generated/figures/`` (git-ignored); pages include them as
``/_generated/figures/<name>.png``. A script that raises, lacks ``make`` or writes nothing
stops the build with an error naming the script: a figure is never skipped silently.
"""

from __future__ import annotations

import importlib.util
import os
import tempfile
import time
from pathlib import Path

from sphinx.errors import ExtensionError
from sphinx.util import logging

OUT = Path("_generated") / "figures"
logger = logging.getLogger(__name__)


def figure_scripts(srcdir: Path) -> list[Path]:
    """The figure scripts under ``srcdir/figures``, sorted by name."""
    return sorted(p for p in (srcdir / "figures").glob("*.py") if not p.name.startswith("_"))


def run_script(script: Path, outdir: Path) -> None:
    """Import ``script`` as a fresh module and call its ``make(outdir)``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    spec = importlib.util.spec_from_file_location(f"_docs_figure_{script.stem}", script)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    make = getattr(module, "make", None)
    if not callable(make):
        raise TypeError(f"{script.name} defines no make(outdir) function")
    try:
        make(outdir)
    finally:
        plt.close("all")


def build_all(srcdir: Path) -> list[Path]:
    """Run every figure script into ``srcdir/_generated/figures``; return the scripts run.

    Each script writes into a fresh temporary folder first and its files then replace the
    published ones one by one (``os.replace``), so a build running at the same time never
    reads a half-written image."""
    outdir = srcdir / OUT
    outdir.mkdir(parents=True, exist_ok=True)
    scripts = figure_scripts(srcdir)
    for script in scripts:
        start = time.perf_counter()
        with tempfile.TemporaryDirectory(dir=outdir.parent, prefix=".figures-") as tmp:
            try:
                run_script(script, Path(tmp))
            except Exception as exc:  # re-raised as the build's error, naming the script
                msg = f"figure script docs/figures/{script.name} failed: {exc!r}"
                raise ExtensionError(msg) from exc
            made = sorted(Path(tmp).iterdir())
            if not made:
                raise ExtensionError(f"figure script docs/figures/{script.name} wrote no file")
            for path in made:
                os.replace(path, outdir / path.name)
        logger.info("figure %s: %.1f s", script.name, time.perf_counter() - start)
    return scripts


def _on_builder_inited(app) -> None:
    build_all(Path(app.srcdir))


def setup(app):
    app.connect("builder-inited", _on_builder_inited)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
