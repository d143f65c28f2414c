"""Runnable example systems: ``python -m examples.NAME`` or ``ezmsg-sigproc-units run NAME``.

Not part of the installed package: nothing in it imports them; its command line loads them
by name from the source checkout. Each module's interface is described in ``common.py``.
"""
