"""Attach your own ez.Unit to one of our outputs: per-channel RMS of a band-passed stream.

    Clock -> Oscillator (10 Hz on ch0/ch1, 25 Hz on ch2/ch3) + WhiteNoise -> Add
          -> ButterworthFilter (8-12 Hz) -> StatsSink
                                         -> ChannelRMS (yours, in a process of its own)

    python -m examples.subscribe --seconds 3

``ChannelRMS`` is the kind of Unit a user writes: it subscribes to the filter's
``OUTPUT_SIGNAL`` next to our sink and, every second of signal, prints each channel's RMS
(about 0.71 for the 10 Hz channels in the pass band, near 0 for the 25 Hz ones).
"""

from __future__ import annotations

import sys

import ezmsg.core as ez
import numpy as np
from ezmsg.baseproc import Clock, ClockSettings
from ezmsg.util.messages.axisarray import AxisArray

from ezmsg_sigproc_units.butterworthfilter import ButterworthFilter, ButterworthFilterSettings
from ezmsg_sigproc_units.math.add import Add
from ezmsg_sigproc_units.synth import Oscillator, OscillatorSettings, WhiteNoise, WhiteNoiseSettings

from .common import ExampleSettings, StatsSink, example_main, sink_settings


class ChannelRMSSettings(ez.Settings):
    seconds: float = 1.0  # signal seconds per printed line
    quiet: bool = False


class ChannelRMSState(ez.State):
    sum_sq: np.ndarray | None = None  # our own float64 accumulator, never a received array
    n: int = 0


class ChannelRMS(ez.Unit):
    """Your Unit: prints the RMS of each channel over every ``seconds`` of signal."""

    SETTINGS = ChannelRMSSettings
    STATE = ChannelRMSState

    INPUT_SIGNAL = ez.InputStream(AxisArray)

    @ez.subscriber(INPUT_SIGNAL)
    async def on_signal(self, msg: AxisArray) -> None:
        # The message is shared, so read it and keep only what you compute from it:
        # * in the publisher's process it is the very object the filter published, also seen by
        #   every other subscriber: never modify msg.data (or msg.axes) in place;
        # * in another process (as here) NumPy data arrives as a READ-ONLY view into a
        #   shared-memory slot that the publisher reuses for later messages: storing msg or
        #   msg.data past this call would later show other messages' values. Copy what you keep.
        # np.asarray: host NumPy/torch/JAX/MLX data; for a GPU stream put AsArray in front.
        x = np.asarray(msg.data, dtype=np.float64)  # (time, ch)
        ss = np.sum(x * x, axis=0)  # a new array: safe to keep
        st = self.STATE
        st.sum_sq = ss if st.sum_sq is None else st.sum_sq + ss
        st.n += x.shape[0]
        if st.n * msg.axes["time"].gain >= self.SETTINGS.seconds - 1e-9:
            rms = np.sqrt(st.sum_sq / st.n)
            if not self.SETTINGS.quiet:
                print(f"ChannelRMS over {st.n} samples, ch0..: "
                      + " ".join(f"{v:.4f}" for v in rms), flush=True)
            st.sum_sq, st.n = None, 0


class SubscribeSettings(ExampleSettings):
    noise: float = 0.1
    """Standard deviation of the added white noise. Default 0.1."""


class SubscribeSystem(ez.Collection):
    SETTINGS = SubscribeSettings

    CLOCK = Clock()
    OSC = Oscillator()
    NOISE = WhiteNoise()
    ADD = Add()
    FILTER = ButterworthFilter()
    SINK = StatsSink()
    RMS = ChannelRMS()

    def configure(self) -> None:
        s = self.SETTINGS
        src = dict(fs=1000.0, backend=s.backend, device=s.device)
        self.CLOCK.apply_settings(ClockSettings(dispatch_rate=100.0))
        self.OSC.apply_settings(OscillatorSettings(freq=[10.0, 10.0, 25.0, 25.0], **src))
        self.NOISE.apply_settings(WhiteNoiseSettings(n_ch=4, scale=s.noise, seed=3, **src))
        self.FILTER.apply_settings(ButterworthFilterSettings(
            axis="time", order=4, cuton=8.0, cutoff=12.0, coef_type="sos"))
        self.SINK.apply_settings(sink_settings(s))
        self.RMS.apply_settings(ChannelRMSSettings(quiet=s.quiet))

    def network(self) -> ez.NetworkDefinition:
        return (
            (self.CLOCK.OUTPUT_SIGNAL, self.OSC.INPUT_CLOCK),
            (self.CLOCK.OUTPUT_SIGNAL, self.NOISE.INPUT_CLOCK),
            (self.OSC.OUTPUT_SIGNAL, self.ADD.INPUT_SIGNAL_A),
            (self.NOISE.OUTPUT_SIGNAL, self.ADD.INPUT_SIGNAL_B),
            (self.ADD.OUTPUT_SIGNAL, self.FILTER.INPUT_SIGNAL),
            (self.FILTER.OUTPUT_SIGNAL, self.SINK.INPUT_SIGNAL),
            (self.FILTER.OUTPUT_SIGNAL, self.RMS.INPUT_SIGNAL),  # yours, next to ours
        )

    def process_components(self) -> tuple[ez.Component, ...]:
        return (self.RMS,)  # its own process: NumPy input arrives read-only (see above)


SETTINGS = SubscribeSettings
SYSTEM = SubscribeSystem


def main(argv: list[str] | None = None) -> int:
    return example_main(SYSTEM, SETTINGS, "subscribe", argv)


if __name__ == "__main__":
    sys.exit(main())
