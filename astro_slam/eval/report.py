"""`astro-slam eval`: one replay result folder scored against its ground truth.

Reads what `astro-slam replay` wrote (`run.json`, the TUM trajectories, `ground_truth.tum`) and,
when the bag came from the simulator, its labels (`<bag>.labels.json` beside the bag). Keys of
the JSON (stable; null when the run cannot tell, e.g. no loop or no kidnap):

- `ate_rmse_m`: RMSE of positions after the SE(3) alignment (Umeyama, no scale) that minimises
  it, over estimates matched to the truth within 20 ms.
- `rpe_trans_pct`: KITTI-style drift: for every pose, the first one at least 1 m further along
  the true path; translation error of the relative motion over that distance, mean, in %.
- `rpe_m_per_m`: translation error of relative motions over consecutive stretches of at least
  1 m of true path, mean, in m (evo's RPE with a 1 m delta).
- `rpe_m_per_10s`: the same over consecutive stretches of at least 10 s.
- `correct_rate`: OpenLORIS-style correct rate: the share of the ground truth's duration for
  which a pose was given (within 0.1 s) within `correct_m` of the truth after the ATE alignment.
- `reloc_time_s`: median time from a relocalization request (a kidnap's put-down, the start of
  a session in a saved map) to the first pose published after it was found.
- `reloc_score`: mean over relocalizations of exp(-t / 60 s); 0 for one whose first pose is
  wrong (over 0.3 m or 10 degrees).
- `loop_precision`, `loop_recall`: accepted loops within 0.3 m and 10 degrees of the truth;
  revisit events of the labels recalled by a correct loop. A loop to a keyframe of an earlier
  session is judged on that session's truth (`earlier`; `astro-slam eval --map-session`);
  without it, it is counted in `loops_unjudged`, not in the precision.
- `realtime_factor`: bag seconds per wall second of the replay.
- `peak_rss_mb`: peak resident memory of the replay process.
- `map_bytes`: the long-term map's bytes per layer after the last save.
- `cpu_s`: callback CPU seconds per node.
- `trajectories`: `ate_rmse_m`, `rpe_*`, `correct_rate`, `matched` and `length_m` of `slam`
  (map -> base_link as the robot saw it online), `odom` (fused) and `vo`.

- `fault_precision`, `fault_recall`, `fault_latency_s`: fault detection from the output bag's
  `/fusion/reliability` against the labels, pooled over fault kinds (precision: detections that
  overlap a labelled fault; recall: labelled faults found; latency: median from a fault's start
  to its first detection); `faults` holds `truths`, `detections`, `precision`, `recall` and
  `median_latency_s` per kind (bump, slip, kidnap, low_power, dropped_frames; which flag answers
  which kind: astro_slam.eval.faults).

The top-level accuracy keys are those of `slam`.
"""

from __future__ import annotations

import json
import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from astro_slam.eval.detection import DetectionScore
from astro_slam.eval.faults import score_faults
from astro_slam.eval.loops import CORRECT_DEG, CORRECT_M, merge_truths, score_loops
from astro_slam.eval.trajectory import associate, evaluate, umeyama
from astro_slam.tools.tum import read_tum
from astro_slam.transforms import inverse, rotation_deg

TRAJECTORIES = ('slam', 'odom', 'vo')
RELOC_TIME_SCALE_S = 60.0


@dataclass(frozen=True)
class Thresholds:
    correct_m: float = 0.1  # correct rate: position error after alignment
    match_dt_ns: int = 20_000_000


def relative_errors(est: np.ndarray, ref: np.ndarray, pairs: list[tuple[int, int]]) -> np.ndarray:
    """Translation error (m) of each pair's relative motion, estimate against reference."""
    out = []
    for i, j in pairs:
        error = inverse(inverse(ref[i]) @ ref[j]) @ (inverse(est[i]) @ est[j])
        out.append(float(np.linalg.norm(error[:3, 3])))
    return np.array(out)


def pairs_by_path(ref: np.ndarray, delta_m: float) -> list[tuple[int, int]]:
    """Consecutive pairs at least `delta_m` of reference path apart (as evo's path filter)."""
    ids, travelled = [0], 0.0
    for i in range(1, len(ref)):
        travelled += float(np.linalg.norm(ref[i, :3, 3] - ref[i - 1, :3, 3]))
        if travelled >= delta_m:
            ids.append(i)
            travelled = 0.0
    return list(zip(ids[:-1], ids[1:], strict=True))


def pairs_by_time(stamps_ns: np.ndarray, delta_s: float) -> list[tuple[int, int]]:
    """Consecutive pairs at least `delta_s` apart in time."""
    ids = [0]
    for i in range(1, len(stamps_ns)):
        if stamps_ns[i] - stamps_ns[ids[-1]] >= delta_s * 1e9:
            ids.append(i)
    return list(zip(ids[:-1], ids[1:], strict=True))


def trajectory_metrics(
    est_t: np.ndarray, est_T: np.ndarray, gt_t: np.ndarray, gt_T: np.ndarray, th: Thresholds
) -> dict[str, Any] | None:
    ei, ri = associate(est_t, gt_t, th.match_dt_ns)
    if len(ei) < 3:
        return None
    E, G = est_T[ei], gt_T[ri]
    align = umeyama(E[:, :3, 3], G[:, :3, 3])  # the ATE's alignment, reused for correct_rate
    kitti = evaluate(est_t, est_T, gt_t, gt_T, 1.0, th.match_dt_ns)
    per_m = relative_errors(E, G, pairs_by_path(G, 1.0))
    per_10s = relative_errors(E, G, pairs_by_time(gt_t[ri], 10.0))
    return {
        'ate_rmse_m': kitti.ate_rmse_m,
        'rpe_trans_pct': _number(kitti.rpe_trans_pct),
        'rpe_m_per_m': float(per_m.mean()) if len(per_m) else None,
        'rpe_m_per_10s': float(per_10s.mean()) if len(per_10s) else None,
        'correct_rate': correct_rate(est_t, est_T, gt_t, gt_T, align, th),
        'matched': kitti.matched,
        'length_m': kitti.length_m,
    }


def correct_rate(
    est_t: np.ndarray,
    est_T: np.ndarray,
    gt_t: np.ndarray,
    gt_T: np.ndarray,
    align: np.ndarray,
    th: Thresholds,
) -> float:
    """Share of ground-truth samples (uniform in time) with a pose within 0.1 s that is
    correct once moved by `align` (T_gt_est)."""
    near, truth = associate(gt_t, est_t, 100_000_000)
    position = est_T[truth, :3, 3] @ align[:3, :3].T + align[:3, 3]
    right = np.linalg.norm(position - gt_T[near, :3, 3], axis=1) <= th.correct_m
    return float(np.sum(right) / len(gt_t)) if len(gt_t) else 0.0


def _whole_alignment(slam_t, slam_T, gt_t, gt_T) -> np.ndarray | None:
    """truth <- estimate from every associated position, or None with fewer than three."""
    ei, ri = associate(slam_t, gt_t)
    return umeyama(slam_T[ei, :3, 3], gt_T[ri, :3, 3]) if len(ei) >= 3 else None


def map_alignment(folder: Path) -> np.ndarray | None:
    """truth <- map: the SE(3) alignment of a result's SLAM trajectory on its ground truth,
    or None without one. For the session that began a saved map this is where the map frame
    lies in the truth's frame, which later sessions share."""
    folder = Path(folder)
    if not (folder / 'slam.tum').is_file() or not (folder / 'ground_truth.tum').is_file():
        return None
    return _whole_alignment(*read_tum(folder / 'slam.tum'), *read_tum(folder / 'ground_truth.tum'))


def relocalization_metrics(
    relocalizations: list[dict],
    slam_t: np.ndarray,
    slam_T: np.ndarray,
    gt_t,
    gt_T,
    align: np.ndarray | None = None,
) -> dict[str, Any]:
    """Times and scores of the backend's relocalizations. First poses are judged in `align`
    (truth <- map, from the session that began the map: map_alignment), else after aligning
    this whole trajectory on the truth, which bends to whatever drift came later."""
    if not relocalizations:
        return {'reloc_time_s': None, 'reloc_score': None, 'relocalizations': []}
    if align is None:
        align = _whole_alignment(slam_t, slam_T, gt_t, gt_T)
    rows = []
    for r in relocalizations:
        # Up to the first pose published (see loops.score_relocalizations); to the keyframe's
        # stamp when the run ended before one was.
        after = np.flatnonzero(slam_t >= r['found_ns'])
        end_ns = int(slam_t[after[0]]) if len(after) else r['found_ns']
        seconds = (end_ns - r['requested_ns']) * 1e-9
        right = None
        if align is not None and len(after):
            k = after[0]
            _, i = associate(np.array([slam_t[k]]), gt_t, 60_000_000)
            if len(i):
                error = inverse(gt_T[i[0]]) @ (align @ slam_T[k])
                right = bool(
                    np.linalg.norm(error[:3, 3]) <= CORRECT_M
                    and rotation_deg(error) <= CORRECT_DEG
                )
        score = math.exp(-seconds / RELOC_TIME_SCALE_S) if right else 0.0
        rows.append({'time_s': seconds, 'first_pose_right': right, 'score': score})
    return {
        'reloc_time_s': statistics.median(r['time_s'] for r in rows),
        'reloc_score': statistics.mean(r['score'] for r in rows),
        'relocalizations': rows,
    }


def _detection(s: DetectionScore) -> dict[str, Any]:
    return {
        'truths': s.truths,
        'detections': s.detections,
        'precision': _number(s.precision),
        'recall': _number(s.recall),
        'median_latency_s': _number(s.median_latency_s),
    }


def fault_metrics(bag: Path, labels: dict | None) -> dict[str, Any]:
    """The fault_* keys and `faults` per kind; null without labels or without fusion output."""
    scores = score_faults(bag, labels) if labels is not None and bag.exists() else None
    if scores is None:
        return {
            'fault_precision': None,
            'fault_recall': None,
            'fault_latency_s': None,
            'faults': None,
        }
    pooled = sum(scores.values(), DetectionScore(0, 0, 0, 0))
    return {
        'fault_precision': _number(pooled.precision),
        'fault_recall': _number(pooled.recall),
        'fault_latency_s': _number(pooled.median_latency_s),
        'faults': {kind: _detection(s) for kind, s in scores.items()},
    }


def _number(value: float | None) -> float | None:
    return None if value is None or not math.isfinite(value) else float(value)


def _result_file(folder: Path, name: str) -> Path:
    """A file of a replay result folder; FileNotFoundError that says so when it is missing."""
    path = folder / name
    if not path.is_file():
        raise FileNotFoundError(f'{path} is missing: is {folder} an `astro-slam replay` result?')
    return path


def _labels(run: dict) -> dict | None:
    bag = Path(run.get('bag', ''))
    path = bag.parent / f'{bag.name}.labels.json'
    return json.loads(path.read_text(encoding='utf-8')) if path.is_file() else None


def evaluate_run(
    folder: Path,
    th: Thresholds | None = None,
    map_frame: np.ndarray | None = None,
    earlier: Sequence[Path] = (),
) -> dict[str, Any]:
    """Every metric of the module docstring for one replay result folder; relocalizations
    judged in `map_frame` (truth <- map, see map_alignment) when given, loops to keyframes of
    the `earlier` result folders of the same map on their ground truth.

    Raises:
        FileNotFoundError: the folder has no run.json or no ground_truth.tum.
    """
    th = th or Thresholds()
    folder = Path(folder)
    run_path, gt_path = _result_file(folder, 'run.json'), _result_file(folder, 'ground_truth.tum')
    run = json.loads(run_path.read_text(encoding='utf-8'))
    gt_t, gt_T = read_tum(gt_path)
    trajectories: dict[str, Any] = {}
    for name in TRAJECTORIES:
        path = folder / f'{name}.tum'
        if path.is_file():
            t, T = read_tum(path)
            trajectories[name] = trajectory_metrics(t, T, gt_t, gt_T, th)
    slam = trajectories.get('slam') or {}
    nodes = run.get('nodes', {})
    backend = nodes.get('backend', {}).get('diagnostics', {})
    saves = nodes.get('map_server', {}).get('diagnostics', {}).get('saves', [])
    out: dict[str, Any] = {
        key: slam.get(key)
        for key in ('ate_rmse_m', 'rpe_trans_pct', 'rpe_m_per_m', 'rpe_m_per_10s', 'correct_rate')
    }
    if (folder / 'slam.tum').is_file():
        slam_t, slam_T = read_tum(folder / 'slam.tum')
        out.update(
            relocalization_metrics(
                backend.get('relocalizations', []), slam_t, slam_T, gt_t, gt_T, map_frame
            )
        )
    labels = _labels(run)
    loops = None
    if labels is not None and 'loop_events' in backend:
        truth = merge_truths(
            (gt_t, gt_T), *(read_tum(_result_file(Path(f), 'ground_truth.tum')) for f in earlier)
        )
        loops = score_loops(backend['loop_events'], labels.get('revisits', []), *truth)
    out['loop_precision'] = _number(loops.precision) if loops else None
    out['loop_recall'] = _number(loops.recall) if loops else None
    out['loops_unjudged'] = loops.unjudged if loops else None
    out.update(fault_metrics(folder / 'bag', labels))
    out['realtime_factor'] = run.get('realtime_factor')
    out['peak_rss_mb'] = run.get('peak_rss_mb')
    out['map_bytes'] = saves[-1]['bytes'] if saves else None
    out['cpu_s'] = {name: node.get('cpu_s') for name, node in nodes.items()}
    out['trajectories'] = trajectories
    return out
