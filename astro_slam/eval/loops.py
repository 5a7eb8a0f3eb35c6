"""Loop closures and relocalizations scored against ground truth.

A loop is correct when its measured relative pose (candidate -> query keyframe) agrees with the
true one within 0.3 m and 10 degrees: a loop between two views of one wall from different
distances is as right as one between identical views. Recall counts revisit events of the
simulator's labels (seconds the robot is back where it was 30 s or more earlier, consecutive
seconds merged into one event): an event is recalled when a correct accepted loop's query
keyframe falls within it (1 s of slack each side).

A relocalization is scored against the kidnap it ends: its time from the put-down, and whether
its first pose is right (within 0.3 m and 10 degrees of the truth, after the estimate is
aligned on the truth before the kidnap).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from astro_slam.eval.trajectory import associate, umeyama
from astro_slam.transforms import from_quaternion, inverse, rotation_deg

CORRECT_M = 0.3
CORRECT_DEG = 10.0


@dataclass
class LoopScore:
    accepted: int
    correct: int
    revisit_events: int
    recalled: int
    unjudged: int = 0  # accepted, but the truth at one end is missing: not in the precision

    @property
    def precision(self) -> float:
        judged = self.accepted - self.unjudged
        return self.correct / judged if judged else float('nan')

    @property
    def recall(self) -> float:
        return self.recalled / self.revisit_events if self.revisit_events else float('nan')


def _pose_at(stamps: np.ndarray, poses: np.ndarray, t_ns: int) -> np.ndarray | None:
    ei, ri = associate(np.array([t_ns]), stamps, max_dt_ns=50_000_000)
    return poses[ri[0]] if len(ei) else None


def loop_is_correct(event: dict, gt_t: np.ndarray, gt_T: np.ndarray) -> bool | None:
    """Whether an event's measured T agrees with the truth; None when the truth is missing."""
    Tq, Tc = _pose_at(gt_t, gt_T, event['query_ns']), _pose_at(gt_t, gt_T, event['candidate_ns'])
    if Tq is None or Tc is None or event.get('T') is None:
        return None
    measured = from_quaternion(np.array(event['T'][:3]), np.array(event['T'][3:]))
    error = inverse(inverse(Tc) @ Tq) @ measured
    return bool(np.linalg.norm(error[:3, 3]) < CORRECT_M and rotation_deg(error) < CORRECT_DEG)


def revisit_events(revisits: list[dict]) -> list[tuple[int, int]]:
    """(t0_ns, t1_ns) of runs of revisit seconds (labels' 'revisits', one per second)."""
    stamps = sorted(r['t_ns'] for r in revisits)
    events: list[list[int]] = []
    for t in stamps:
        if events and t - events[-1][1] <= 1_500_000_000:
            events[-1][1] = t
        else:
            events.append([t, t])
    return [(a, b) for a, b in events]


def score_loops(
    events: list[dict], revisits: list[dict], gt_t: np.ndarray, gt_T: np.ndarray
) -> LoopScore:
    """Loops against the truth (gt_t, gt_T); for a session in a saved map, give it the earlier
    sessions' truth too (merge_truths): its loops reach their keyframes. A loop whose either end
    has no truth is counted as unjudged, not as wrong."""
    accepted = [e for e in events if e['accepted']]
    verdicts = [loop_is_correct(e, gt_t, gt_T) for e in accepted]
    correct = [e for e, ok in zip(accepted, verdicts, strict=True) if ok]
    slack = 1_000_000_000
    windows = revisit_events(revisits)
    recalled = sum(
        any(a - slack <= e['query_ns'] <= b + slack for e in correct) for a, b in windows
    )
    unjudged = sum(ok is None for ok in verdicts)
    return LoopScore(len(accepted), len(correct), len(windows), recalled, unjudged)


def merge_truths(*truths: tuple[np.ndarray, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Several sessions' (stamps, poses) as one, in stamp order. The simulator's sessions of one
    home share its world frame and never share a stamp, so a loop to an earlier session's
    keyframe finds its truth there."""
    t = np.concatenate([t for t, _ in truths])
    T = np.concatenate([T for _, T in truths])
    order = np.argsort(t, kind='stable')
    return t[order], T[order]


@dataclass
class RelocalizationScore:
    put_down_ns: int
    time_s: float | None  # from the put-down to the first pose; None: never relocalized
    first_pose_error_m: float | None
    first_pose_error_deg: float | None

    @property
    def wrong(self) -> bool:
        return self.first_pose_error_m is not None and (
            self.first_pose_error_m > CORRECT_M or (self.first_pose_error_deg or 0) > CORRECT_DEG
        )


def score_relocalizations(
    kidnaps: list[dict],
    relocalizations: list[dict],
    slam_t: np.ndarray,
    slam_T: np.ndarray,
    gt_t: np.ndarray,
    gt_T: np.ndarray,
) -> list[RelocalizationScore]:
    """One score per kidnap label (t0_ns lift, t1_ns put-down)."""
    out = []
    for kidnap in kidnaps:
        lift, put_down = kidnap['t0_ns'], kidnap['t1_ns']
        found = [r['found_ns'] for r in relocalizations if r['found_ns'] > lift]
        if not found:
            out.append(RelocalizationScore(put_down, None, None, None))
            continue
        before = slam_t < lift
        ei, ri = associate(slam_t[before], gt_t)
        # The time runs to the first pose published, not to the stamp of the keyframe it was
        # found on: that keyframe reached the backend up to a second after it was taken.
        after = np.flatnonzero(slam_t >= found[0])
        if not len(after):
            out.append(RelocalizationScore(put_down, None, None, None))
            continue
        seconds = (int(slam_t[after[0]]) - put_down) * 1e-9
        if len(ei) < 3:
            out.append(RelocalizationScore(put_down, seconds, None, None))
            continue
        align = umeyama(slam_T[before][ei][:, :3, 3], gt_T[ri][:, :3, 3])
        first = align @ slam_T[after[0]]
        truth = _pose_at(gt_t, gt_T, int(slam_t[after[0]]))
        assert truth is not None
        error = inverse(truth) @ first
        out.append(
            RelocalizationScore(
                put_down,
                seconds,
                float(np.linalg.norm(error[:3, 3])),
                rotation_deg(error),
            )
        )
    return out
