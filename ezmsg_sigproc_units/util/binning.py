"""Where the boundaries of fixed-duration bins fall in a chunked stream (host arithmetic on
counts and indices only; no array data).

With ``spb`` input samples per bin, bin ``m`` (counted from the first sample after a reset)
ends at global sample index ``B(m) = int(m * spb)``. Because the boundaries are a closed
form of the global bin index, every chunking of a stream gives the same bins, and no
rounding error accumulates over a long stream. ``fractional=True`` keeps ``spb =
bin_duration * fs`` as it is (bins of exactly ``bin_duration`` on average, output gain
``bin_duration``); ``fractional=False`` truncates it to whole samples (every bin
``int(bin_duration * fs)`` samples, output gain ``spb / fs``), the grid of a fixed window.
Consumers that share a schedule's parameters share its grid.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import ezmsg.core as ez

__all__ = ["BinSchedule", "BinStep"]


@dataclass
class BinStep:
    """What one chunk closes. Indices refer to the consumer's work array: its carried
    samples of the open bin followed by the chunk's samples."""

    cut_points: list[int]
    """End index (exclusive) in the work array of each bin closed by this chunk; bin ``i``
    spans ``cut_points[i - 1]`` (0 for the first) to ``cut_points[i]``."""

    n_bins: int
    """Number of bins closed (``len(cut_points)``)."""

    output_gain: float
    """Seconds per bin of the output axis."""

    output_offset: float
    """Time of the first bin closed by this chunk (its nominal start on the output grid),
    from the global bin index: the same for every chunking."""

    carry_count: int
    """Samples of the still-open bin after the last cut; the consumer keeps that many trailing
    work samples."""


@dataclass
class BinSchedule:
    """Bin boundaries of one stream. Build with the bin duration and mode, ``reset(fs)`` before
    the stream starts (and after any break), then ``advance`` once per chunk."""

    bin_duration: float
    """Seconds per output bin."""

    fractional: bool = True
    """True (default): ``bin_duration * fs`` samples per bin, fractional. False: truncated to
    whole samples (at least 1)."""

    fs: float | None = field(default=None, init=False)
    """Input sample rate given to ``reset`` (None before)."""

    spb: float = field(default=0.0, init=False)
    """Input samples per bin."""

    n_bins_done: int = field(default=0, init=False)
    """Bins closed since the reset (the global index of the open bin)."""

    carry_count: int = field(default=0, init=False)
    """Samples seen of the open bin."""

    _out_gain: float = field(default=0.0, init=False)

    def reset(self, fs: float) -> None:
        """Start a stream at ``fs`` Hz: no bins closed, nothing carried. Warns when a bin is
        shorter than a sample (fractional: some bins are then empty; fixed: 1 sample is
        used)."""
        spb = self.bin_duration * fs
        if not self.fractional:
            spb = float(int(spb))
            if spb < 1.0:
                ez.logger.warning(f"BinSchedule: bin_duration {self.bin_duration} s is under one "
                                  f"sample at fs={fs}; using 1 sample per bin")
                spb = 1.0
        elif spb < 1.0:
            ez.logger.warning(f"BinSchedule: bin_duration {self.bin_duration} s is under one "
                              f"sample at fs={fs} ({spb:.4g} samples per bin): some bins will "
                              f"be empty")
        self.fs, self.spb = fs, spb
        self._out_gain = self.bin_duration if self.fractional else spb / fs
        self.n_bins_done = 0
        self.carry_count = 0

    @property
    def output_gain(self) -> float:
        """Seconds per bin of the output axis."""
        return self._out_gain

    def advance(self, n_new: int, in_offset: float, gain_in: float) -> BinStep:
        """Take a chunk of ``n_new`` samples whose first sample is at ``in_offset`` (seconds;
        ``gain_in`` seconds per sample) and report the bins it closes."""
        spb, done, carried = self.spb, self.n_bins_done, self.carry_count
        base = int(done * spb)  # global index of the first carried sample
        first_new = base + carried
        avail = first_new + n_new
        offset = in_offset - first_new * gain_in + done * self._out_gain
        cuts: list[int] = []
        if spb > 0 and spb.is_integer():  # whole samples: int(k * spb) == k * spb exactly
            w = int(spb)
            n_closed = avail // w - done
            if n_closed > 0:
                cuts = list(range((done + 1) * w - base, (done + n_closed) * w - base + 1, w))
        elif spb > 0:
            m = done + 1
            # bins whose end int(m * spb) lies within the samples available
            last = max(int(math.floor((avail + 1) / spb)) + 1, m)
            for k in range(m, last + 1):
                b = int(k * spb)
                if b > avail:
                    break
                cuts.append(b - base)
        work = carried + n_new
        if cuts:
            self.n_bins_done = done + len(cuts)
            self.carry_count = work - cuts[-1]
        else:
            self.carry_count = work
        return BinStep(cut_points=cuts, n_bins=len(cuts), output_gain=self._out_gain,
                       output_offset=offset, carry_count=self.carry_count)
