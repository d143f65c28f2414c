"""The band-power example as a real ezmsg graph, checked number by number against offline
processing of the same input (band-pass -> BandPower -> Log, with the system's own settings)."""

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
           connections=((system.ADD.OUTPUT_SIGNAL, into.INPUT_MESSAGE),
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
    # alpha channels (0, 2) have more 8-12 Hz power than beta channels (1, 3), and vice versa
    last = outputs[n - 1].data[-1]
    assert last[0, 0] > last[0, 1] and last[1, 1] > last[1, 0], last
