"""Stamps: builtin_interfaces/Time <-> integer nanoseconds (the core's time type)."""

from __future__ import annotations

from typing import Any

from astro_slam.msgs.errors import InvalidMessage


def stamp_to_ns(stamp: Any) -> int:
    """Nanoseconds from a builtin_interfaces/Time (any object with sec and nanosec)."""
    sec, nanosec = int(stamp.sec), int(stamp.nanosec)
    if not 0 <= nanosec < 1_000_000_000:
        raise InvalidMessage(f'stamp nanosec out of range: {nanosec}')
    return sec * 1_000_000_000 + nanosec


def header_ns(msg: Any) -> int:
    """Nanoseconds of msg.header.stamp."""
    return stamp_to_ns(msg.header.stamp)


def ns_to_sec_nanosec(t_ns: int) -> tuple[int, int]:
    """(sec, nanosec) with 0 <= nanosec < 1e9, also for negative times."""
    sec, nanosec = divmod(int(t_ns), 1_000_000_000)
    return sec, nanosec
