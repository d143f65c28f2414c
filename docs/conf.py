"""Sphinx configuration for ``make docs`` (warnings are errors).

Two local extensions in ``_ext/`` run when the build starts: ``apiref`` writes one API page per
public module into ``_generated/api/``, and ``figures`` runs every ``figures/*.py`` script into
``_generated/figures/``. Both folders are git-ignored.
"""

import os
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # figure scripts run headless, also under a desktop session

sys.path.insert(0, str(Path(__file__).parent / "_ext"))

project = "ezmsg-sigproc-units"
author = "ezmsg-sigproc-units contributors"
extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    "apiref",
    "figures",
]
source_suffix = {".md": "markdown", ".rst": "restructuredtext"}
exclude_patterns = ["_build", "Thumbs.db", ".DS_Store"]
html_theme = "alabaster"
html_theme_options = {
    "description": "Streaming signal processing for ezmsg on any Array API backend",
    "page_width": "1200px",  # API signatures and the figures are wide
    "sidebar_width": "260px",
    "body_max_width": "none",  # the page width, not 800 px, bounds the text column
    "fixed_sidebar": True,
}
html_title = "ezmsg-sigproc-units"

myst_enable_extensions = ["colon_fence"]
myst_heading_anchors = 3

autodoc_member_order = "bysource"
autodoc_typehints = "description"
autodoc_typehints_description_target = "documented"  # no list of bare names and types
autodoc_default_options = {"show-inheritance": True}
napoleon_google_docstring = True
napoleon_numpy_docstring = True

# Cross-references to classes of ezmsg, ezmsg-baseproc, NumPy, ... cannot resolve without
# intersphinx (no network during the build), and are not checked.
nitpicky = False

# The figure scripts and autodoc import array libraries; keep their thread pools small on
# shared machines (an explicit setting in the environment wins).
os.environ.setdefault("OMP_NUM_THREADS", "1")
