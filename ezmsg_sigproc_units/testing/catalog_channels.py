"""Catalog entries of the channel selection and quantisation family (see ``catalog.configs``):
slicer, extract_axis, flatten, quantize, digitize, denormalize."""

from __future__ import annotations

from .catalog import Config, _p


def configs() -> list[Config]:
    q = ("quantize", "QuantizeTransformer", "QuantizeSettings")
    d = ("digitize", "DigitizeTransformer", "DigitizeSettings")
    c = [
        Config("quantize", "8 bits", _p(*q, max_val=1.5, min_val=0.5), out_dtype="uint8"),
        Config("quantize", "1 bit", _p(*q, max_val=1.5, min_val=0.5, bits=1),
               out_dtype="bool"),
        Config("quantize", "32 bits (exact top)", _p(*q, max_val=1.5, min_val=0.5, bits=32),
               out_dtype="uint32"),
        Config("digitize", "int16", _p(*d, min_val=0.5, max_val=1.5), out_dtype="int16"),
        Config("digitize", "int32 (exact top)", _p(*d, min_val=0.5, max_val=1.5,
                                                   dtype="int32"), out_dtype="int32"),
        Config("denormalize", "uniform seed=0", _p("denormalize", "DenormalizeTransformer",
                                                   "DenormalizeSettings", seed=0)),
        Config("denormalize", "normal seed=1", _p("denormalize", "DenormalizeTransformer",
                                                  "DenormalizeSettings", distribution="normal",
                                                  seed=1)),
    ]
    return c
