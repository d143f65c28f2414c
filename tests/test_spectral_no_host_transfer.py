"""No ``_process`` of the windowing/spectral family moves data to the host: with the one
host-transfer helper patched to raise, and on array-api-strict's device1 (which refuses any
conversion to NumPy), every processor of the family still runs."""

import numpy as np
import pytest
from ezmsg.util.messages.axisarray import AxisArray

import ezmsg_sigproc_units._backend.host as host
from ezmsg_sigproc_units.testing import Backend, catalog

FAMILY = ("window", "spectrum", "spectrogram", "bandpower", "welch")


@pytest.mark.parametrize("cfg", [c for c in catalog.configs() if c.module in FAMILY],
                         ids=lambda c: f"{c.module}:{c.label}")
def test_runs_without_host_transfer(cfg, monkeypatch):
    b = Backend.ARRAY_API_STRICT_DEVICE1
    proc = cfg.make()
    data = np.random.default_rng(0).standard_normal((60, 3)).astype("float32")
    msg = AxisArray(b.asarray(data), dims=["time", "ch"],
                    axes={"time": AxisArray.TimeAxis(fs=100.0)})
    proc(msg)  # the first message builds state (host work allowed there)

    def refuse(_x):
        raise AssertionError("host transfer inside _process")

    monkeypatch.setattr(host, "to_host", refuse)
    out = proc(AxisArray(b.asarray(data), dims=["time", "ch"],
                         axes={"time": AxisArray.TimeAxis(fs=100.0, offset=0.6)}))
    assert str(out.data.device) == str(b.device)
