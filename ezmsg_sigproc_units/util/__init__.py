"""Public helpers."""
