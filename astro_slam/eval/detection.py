"""Event detection scores: flags over time against labelled intervals.

A detection is a run of consecutive samples with the flag up. It is true when it overlaps a
labelled interval, stretched by `early_s` before and `late_s` after (a monitor may hold its
flag for a moment after the fault ends). A labelled interval is found when a true detection
overlaps it; its latency is from the interval's start to the first such detection's start
(0 when the flag was already up).
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field

Interval = tuple[int, int]  # (t0_ns, t1_ns)


def runs(stamps_ns: list[int], flags: list[bool], merge_gap_s: float = 0.0) -> list[Interval]:
    """Intervals where the flag is up: from the first raised sample to the first lowered one
    (or the last sample); intervals less than merge_gap_s apart are one detection (a flag
    that flickers during one event)."""
    out: list[Interval] = []
    start: int | None = None
    for t, up in zip(stamps_ns, flags, strict=True):
        if up and start is None:
            start = t
        elif not up and start is not None:
            out.append((start, t))
            start = None
    if start is not None:
        out.append((start, stamps_ns[-1]))
    merged: list[Interval] = []
    for a, b in out:
        if merged and a - merged[-1][1] <= merge_gap_s * 1e9:
            merged[-1] = (merged[-1][0], b)
        else:
            merged.append((a, b))
    return merged


@dataclass
class DetectionScore:
    truths: int
    found: int
    detections: int
    true_detections: int
    latencies_s: list[float] = field(default_factory=list)

    @property
    def recall(self) -> float | None:
        return self.found / self.truths if self.truths else None

    @property
    def precision(self) -> float | None:
        return self.true_detections / self.detections if self.detections else None

    @property
    def median_latency_s(self) -> float | None:
        return statistics.median(self.latencies_s) if self.latencies_s else None

    def __add__(self, other: DetectionScore) -> DetectionScore:
        return DetectionScore(
            self.truths + other.truths,
            self.found + other.found,
            self.detections + other.detections,
            self.true_detections + other.true_detections,
            self.latencies_s + other.latencies_s,
        )


def score(
    truths: list[Interval],
    detections: list[Interval],
    explained: list[Interval] = (),
    early_s: float = 0.1,
    late_s: float = 1.0,
) -> DetectionScore:
    """Scores detections against truths; detections overlapping `explained` (other labelled
    events that rightly raise the same flag) count neither as true nor as false."""
    early, late = int(early_s * 1e9), int(late_s * 1e9)

    def overlaps(d: Interval, t: Interval) -> bool:
        return d[0] <= t[1] + late and d[1] >= t[0] - early

    true_detections, counted = 0, 0
    for d in detections:
        if any(overlaps(d, t) for t in truths):
            true_detections += 1
            counted += 1
        elif not any(overlaps(d, t) for t in explained):
            counted += 1
    latencies = []
    for t in truths:
        hits = [d for d in detections if overlaps(d, t)]
        if hits:
            latencies.append(max(0.0, (min(d[0] for d in hits) - t[0]) * 1e-9))
    return DetectionScore(len(truths), len(latencies), counted, true_detections, latencies)
