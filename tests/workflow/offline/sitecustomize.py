"""Loaded by every Python process of a test run whose PYTHONPATH includes this folder:
any attempt to open a network connection fails loudly, so a run that finishes
proves it needed no network. Unix sockets (used locally by some libraries) stay allowed."""

import socket

_real_connect = socket.socket.connect


def _blocked_connect(self, address):  # type: ignore[no-untyped-def]
    if self.family in (socket.AF_INET, socket.AF_INET6):
        raise ConnectionRefusedError(f"litthemes test: network access blocked ({address!r})")
    return _real_connect(self, address)


socket.socket.connect = _blocked_connect  # type: ignore[method-assign]
