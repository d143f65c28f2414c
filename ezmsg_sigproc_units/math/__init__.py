"""Elementwise math processors: abs, clip, log, scale, invert, difference, add, pow, anscombe."""
