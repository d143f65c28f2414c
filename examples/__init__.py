"""Runnable example systems (``python -m examples.<name>``); nothing in the package imports them."""
