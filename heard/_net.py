"""Whether a host is this computer: the one test behind "nothing leaves the machine"."""

from __future__ import annotations

import ipaddress

__all__ = ["is_loopback"]


def is_loopback(host: str) -> bool:
    """True for ``localhost`` and loopback addresses, bracketed or not.

    No name is looked up: a lookup is itself traffic, and a name that resolves to 127.0.0.1
    today may not tomorrow. So ``*.localhost`` is not taken on trust either: the app used to
    refuse it, and a hosts file can point it anywhere.

    >>> is_loopback("127.0.0.2"), is_loopback("[::1]"), is_loopback("example.org")
    (True, True, False)
    """
    host = host.strip("[]").lower()
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
