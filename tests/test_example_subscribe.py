"""The subscribe example as a real ezmsg graph: the user's ChannelRMS Unit, in a process of its
own, prints the same per-channel RMS as offline NumPy over the filter output it subscribed to."""

from __future__ import annotations

import json
import re
import uuid

import ezmsg.core as ez
import numpy as np
import pytest
from ezmsg.util.messagecodec import message_log
from ezmsg.util.messagelogger import MessageLogger, MessageLoggerSettings

from examples.common import Watchdog, WatchdogSettings
from examples.subscribe import SETTINGS, SYSTEM
from ezmsg_sigproc_units.testing.graph import free_port


@pytest.mark.slow
@pytest.mark.timeout(90)
def test_user_unit_sees_the_filter_output(tmp_path, capfd):
    record, log = tmp_path / "rec.json", tmp_path / "filter.log"
    # 2 s of signal at the sink; ChannelRMS prints after 1 s. Backpressure keeps the other
    # process at most a ring of buffers (32 messages) behind, so it gets there before the end.
    system = SYSTEM(SETTINGS(seconds=2.0, record=str(record)))
    logger = MessageLogger(MessageLoggerSettings(output=log))
    ez.run(components={"SYSTEM": system, "LOG": logger,
                       "DOG": Watchdog(WatchdogSettings(seconds=30.0))},
           connections=((system.FILTER.OUTPUT_SIGNAL, logger.INPUT_MESSAGE),),
           root_name=f"test_sub_{uuid.uuid4().hex[:8]}", graph_address=("127.0.0.1", free_port()),
           auto_start=True)
    assert json.loads(record.read_text())["done"]
    lines = re.findall(r"ChannelRMS over (\d+) samples, ch0\.\.: (.*)", capfd.readouterr().out)
    assert lines, "the user's Unit printed nothing"
    n, printed = int(lines[0][0]), np.array([float(v) for v in lines[0][1].split()])
    assert n == 1000 and printed.shape == (4,)

    x = np.concatenate([m.data for m in message_log(log)], axis=0)  # (time, ch), float32
    assert x.shape[0] >= n
    want = np.sqrt(np.mean(x[:n].astype(np.float64) ** 2, axis=0))
    np.testing.assert_allclose(printed, want, atol=1.5e-4)  # printed with 4 decimals
    # 10 Hz lies in the 8-12 Hz pass band, 25 Hz does not
    assert np.all(printed[:2] > 0.5) and np.all(printed[2:] < 0.1), printed
