"""Why a day of the month does or does not relocalize in the map it started from.

Reads what `map_month.py --keep-daily-maps` left in --work: each keyframe of day N (every
third, as the benchmark's "reloc" column) is placed in the map of day N-1 without a pose prior
(`BackendCore.locate`, the backend's own search), and the steps are counted against the truth:
- is there a place of the map where the keyframe is (within --near-m and --near-rad)?
- is one of them among the candidates the place vectors choose (`--candidates`)?
- does geometric verification accept one of them?
- of the descriptor matches with those places, how many are right (the landmark, put where
  the truth says, projects within 8 px of the query keypoint matched to it)?

    python benchmarks/month_probe.py --work /tmp/mm --day 13
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from map_month import _keyframes, _pose_ok, _session_folders

from astro_mapping.places import map_places
from astro_mapping.store import load
from astro_slam.backend.component import keyframe_view
from astro_slam.backend.config import BackendConfig
from astro_slam.backend.core import BackendCore
from astro_slam.backend.place_model import load_place_model
from astro_slam.backend.verification import match, verify
from astro_slam.eval.trajectory import associate, umeyama
from astro_slam.msgs.camera import camera_info_to_model
from astro_slam.tools.bag_io import BagReader
from astro_slam.tools.tum import read_tum
from astro_slam.transforms import inverse, yaw_of


def _map_from_truth(work: Path, variant: str) -> np.ndarray:
    """T_map_truth: day 1's places against day 1's truth (as map_month ties the frames)."""
    m = load(work / variant / 'day01.db')
    _, _, result = _session_folders(work, 1)[0]
    gt_t, gt_T = read_tum(result / 'ground_truth.tum')
    first = [p for p in m.places if p.session == 1]
    i, j = associate(np.array([p.t_ns for p in first]), gt_t)
    return inverse(umeyama(np.array([first[k].T_map_base[:3, 3] for k in i]), gt_T[j, :3, 3]))


def _true_pose(
    work: Path, session: int, t_ns: int, cache: dict[int, tuple[np.ndarray, np.ndarray]]
) -> np.ndarray | None:
    """The true T_world_base of a place (its session's ground truth at its stamp)."""
    if session not in cache:
        _, _, result = _session_folders(work, session)[session - 1]
        cache[session] = read_tum(result / 'ground_truth.tum')
    gt_t, gt_T = cache[session]
    i, j = associate(np.array([t_ns]), gt_t)
    return gt_T[j[0]] if len(i) else None


def probe(
    work: Path,
    day: int,
    variant: str,
    T_map_truth: np.ndarray,
    near_m: float,
    near_rad: float,
    candidates: int,
) -> dict:
    m = load(work / variant / f'day{day - 1:02d}.db')
    core = BackendCore(BackendConfig(candidates=candidates), load_place_model('', m.features))
    places = map_places(m, core.vocabulary)
    core.load_map(places)
    _, sim_bag, result = _session_folders(work, day)[day - 1]
    with BagReader(sim_bag) as reader:
        info = next(msg for _, _, msg in reader.messages({'/camera/left/camera_info'}))
    K = core.K = camera_info_to_model(info).projection[:, :3].copy()
    gt_t, gt_T = read_tum(result / 'ground_truth.tum')
    position = np.array([p.T_map_base[:3, 3] for p in m.places])
    heading = np.array([yaw_of(p.T_map_base) for p in m.places])
    truths: dict[int, tuple[np.ndarray, np.ndarray]] = {}
    out = dict(tried=0, right=0, wrong=0, near=0, near_candidate=0, near_verified=0)
    right_share = []
    for cloud in _keyframes(result)[::3]:
        i, j = associate(np.array([cloud.t_ns]), gt_t)
        if not len(i):
            continue
        T_true = T_map_truth @ gt_T[j[0]]
        view = keyframe_view(cloud, core.vocabulary.descriptor_size)
        found = core.locate(view, m.T_base_camera)
        out['tried'] += 1
        if found is not None:
            out['right' if _pose_ok(found[0], T_true) else 'wrong'] += 1
        turn = np.abs(np.angle(np.exp(1j * (heading - yaw_of(T_true)))))
        near = np.flatnonzero(
            (np.linalg.norm(position - T_true[:3, 3], axis=1) <= near_m) & (turn <= near_rad)
        )
        if not len(near):
            continue
        out['near'] += 1
        chosen = core._candidates(core.vocabulary.vector(view.descriptors), view, len(places))
        out['near_candidate'] += bool(set(chosen) & set(near.tolist()))
        verified = False
        for k in near:
            candidate = places[k].view
            verified |= verify(view, candidate, K, core.verify_params).accepted
            pairs = match(view, candidate, core.verify_params)
            T_place = _true_pose(work, m.places[k].session, m.places[k].t_ns, truths)
            if len(pairs) < 10 or T_place is None:
                continue
            # The place's landmarks moved into the query camera by the true relative pose:
            # whatever the map's own offset from the truth, a right match lands on its keypoint.
            T_qc = inverse(gt_T[j[0]] @ m.T_base_camera) @ T_place @ m.T_base_camera
            X = candidate.points_c[pairs[:, 1]] @ T_qc[:3, :3].T + T_qc[:3, 3]
            uv = X[:, :2] / X[:, 2:] * K[[0, 1], [0, 1]] + K[:2, 2]
            error = np.linalg.norm(uv - view.xy[pairs[:, 0]], axis=1)
            right_share.append(float(np.mean(error < 8)))
        out['near_verified'] += verified
    out['matches_right_median'] = round(float(np.median(right_share)), 2) if right_share else None
    out['places'] = len(m.places)
    out['landmarks_per_place_median'] = float(np.median([len(p.landmark_ids) for p in m.places]))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--work', type=Path, required=True, help='map_month.py --work')
    parser.add_argument('--day', type=int, nargs='+', required=True, help='days (2-30)')
    parser.add_argument('--variant', default='pruned', choices=['pruned', 'unpruned'])
    parser.add_argument('--near-m', type=float, default=0.6)
    parser.add_argument('--near-rad', type=float, default=0.5)
    parser.add_argument(
        '--candidates',
        type=int,
        default=BackendConfig.candidates,
        help='place candidates verified per keyframe (reloc_candidates is what a lost robot uses)',
    )
    args = parser.parse_args()
    T_map_truth = _map_from_truth(args.work, args.variant)
    for day in args.day:
        result = probe(
            args.work,
            day,
            args.variant,
            T_map_truth,
            args.near_m,
            args.near_rad,
            args.candidates,
        )
        print(f'day {day}:', result)


if __name__ == '__main__':
    main()
