import logging

import numpy as np
import pytest

from ezmsg_sigproc_units.testing import random_partitions
from ezmsg_sigproc_units.util.binning import BinSchedule, BinStep

CASES = [(30012.0, 0.001, True), (30012.0, 0.001, False), (1000.0, 0.02, True),
         (1000.0, 0.0137, True), (1000.0, 0.0137, False), (1000.0, 0.0004, True)]


def _global_ends(fs, bin_duration, fractional, n):
    spb = bin_duration * fs if fractional else max(float(int(bin_duration * fs)), 1.0)
    ends, m = [], 1
    while int(m * spb) <= n:
        ends.append(int(m * spb))
        m += 1
    return ends, spb


@pytest.mark.parametrize("fs, bin_duration, fractional", CASES)
def test_every_chunking_gives_the_closed_form_grid(fs, bin_duration, fractional):
    n, t0 = 700, 12.5
    ends, spb = _global_ends(fs, bin_duration, fractional, n)
    gain_out = bin_duration if fractional else spb / fs
    for lengths in random_partitions(n, count=5, seed=3):
        s = BinSchedule(bin_duration=bin_duration, fractional=fractional)
        s.reset(fs)
        got, offsets, at, carried = [], [], 0, 0
        for k in lengths:
            step = s.advance(k, t0 + at / fs, 1.0 / fs)
            assert isinstance(step, BinStep) and step.n_bins == len(step.cut_points)
            base = at - carried  # global index of work[0]
            got += [base + c for c in step.cut_points]
            if step.n_bins:
                offsets.append((len(got) - step.n_bins, step.output_offset))
            assert step.output_gain == pytest.approx(gain_out)
            at += k
            carried = step.carry_count
            assert carried == at - (got[-1] if got else 0)
        assert got == ends, lengths
        for m, off in offsets:
            assert off == pytest.approx(t0 + m * gain_out, abs=1e-9)


def test_sub_sample_bins_warn(caplog):
    with caplog.at_level(logging.WARNING, logger="ezmsg"):
        s = BinSchedule(bin_duration=0.0004, fractional=False)
        s.reset(1000.0)
    assert s.spb == 1.0 and "under one sample" in caplog.text
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="ezmsg"):
        BinSchedule(bin_duration=0.0004).reset(1000.0)
    assert "empty" in caplog.text


def test_reset_starts_over():
    s = BinSchedule(bin_duration=0.01)
    s.reset(1000.0)
    s.advance(25, 0.0, 1e-3)
    assert (s.n_bins_done, s.carry_count) == (2, 5)
    s.reset(500.0)
    assert (s.n_bins_done, s.carry_count, s.fs, s.spb) == (0, 0, 500.0, 5.0)
    assert s.advance(4, 0.0, 2e-3).n_bins == 0
    assert np.array_equal(s.advance(7, 0.008, 2e-3).cut_points, [5, 10])
