"""Every public class, function and settings field of ezmsg-learn 1.16.2 exists under
``ezmsg_sigproc_units.learn`` with a compatible signature, and every alias module re-exports
what the peer's does (issues 15 and 16; the torch-hosting modules are checked where torch is
installed).

The peer's API is read from ``tests/data/peer_api_learn.json`` (``python -m tools.peer_api
--learn`` in ``.venv-peer``); the comparison is the one of ``tests/test_peer_api.py``.
"""

from __future__ import annotations

import importlib
import json
import pathlib

import pytest

from tests.test_peer_api import _gaps

PEER = json.loads((pathlib.Path(__file__).parents[1] / "data" / "peer_api_learn.json")
                  .read_text())
PACKAGE = "ezmsg_sigproc_units.learn"

# (module, name) -> why it still differs. Keep each reason one line.
KNOWN_GAPS: dict[tuple[str, str], str] = {}

TORCH = set(PEER["torch_modules"])

CASES = [(m, n) for m, names in sorted(PEER["modules"].items()) for n in sorted(names)]


def _import(module: str):
    if module in TORCH:
        pytest.importorskip("torch")
    return importlib.import_module(f"{PACKAGE}.{module}")


def test_the_list_is_ezmsg_learn():
    assert PEER["peer"] == "ezmsg-learn 1.16.2"
    assert ("process.slda", "SLDASettings") in CASES
    assert {"process.torch", "process.rnn", "model.rnn"} <= TORCH


@pytest.mark.parametrize("module", sorted(PEER["modules"]))
def test_every_module_exists(module):
    _import(module)


@pytest.mark.parametrize("module,name", CASES, ids=[f"{m}.{n}" for m, n in CASES])
def test_every_public_name_exists_compatibly(module, name):
    ours = _import(module)
    gaps = _gaps(getattr(ours, name, None), PEER["modules"][module][name])
    if (module, name) in KNOWN_GAPS:
        assert gaps, f"closed, remove from KNOWN_GAPS: {(module, name)}"
        return
    assert not gaps, f"{module}.{name}: {'; '.join(gaps)}"


ALIASES = sorted(m for m in PEER["reexports"]
                 if m.startswith(("linear_model.", "nlin_model.")))


@pytest.mark.parametrize("module", ALIASES)
def test_alias_modules_reexport_the_peers_names(module):
    ours = _import(module)
    missing = [n for n in PEER["reexports"][module] if not hasattr(ours, n)]
    assert not missing, f"{module} lacks {missing}"
