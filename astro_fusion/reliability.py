"""Per-sensor reliability: a weight in 0..1, a state and the reason, as /fusion/reliability
publishes them; and the sliding window the fault tests average over."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

import numpy as np

from astro_fusion.ekf import UpdateResult
from astro_slam.types import DiagnosticStatus

OK, DEGRADED, REJECTED = 'ok', 'degraded', 'rejected'
LEVELS = {
    OK: DiagnosticStatus.OK,
    DEGRADED: DiagnosticStatus.WARN,
    REJECTED: DiagnosticStatus.ERROR,
}


@dataclass
class SensorHealth:
    """What fusion currently thinks of one sensor, and counts of what it did with its data."""

    name: str
    weight: float = 1.0
    state: str = OK
    reason: str = ''
    since_ns: int = 0
    counts: dict[str, int] = field(default_factory=dict)
    last_nis: float = 0.0

    def set(self, state: str, reason: str, t_ns: int, weight: float | None = None) -> None:
        if (state, reason) != (self.state, self.reason):
            self.since_ns = t_ns
        self.state, self.reason = state, reason
        self.weight = {OK: 1.0, DEGRADED: 0.3, REJECTED: 0.0}[state] if weight is None else weight

    def count(self, what: str) -> None:
        self.counts[what] = self.counts.get(what, 0) + 1

    def record(self, result: UpdateResult, t_ns: int) -> None:
        """The outcome of one update: used, or gated out on its innovation."""
        self.last_nis = result.nis
        if result.accepted:
            self.set(OK, '', t_ns)
            self.count('used')
        else:
            self.set(DEGRADED, 'innovation', t_ns)
            self.count('gated')

    def status(self) -> DiagnosticStatus:
        values = {'weight': f'{self.weight:.2f}', 'state': self.state, 'reason': self.reason}
        values['nis'] = f'{self.last_nis:.2f}'
        values.update({k: str(v) for k, v in sorted(self.counts.items())})
        message = self.state + (f': {self.reason}' if self.reason else '')
        return DiagnosticStatus(
            f'fusion: {self.name}', LEVELS[self.state], message, self.name, values
        )


def raised_flags(values: dict[str, dict[str, str]]) -> dict[str, bool]:
    """The fault flags one /fusion/reliability message raises, from the values of its statuses
    keyed by hardware_id (imu, wheel, vo, robot), for tools that read them back."""
    return {
        'saturated': values['imu'].get('reason') == 'saturated',
        'slip': values['wheel'].get('reason', '').startswith('slip'),
        'lifted': values['robot'].get('lifted') == 'true',
        'low_power': values['robot'].get('low_power') == 'true',
        'vo_silent': values['vo'].get('reason') == 'silent',
    }


class Window:
    """Time-stamped tuples of scalars over the last span_s seconds."""

    def __init__(self, span_s: float) -> None:
        self.span_ns = int(span_s * 1e9)
        self.items: deque[tuple[int, tuple[float, ...]]] = deque()

    def add(self, t_ns: int, *values: float) -> None:
        self.items.append((t_ns, values))
        while self.items and self.items[0][0] < t_ns - self.span_ns:
            self.items.popleft()

    def mean(self) -> np.ndarray:
        """The mean of each scalar of the tuples (empty when the window is)."""
        return np.mean([v for _, v in self.items], axis=0) if self.items else np.zeros(0)

    def full(self, t_ns: int) -> bool:
        """Whether the window holds at least 80 % of its span of data."""
        return bool(self.items) and t_ns - self.items[0][0] >= 0.8 * self.span_ns

    def clear(self) -> None:
        self.items.clear()
