"""The band-power example as a real ezmsg graph, checked number by number against offline
processing of the same input (the EEG the graph generated -> band-pass -> BandPower -> Log,
with the system's own settings)."""

from __future__ import annotations

import json
import uuid

import ezmsg.core as ez
import numpy as np
import pytest
from ezmsg.util.messagecodec import message_log
from ezmsg.util.messagelogger import MessageLogger, MessageLoggerSettings

from examples.bandpower import SETTINGS, SYSTEM
from examples.common import Watchdog, WatchdogSettings
from ezmsg_sigproc_units.bandpower import BandPowerTransformer
from ezmsg_sigproc_units.butterworthfilter import ButterworthFilterTransformer
from ezmsg_sigproc_units.math.log import LogTransformer
from ezmsg_sigproc_units.testing.graph import free_port


@pytest.mark.slow
@pytest.mark.timeout(90)
def test_bandpower_matches_offline(tmp_path):
    record, log_in, log_out = (tmp_path / n for n in ("rec.json", "in.log", "out.log"))
    system = SYSTEM(SETTINGS(seconds=1.5, quiet=True, record=str(record)))
    into = MessageLogger(MessageLoggerSettings(output=log_in))
    out = MessageLogger(MessageLoggerSettings(output=log_out))
    ez.run(components={"SYSTEM": system, "LOG_IN": into, "LOG_OUT": out,
                       "DOG": Watchdog(WatchdogSettings(seconds=30.0))},
           connections=((system.EEG.OUTPUT_SIGNAL, into.INPUT_MESSAGE),
                        (system.LOG.OUTPUT_SIGNAL, out.INPUT_MESSAGE)),
           root_name=f"test_bpo_{uuid.uuid4().hex[:8]}", graph_address=("127.0.0.1", free_port()),
           auto_start=True)
    assert json.loads(record.read_text())["done"]
    inputs, outputs = list(message_log(log_in)), list(message_log(log_out))
    # the units' settings as configure() applied them, used offline
    chain = (ButterworthFilterTransformer(system.FILTER.SETTINGS),
             BandPowerTransformer(system.BANDS.SETTINGS), LogTransformer(system.LOG.SETTINGS))
    n = min(len(inputs), len(outputs))
    assert n >= 10 and sum(m.data.shape[0] for m in outputs[:n]) >= 5, "windows compared"
    for m_in, m_out in zip(inputs[:n], outputs[:n], strict=True):
        want = m_in
        for stage in chain:
            want = stage(want)
        assert m_out.dims == want.dims == ["time", "freq", "ch"]
        np.testing.assert_allclose(m_out.data, want.data, rtol=1e-5, atol=1e-4)
    # alpha (amplitude 10) outweighs beta (4) on every channel over the run; single windows
    # may not, as each rhythm's bursts wax and wane (by 0.47 to 0.96 log10 units offline,
    # seeds 1 to 5, over 1.5 s)
    power = np.concatenate([m.data for m in outputs[:n]])  # (window, band, ch)
    assert np.all(power[:, 0].mean(axis=0) > power[:, 1].mean(axis=0) + 0.2), power.mean(axis=0)
