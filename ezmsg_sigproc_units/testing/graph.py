"""Helpers for tests that run a real ezmsg graph.

A graph test should own its graph server: ``graph_address=("127.0.0.1", free_port())`` with
``auto_start=True`` keeps it off a developer's long-lived server (and off other tests'), and
a unique ``root_name`` avoids component-address collisions.
"""

from __future__ import annotations

import socket


def free_port() -> int:
    """A loopback TCP port that was free a moment ago (the OS picks it)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
