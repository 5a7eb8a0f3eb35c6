"""Learned features against ORB + CLAHE, side by side, on simulated homes the training never saw.

    python benchmarks/learned_features.py --work /tmp/lf [--homes 200 201 202 203 204]

1. Matching: a daylight view against a view of the same place (a pose up to 0.3 m and 20 deg
   away) under each other light; mutual nearest neighbours passing Lowe's ratio test (0.8)
   from both sides; correct when within 3 px of the position the rendered depth gives.
2. Place recognition: per home, `--places` places seen in daylight are the database; each is
   queried from a nearby pose under evening, dim, near-dark and infrared-night light, after
   furniture moved and objects were dropped; recall@1 counts a top match within 1 m and 45 deg.
   ORB bag of words (shipped vocabulary) against VLAD of learned descriptors (shipped centres),
   each over all of the image's features, or (as the backend, from a keyframe's landmarks)
   over those with a stereo depth from the right image; each ranking also with its
   20 best re-ordered by their count of descriptor matches with the query, as the backend
   does with `rerank_candidates: 20`. Then as the backend answers: the 5 best candidates verified
   with its geometric verification and parameters (each view's keypoints with a stereo depth),
   the one verified on the most inliers first; a verified pose off the truth by 0.3 m or 10 deg
   is counted wrong.
3. Time per 640x480 frame: extraction only (network and keypoint selection / ORB), interleaved.
4. The visual odometry on the `dark` scenario (infrared illuminator only), per extractor
   (`--dark-features`), per `--dark-counts` keypoint budget and per `--dark-smoothing` stereo
   smoothing: the share of frames with state `tracking`, and the VO's ATE.

Each section also runs the network's 8-bit version (`feature_model: int8`) and the float
network on the image scaled by 0.8 (`learned_input_scale`).

Writes RESULT.json and learned_features.png (or --figure) to --work, and prints the JSON.
"""

from __future__ import annotations

import argparse
import dataclasses
import itertools
import json
import statistics
import time
from pathlib import Path

import numpy as np
from common import add_markdown_option, machine, vo_statuses, write_markdown

from astro_slam.backend.config import BackendConfig
from astro_slam.backend.verification import KeyframeView, VerifyParams, by_matches, verify
from astro_slam.backend.vlad import VladEncoder
from astro_slam.backend.vocabulary import Vocabulary
from astro_slam.eval.loops import CORRECT_DEG, CORRECT_M
from astro_slam.learned.extractor import LearnedExtractor
from astro_slam.learned.judge import match_totals
from astro_slam.learned.views import (
    LIGHTS,
    View,
    ViewRenderer,
    camera_pose,
    lighting,
    nearby,
    robot_poses,
    view_pairs,
)
from astro_slam.sim.changes import apply_changes
from astro_slam.sim.generate import generate_home
from astro_slam.transforms import inverse, rotation_deg
from astro_slam.vo.association import StereoDepth
from astro_slam.vo.config import VisualOdometryConfig
from astro_slam.vo.features import OrbExtractor
from astro_slam.vo.image_quality import Normaliser, as_vo_sees

QUERY_LIGHTS = ('evening', 'dim', 'near-dark', 'night-ir')


def extractors(max_features: int) -> dict:
    """ORB, the learned network, its 8-bit version and the network on a smaller input."""
    return {
        'orb': OrbExtractor(max_features),
        'learned': LearnedExtractor(max_features),
        'learned-int8': LearnedExtractor(max_features, 'int8'),
        'learned@0.8': LearnedExtractor(max_features, input_scale=0.8),
    }


def matching(homes: list[int], pairs: int, max_features: int) -> dict:
    ex = extractors(max_features)
    out = {}
    for light in LIGHTS[1:]:
        totals = match_totals(ex, homes, pairs, ('day', light))
        out[light] = {
            name: {'correct': c.correct, 'matches': c.matches, 'precision': round(c.precision, 3)}
            for name, c in totals.items()
        }
        print(f'matching day vs {light}: {out[light]}', flush=True)
    return out


def _pose_close(p: np.ndarray, q: np.ndarray) -> bool:
    turn = abs((p[2] - q[2] + np.pi) % (2 * np.pi) - np.pi)
    return float(np.linalg.norm(p[:2] - q[:2])) <= 1.0 and turn <= np.radians(45)


def places(homes: list[int], count: int, max_features: int) -> dict:
    clahe = Normaliser('clahe')
    ex = extractors(max_features)
    vlad = VladEncoder.load()
    models = {'orb': Vocabulary.load(), 'learned': vlad, 'learned-int8': vlad, 'learned@0.8': vlad}
    vo, backend = VisualOdometryConfig(), BackendConfig()
    verify_params = VerifyParams(
        ratio=backend.match_ratio,
        ransac_px=backend.ransac_px,
        min_inliers=backend.min_inliers,
        min_inlier_ratio=backend.min_inlier_ratio,
    )
    hits = {(name, way): dict.fromkeys(QUERY_LIGHTS, 0) for name in ex for way in RANKINGS}
    hits5 = dict.fromkeys(ex, 0)
    verified = {(name, way): dict.fromkeys(QUERY_LIGHTS, 0) for name in ex for way in VERIFIED}
    accepted = dict.fromkeys(verified, 0)
    wrong = dict.fromkeys(verified, 0)
    queries = dict.fromkeys(QUERY_LIGHTS, 0)
    for seed in homes:
        home = generate_home(seed)
        changed, _ = apply_changes(home, 'minor', np.random.default_rng([seed, 2]))
        rng = np.random.default_rng([seed, 3])
        views = ViewRenderer(home, seed=seed)
        K = views.K
        stereo = StereoDepth(
            K[0, 0] * views.rig.baseline_m,
            vo.min_depth_m,
            vo.max_depth_m,
            vo.stereo_smoothing_px,
            vo.stereo_matcher,
            vo.stereo_window_sigma_px,
        )
        try:
            poses = robot_poses(home, rng, count)
            database: dict[str, list[_Place]] = {name: [] for name in ex}
            for pose in poses:
                light = lighting(home, 'day', rng)
                view = views.render(camera_pose(views.rig, *pose), light, 'day', stereo=True)
                for name, e in ex.items():
                    database[name].append(_place(e, models[name], clahe, vo, stereo, view, K))
            views.set_home(changed)
            for light in QUERY_LIGHTS:
                for pose in poses:
                    q_pose = nearby(changed, pose, rng)
                    T_map_q = camera_pose(views.rig, *q_pose)
                    view = views.render(T_map_q, lighting(changed, light, rng), light, True)
                    queries[light] += 1
                    for name, e in ex.items():
                        query = _place(e, models[name], clahe, vo, stereo, view, K)
                        ranked = {
                            way: _ranked(query, database[name], way, verify_params)
                            for way in RANKINGS
                        }
                        for way, order in ranked.items():
                            hits[name, way][light] += _pose_close(poses[order[0]], q_pose)
                        hits5[name] += any(
                            _pose_close(poses[i], q_pose) for i in ranked['all'][:5]
                        )
                        # The backend verifies the best `candidates` (5) of its ranking; the
                        # one verified on the most inliers is its answer.
                        for way in VERIFIED:
                            best, most = None, 0
                            for i in ranked[way][: backend.candidates]:
                                result = verify(
                                    query.keyframe, database[name][i].keyframe, K, verify_params
                                )
                                if not result.accepted:
                                    continue
                                accepted[name, way] += 1
                                assert result.T_qc is not None
                                T_true = inverse(T_map_q) @ camera_pose(views.rig, *poses[i])
                                error = inverse(T_true) @ result.T_qc
                                wrong[name, way] += not (
                                    np.linalg.norm(error[:3, 3]) < CORRECT_M
                                    and rotation_deg(error) < CORRECT_DEG
                                )
                                if result.inliers > most:
                                    best, most = i, result.inliers
                            if best is not None:
                                verified[name, way][light] += _pose_close(poses[best], q_pose)
        finally:
            views.release()
        print(f'places: home {seed} done', flush=True)
    total = sum(queries.values())

    def share(counts: dict[str, int]) -> dict:
        return {
            'recall_at_1': round(sum(counts.values()) / total, 3),
            'by_light': {lt: round(counts[lt] / queries[lt], 3) for lt in QUERY_LIGHTS},
        }

    return {
        name: share(hits[name, 'all'])
        | {
            # Of the place model alone (all keypoints, no re-ranking).
            'recall_at_5': round(hits5[name] / total, 3),
            'rankings': {way: share(hits[name, way]) for way in RANKINGS},
            'verified': {
                way: share(verified[name, way])
                | {
                    'candidates_verified': accepted[name, way],
                    'wrong_poses': wrong[name, way],
                }
                for way in VERIFIED
            },
        }
        for name in ex
    } | {'queries': total, 'rerank_candidates': RERANK}


# How candidates are ranked: place vectors of all of a view's keypoints or (as the backend's,
# from a keyframe's landmarks) of those with a stereo depth; then, "reranked", the
# `rerank_candidates` best re-ordered by their count of descriptor matches with the query.
RANKINGS = ('all', 'all_reranked', 'depth', 'depth_reranked')
RERANK = 20  # candidates re-ranked: the backend's `rerank_candidates` when it is on
VERIFIED = ('depth', 'depth_reranked')  # the backend without and with re-ranking


@dataclasses.dataclass
class _Place:
    vector: np.ndarray  # from all keypoints
    depth_vector: np.ndarray  # from the keypoints with a depth
    descriptors: KeyframeView  # all keypoints (descriptors only matter: no depth)
    keyframe: KeyframeView  # the keypoints with a depth, as a keyframe's landmarks


def _ranked(
    query: _Place,
    database: list[_Place],
    way: str,
    params: VerifyParams,
) -> list[int]:
    """Database indices, best first, as `way` (RANKINGS) orders them."""
    depth = way.startswith('depth')
    vectors = np.array([p.depth_vector if depth else p.vector for p in database])
    q = query.depth_vector if depth else query.vector
    order = [int(i) for i in np.argsort(-(vectors @ q), kind='stable')]
    if not way.endswith('reranked'):
        return order
    top = order[:RERANK]
    view = (lambda p: p.keyframe) if depth else (lambda p: p.descriptors)
    reranked = by_matches(view(query), [view(database[i]) for i in top], params)
    return [top[j] for j in reranked] + order[len(top) :]


def _place(
    extractor: OrbExtractor | LearnedExtractor,
    model: Vocabulary | VladEncoder,
    normalise: Normaliser,
    vo: VisualOdometryConfig,
    stereo: StereoDepth,
    view: View,
    K: np.ndarray,
) -> _Place:
    """A view's place vectors and keypoints; those with a stereo depth as the backend's
    verification gets them from a keyframe."""
    assert view.right is not None
    left, right = as_vo_sees(
        [view.gray, view.right], normalise, vo.denoise_target_noise, vo.denoise_max_px
    )
    features = extractor.extract(left)
    points = stereo(left, right, features, K)
    has_depth = np.isfinite(points).all(axis=1)
    keyframe = KeyframeView(
        points[has_depth], features.xy[has_depth], features.descriptors[has_depth]
    )
    everything = KeyframeView(points, features.xy, features.descriptors)
    vector, depth_vector = model.vector(features.descriptors), model.vector(keyframe.descriptors)
    return _Place(vector, depth_vector, everything, keyframe)


def timing(homes: list[int], frames: int, max_features: int) -> dict:
    clahe = Normaliser('clahe')
    ex = extractors(max_features)
    images = [
        clahe(view.gray)
        for a, b in view_pairs(generate_home(homes[0]), frames // 2, homes[0])
        for view in (a, b)
    ]
    ms = {name: [] for name in ex}
    for image in images:
        for name, e in ex.items():
            start = time.perf_counter()
            e.extract(image)
            ms[name].append((time.perf_counter() - start) * 1e3)
    return {name: round(statistics.median(v[2:]), 1) for name, v in ms.items()} | {
        'frames': len(images) - 2,
        'size': '640x480',
    }


def dark_vo(
    seed: int,
    duration: float,
    counts: list[int],
    smoothing: list[float],
    kinds: list[str],
    work: Path,
) -> dict:
    from astro_slam.eval.trajectory import evaluate
    from astro_slam.sim.scenarios import SCENARIOS
    from astro_slam.sim.simulate import simulate
    from astro_slam.tools.replay import ReplayOptions, replay
    from astro_slam.tools.tum import read_tum

    base = SCENARIOS['dark']
    spec = dataclasses.replace(base.sessions[0], duration_s=duration)
    scenario = dataclasses.replace(base, name=f'dark{seed}', sessions=(spec,))
    simulate(scenario, seed, seed, work, overwrite=True, progress=False)
    bag = work / scenario.name / spec.name
    out = {}
    for sigma, count, kind in itertools.product(smoothing, counts, kinds):
        # 'learned@0.8': learned_input_scale 0.8; 'learned-int8': feature_model int8
        extractor, _, scale = kind.partition('@')
        features, _, model = extractor.partition('-')
        name = f'{extractor}@{count}' + (f' input {scale}' if scale else '')
        name += f' smoothed {sigma:g} px' if sigma else ''
        params = work / f'{name.replace(" ", "_")}.yaml'
        params.write_text(
            f'visual_odometry:\n  ros__parameters:\n    features: {features}\n'
            f'    max_features: {count}\n    stereo_smoothing_px: {sigma}\n'
            f"    learned_input_scale: {scale or 1.0}\n    feature_model: '{model}'\n"
            f'backend:\n  ros__parameters:\n    features: {features}\n'
        )
        options = ReplayOptions(
            work / 'out' / params.stem, config=params, overwrite=True, progress=False
        )
        (result,) = replay([bag], options)
        states = [v.get('state') for v in vo_statuses(result.folder / 'bag')]
        truth = read_tum(result.folder / 'ground_truth.tum')
        vo = evaluate(*read_tum(result.folder / 'vo.tum'), *truth)
        out[name] = {
            'frames': len(states),
            'vo_ate_cm': round(vo.ate_rmse_m * 100, 1),
            'tracked_share': round(states.count('tracking') / len(states), 3),
            'not_lost_share': round(1 - states.count('lost') / len(states), 3),
            'realtime_factor': round(result.realtime_factor, 2),
        }
        print(f'dark VO {name}: {out[name]}', flush=True)
    return out


def plot(result: dict, path: Path) -> None:
    """Correct matches against a daylight view, per light, and place recall@1, per light."""
    import matplotlib

    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    panels = [k for k in ('matching', 'places') if k in result]
    if not panels:
        return
    fig, axes = plt.subplots(1, len(panels), figsize=(6.5 * len(panels), 4), squeeze=False)
    colours = {
        'orb': '#888888',
        'learned': '#1f77b4',
        'learned@0.8': '#9ecae1',
        'learned-int8': '#2ca02c',
        'orb, re-ranked': '#bbbbbb',
        'learned, re-ranked': '#6baed6',
        'orb, verified': '#dddddd',
        'learned, verified': '#ff7f0e',
        'learned@0.8, re-ranked': '#c6dbef',
        'learned@0.8, verified': '#fdae6b',
        'learned-int8, re-ranked': '#98df8a',
        'learned-int8, verified': '#d62728',
    }
    for ax, panel in zip(axes[0], panels, strict=True):
        if panel == 'matching':
            lights = list(result['matching'])
            names = list(result['matching'][lights[0]])
            values = {n: [result['matching'][lt][n]['correct'] for lt in lights] for n in names}
            precision = {
                n: [result['matching'][lt][n]['precision'] for lt in lights] for n in names
            }
            ax.set_title('correct matches with a daylight view (label: precision)')
        else:
            places = {n: r for n, r in result['places'].items() if isinstance(r, dict)}
            lights = list(next(iter(places.values()))['by_light'])
            values = {n: [r['by_light'][lt] for lt in lights] for n, r in places.items()}
            for n, r in places.items():
                ways = {'re-ranked': r['rankings']['all_reranked']}
                ways['verified'] = r['verified']['depth_reranked']
                for w, x in ways.items():
                    values[f'{n}, {w}'] = [x['by_light'][t] for t in lights]
            names = list(values)
            precision = None
            ax.set_title('place recall@1 (furniture moved); verified: as the backend', fontsize=10)
        width = 0.8 / len(names)
        for i, n in enumerate(names):
            x = np.arange(len(lights)) + i * width
            bars = ax.bar(x, values[n], width, label=n, color=colours.get(n))
            if precision:
                ax.bar_label(bars, [f'{p:.2f}' for p in precision[n]], fontsize=7)
        ax.set_xticks(np.arange(len(lights)) + 0.4 - width / 2, lights)
        if panel == 'places':
            ax.set_ylim(0, 1.3)  # room above the bars for the legend
        ax.legend(fontsize=8, ncol=3 if panel == 'places' else 1)
    fig.suptitle(f'homes {result["homes"]}, {result["date"]}, {result["machine"]}', fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--work', type=Path, required=True)
    parser.add_argument('--homes', type=int, nargs='+', default=[200, 201, 202, 203, 204])
    parser.add_argument('--pairs', type=int, default=10, help='view pairs per home and light')
    parser.add_argument('--places', type=int, default=30, help='database places per home')
    parser.add_argument('--max-features', type=int, default=800)
    parser.add_argument('--dark-seconds', type=float, default=60.0)
    parser.add_argument(
        '--dark-counts', type=int, nargs='+', default=[800, 1200], help='max_features runs'
    )
    parser.add_argument(
        '--dark-smoothing',
        type=float,
        nargs='+',
        default=[0.0, 1.0],
        help='stereo_smoothing_px runs',
    )
    parser.add_argument(
        '--dark-features',
        nargs='+',
        default=['orb', 'learned', 'learned-int8', 'learned@0.8'],
        help="extractors of the dark VO runs ('learned@0.8': learned_input_scale 0.8, "
        "'learned-int8': feature_model int8)",
    )
    parser.add_argument('--figure', type=Path, help='also write the figure here (PNG)')
    parser.add_argument(
        '--sections',
        nargs='+',
        default=['matching', 'places', 'timing', 'vo'],
        choices=['matching', 'places', 'timing', 'vo'],
    )
    add_markdown_option(parser)
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    result: dict = {
        'date': time.strftime('%Y-%m-%d'),
        'machine': machine(),
        'homes': args.homes,
        'max_features': args.max_features,
    }
    if 'matching' in args.sections:
        result['matching'] = matching(args.homes, args.pairs, args.max_features)
    if 'places' in args.sections:
        result['places'] = places(args.homes, args.places, args.max_features)
    if 'vo' in args.sections:
        result['dark_vo'] = dark_vo(
            args.homes[0],
            args.dark_seconds,
            args.dark_counts,
            args.dark_smoothing,
            args.dark_features,
            args.work / 'dark',
        )
    if 'timing' in args.sections:  # last: nothing else of ours runs meanwhile
        result['timing_ms'] = timing(args.homes, 40, args.max_features)
        print(f'timing: {result["timing_ms"]}', flush=True)
    (args.work / 'RESULT.json').write_text(json.dumps(result, indent=1) + '\n')
    plot(result, args.figure or args.work / 'learned_features.png')
    print(json.dumps(result, indent=1))
    write_markdown(
        args.markdown,
        markdown(result),
        f'Homes {", ".join(map(str, args.homes))} (never used in training); '
        f'{args.max_features} keypoints per image.',
    )


def markdown(result: dict) -> str:
    """The sections that ran, as tables."""
    parts = []
    if 'matching' in result:
        lines = [
            '| second view | ORB + CLAHE correct (precision) | learned | learned-int8 '
            '| learned@0.8 | learned / ORB |',
            '|---|---|---|---|---|---|',
        ]
        for light, r in result['matching'].items():

            def cell(k: str, r: dict = r) -> str:
                return f'{r[k]["correct"]} ({r[k]["precision"]:.2f})'

            ratio = r['learned']['correct'] / max(r['orb']['correct'], 1)
            lines.append(
                f'| {light} | {cell("orb")} | {cell("learned")} | {cell("learned-int8")} '
                f'| {cell("learned@0.8")} | {ratio:.1f}x |'
            )
        parts.append('\n'.join(lines))
    if 'places' in result:
        r = result['places']
        lights = list(r['orb']['by_light'])
        top = r['rerank_candidates']
        names = {
            'orb': 'ORB bag of words',
            'learned': 'learned VLAD',
            'learned-int8': 'learned VLAD, 8-bit network',
            'learned@0.8': 'learned VLAD, network input 0.8',
        }
        names = {k: v for k, v in names.items() if k in r}
        ways = {
            'all': 'all keypoints',
            'all_reranked': f'all keypoints, {top} best re-ranked by matches',
            'depth': 'keypoints with depth (as a keyframe)',
            'depth_reranked': f'keypoints with depth, {top} best re-ranked (`rerank_candidates`)',
        }
        lines = [
            '| place vectors | ranking | recall@1 | recall@5 | ' + ' | '.join(lights) + ' |',
            '|---|---|---|---|' + '---|' * len(lights),
        ]
        for key, name in names.items():
            for way, label in ways.items():
                x = r[key]['rankings'][way]
                at5 = f'{r[key]["recall_at_5"]:.2f}' if way == 'all' else '-'
                by = ' | '.join(f'{x["by_light"][k]:.2f}' for k in lights)
                lines.append(f'| {name} | {label} | {x["recall_at_1"]:.2f} | {at5} | {by} |')
        parts.append(f'{r["queries"]} place queries:\n\n' + '\n'.join(lines))
        lines = [
            '| 5 best verified, most inliers first | ranking | recall@1 | '
            + ' | '.join(lights)
            + ' | candidates verified | with a wrong pose |',
            '|---|---|---|' + '---|' * len(lights) + '---|---|',
        ]
        for key, name in names.items():
            for way, x in r[key]['verified'].items():
                by = ' | '.join(f'{x["by_light"][k]:.2f}' for k in lights)
                lines.append(
                    f'| {name} | {ways[way]} | {x["recall_at_1"]:.2f} | {by} '
                    f'| {x["candidates_verified"]} | {x["wrong_poses"]} |'
                )
        parts.append('\n'.join(lines))
    if 'timing_ms' in result:
        t = dict(result['timing_ms'])
        frames, size = t.pop('frames'), t.pop('size')
        parts.append(
            f'Extraction per {size} frame, median of {frames} frames:\n\n| '
            + ' | '.join(t)
            + ' |\n|'
            + '---|' * len(t)
            + '\n| '
            + ' | '.join(f'{v} ms' for v in t.values())
            + ' |'
        )
    if 'dark_vo' in result:
        lines = ['| VO run (`dark` scenario) | frames tracked | ATE |', '|---|---|---|']
        for name, r in result['dark_vo'].items():
            ate = f'{r["vo_ate_cm"]} cm' if 'vo_ate_cm' in r else '-'
            lines.append(f'| {name} | {100 * r["tracked_share"]:.1f} % | {ate} |')
        parts.append('\n'.join(lines))
    return '\n\n'.join(parts)


if __name__ == '__main__':
    main()
