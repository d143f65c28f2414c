"""Checks shared by several test modules (imported as ``tests.helpers.<module>``).

Helpers a plugin author would want too live in ``ezmsg_sigproc_units.testing`` instead."""
