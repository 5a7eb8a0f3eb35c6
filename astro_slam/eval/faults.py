"""Fault detection scored against the simulator's labels: the flags of `/fusion/reliability`
over time against the labelled fault intervals, one score per fault kind.

Which flag answers which kind, and which labelled intervals count:
- `bump`: the IMU `saturated`, for threshold crossings whose impact clipped the accelerometer
  (a gentle crossing is no fault).
- `slip`: the wheels flagged slipping.
- `kidnap`: `lifted`.
- `low_power`: `low_power`.
- `dropped_frames`: the VO `silent`, for bursts of at least 0.5 s (a single lost frame is no
  fault).

Some labelled events rightly raise another kind's flag; a detection overlapping one counts
neither as true nor as false (`explained`).
"""

from __future__ import annotations

from pathlib import Path

from astro_fusion.reliability import raised_flags
from astro_slam.eval.detection import DetectionScore, Interval, runs, score
from astro_slam.msgs.diagnostics import from_diagnostic_array
from astro_slam.msgs.time import header_ns
from astro_slam.tools.bag_io import BagReader

KINDS = ('bump', 'slip', 'kidnap', 'low_power', 'dropped_frames')
FLAG_OF = {
    'bump': 'saturated',
    'slip': 'slip',
    'kidnap': 'lifted',
    'low_power': 'low_power',
    'dropped_frames': 'vo_silent',
}
RELIABILITY_TOPIC = '/fusion/reliability'
MERGE_GAP_S = 0.5  # a flag that flickers within one event is one detection
MIN_BURST_NS = 500_000_000


def labelled(labels: dict) -> tuple[dict[str, list[Interval]], dict[str, list[Interval]]]:
    """(the intervals each kind must find, the intervals that may rightly raise its flag)."""
    faults = labels.get('faults', [])

    def of(kind: str, keep=lambda f: True) -> list[Interval]:
        return [(f['t0_ns'], f['t1_ns']) for f in faults if f['kind'] == kind and keep(f)]

    found = {
        'bump': of('bump', lambda f: f.get('saturated', False)),
        'slip': of('slip'),
        'kidnap': of('kidnap'),
        'low_power': of('low_power'),
        'dropped_frames': of('dropped_frames', lambda f: f['t1_ns'] - f['t0_ns'] >= MIN_BURST_NS),
    }
    explained = {
        'bump': of('bump') + of('kidnap'),  # the simulated carry starts with a jerk that clips
        'slip': of('kidnap'),  # free-spinning wheels disagree with everything
        'kidnap': [],
        'low_power': [],
        'dropped_frames': of('dropped_frames') + of('low_power'),  # the camera is off then
    }
    return found, explained


def flagged(bag: Path) -> dict[str, list[Interval]] | None:
    """Detections per kind from the bag's /fusion/reliability; None when it has none."""
    stamps, raised = [], []
    with BagReader(bag) as reader:
        for _, _, msg in reader.messages({RELIABILITY_TOPIC}):
            values = {s.hardware_id: s.values for s in from_diagnostic_array(msg)}
            try:
                flags = raised_flags(values)
            except KeyError:  # a message without every sensor's status: not ours
                continue
            stamps.append(header_ns(msg))
            raised.append(flags)
    if not stamps:
        return None
    return {
        k: runs(stamps, [r[FLAG_OF[k]] for r in raised], merge_gap_s=MERGE_GAP_S) for k in KINDS
    }


def score_faults(bag: Path, labels: dict) -> dict[str, DetectionScore] | None:
    """One score per kind; None when the bag has no reliability messages (no fusion ran)."""
    detections = flagged(bag)
    if detections is None:
        return None
    found, explained = labelled(labels)
    return {k: score(found[k], detections[k], explained[k]) for k in KINDS}
