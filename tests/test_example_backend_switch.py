"""The backend_switch example as a real ezmsg graph: the same graph on numpy and torch, NumPy
at the host sink, and numbers equal to offline NumPy processing of the same input."""

from __future__ import annotations

import json
import uuid

import ezmsg.core as ez
import numpy as np
import pytest
from ezmsg.util.messagecodec import message_log
from ezmsg.util.messagelogger import MessageLogger, MessageLoggerSettings

from examples.backend_switch import SETTINGS, SYSTEM
from examples.common import Watchdog, WatchdogSettings
from ezmsg_sigproc_units import _backend
from ezmsg_sigproc_units.butterworthfilter import (
    ButterworthFilterSettings,
    ButterworthFilterTransformer,
)
from ezmsg_sigproc_units.testing.graph import free_port


@pytest.mark.slow
@pytest.mark.timeout(90)
@pytest.mark.parametrize("backend", ["numpy", "torch"])
def test_backend_switch_matches_offline_numpy(tmp_path, backend):
    if backend != "numpy":
        pytest.importorskip(backend)
    record, log_in, log_out = (tmp_path / n for n in ("rec.json", "in.log", "out.log"))
    system = SYSTEM(SETTINGS(seconds=0.6, backend=backend, n_ch=4, quiet=True,
                             record=str(record)))
    into = MessageLogger(MessageLoggerSettings(output=log_in))
    out = MessageLogger(MessageLoggerSettings(output=log_out))
    ez.run(components={"SYSTEM": system, "LOG_IN": into, "LOG_OUT": out,
                       "DOG": Watchdog(WatchdogSettings(seconds=30.0))},
           connections=((system.ADD.OUTPUT_SIGNAL, into.INPUT_MESSAGE),
                        (system.TO_HOST.OUTPUT_SIGNAL, out.INPUT_MESSAGE)),
           root_name=f"test_bs_{uuid.uuid4().hex[:8]}", graph_address=("127.0.0.1", free_port()),
           auto_start=True)
    rec = json.loads(record.read_text())
    assert rec["done"] and rec["samples"] >= 600, rec
    assert rec["backend"] == "numpy" and rec["dtype"] == "float32", "AsArray gave the sink NumPy"
    lat = rec["latency"]  # sink arrival - the tick of the newest block (s), never negative
    assert lat["n"] == rec["messages"] and 0.0 <= lat["min"] <= lat["mean"] <= lat["max"], lat

    inputs, outputs = list(message_log(log_in)), list(message_log(log_out))
    assert len(outputs) >= 25, len(outputs)
    assert {_backend.backend_name(m.data) for m in inputs} == {backend}, "computed on backend"
    assert all(isinstance(m.data, np.ndarray) for m in outputs)
    # Offline: the same input through a NumPy Butterworth band-pass and |.|, message by message.
    s = system.SETTINGS
    bp = ButterworthFilterTransformer(ButterworthFilterSettings(
        axis="time", order=4, cuton=s.cuton, cutoff=s.cutoff, coef_type="sos"))
    n = min(len(inputs), len(outputs))
    for m_in, m_out in zip(inputs[:n], outputs[:n], strict=True):
        x = m_in.data if backend == "numpy" else _backend.to_host(m_in.data)
        m_in = type(m_in)(x, dims=m_in.dims, axes=m_in.axes, key=m_in.key)
        want = np.abs(bp(m_in).data)
        assert m_out.dims == ["time", "ch"] and m_out.data.shape == want.shape
        np.testing.assert_allclose(m_out.data, want, rtol=1e-4, atol=1e-5)
        assert m_out.axes["time"].offset == m_in.axes["time"].offset
