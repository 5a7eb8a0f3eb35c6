"""What a node reports on /diagnostics (the ROS aggregator's topic): the host's counts of
messages received and dropped, callback CPU time, and the component's own scalar diagnostics.
The level turns WARN while messages are being dropped."""

from __future__ import annotations

from typing import Any

from astro_slam.framework.dispatch import DispatchStats
from astro_slam.types import DiagnosticStatus


def node_health(
    node_name: str, stats: DispatchStats, diagnostics: dict[str, Any], drops_before: int
) -> tuple[DiagnosticStatus, int]:
    """The node's status now, and its total drop count (pass it back next time)."""
    drops = sum(stats.dropped.values())
    values = {f'received {topic}': str(n) for topic, n in sorted(stats.received.items())}
    values.update(
        {
            f'dropped {topic} ({reason})': str(n)
            for (topic, reason), n in sorted(stats.dropped.items())
        }
    )
    values['callback cpu s'] = f'{stats.cpu_s:.3f}'
    # Scalars only: lists (loop events, saves) belong to run.json, not to a diagnostics line.
    values.update(
        {k: str(v) for k, v in diagnostics.items() if isinstance(v, (bool, int, float, str))}
    )
    if drops > drops_before:
        level, message = DiagnosticStatus.WARN, f'{drops - drops_before} messages dropped lately'
    else:
        level, message = DiagnosticStatus.OK, 'ok'
    return DiagnosticStatus(node_name, level, message, node_name, values), drops
