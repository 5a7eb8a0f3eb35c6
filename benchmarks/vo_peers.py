"""Our visual odometry beside the RGB-D odometry a user would otherwise pick: same sequences,
same machine, one run.

For each home seed the simulator records one 30 s daylight patrol (a person and a pet walking)
twice, with the stereo rig and with the RGB-D rig: same home, same path. On them run:
- ours, stereo and RGB-D, through the replay graph as `astro-slam replay` runs it, with the
  wheel odometry as motion prior and without any prior (the peers have none);
- Open3D's RGB-D odometry (`open3d.pipelines.odometry`, hybrid photometric and geometric term),
  frame to frame and chained;
- OpenCV's RGB-D odometry (`cv2.Odometry`, RGB_DEPTH), frame to frame and chained.
Each is scored against ground truth (ATE after SE(3) alignment, RPE over 1 m segments), with the
share of frames it tracked and its median per-frame CPU time on one thread.

    pip install '.[bench]'   # Open3D; on Debian it also needs: apt install libusb-1.0-0
    python benchmarks/vo_peers.py --seeds 0 1 2 --duration-s 30
"""

from __future__ import annotations

import os

os.environ.setdefault('OMP_NUM_THREADS', '1')  # before Open3D loads OpenMP: one core for all

import argparse
import dataclasses
import functools
import json
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path

import cv2
import numpy as np
from common import add_markdown_option, machine, vo_statuses, write_markdown

from astro_slam.eval.trajectory import evaluate
from astro_slam.sim.rig import Rig
from astro_slam.sim.scenarios import SCENARIOS
from astro_slam.sim.simulate import simulate
from astro_slam.tools.bag_io import BagReader
from astro_slam.tools.replay import ReplayOptions, replay
from astro_slam.tools.tum import read_tum
from astro_slam.transforms import inverse
from astro_slam.vo.camera_input import to_depth_m, to_gray

COLOR = '/camera/color/image_raw/compressed'
DEPTH = '/camera/depth/image_rect_raw/compressedDepth'
MAX_DEPTH_M = 6.0

# A frame-to-frame odometry: (previous frame, current frame) -> T_cur_prev, or None on failure.
Odometry = Callable[[tuple, tuple], np.ndarray | None]


def record(seed: int, rig: str, duration: float, work: Path) -> Path:
    base = SCENARIOS['home-day']
    spec = dataclasses.replace(base.sessions[0], duration_s=duration)
    scenario = dataclasses.replace(base, name=f'home{seed}-{rig}', rig=rig, sessions=(spec,))
    simulate(scenario, seed, seed, work, overwrite=True, progress=False)
    return work / scenario.name / spec.name


def ours(bag: Path, rig: str, prior: bool, work: Path) -> dict:
    config = work / f'{rig}-{prior}.yaml'
    topic = '/odometry/filtered' if prior else "''"
    config.write_text(
        f'visual_odometry:\n  ros__parameters:\n    rig: {rig}\n'
        f'    prior_odometry_topic: {topic}\n',
        encoding='utf-8',
    )
    out = work / 'out' / f'{bag.parent.name}-{prior}'
    components = ('dead_reckoning', 'visual_odometry')  # the prior: wheels alone
    options = ReplayOptions(out, config, components=components, overwrite=True, progress=False)
    (result,) = replay([bag], options)
    folder = result.folder
    values = vo_statuses(folder / 'bag')
    latency = [float(v['latency_ms']) for v in values if v.get('state') == 'tracking']
    score = evaluate(*read_tum(folder / 'vo.tum'), *read_tum(folder / 'ground_truth.tum'))
    return {
        'tracked_share': sum(v.get('state') != 'lost' for v in values) / len(values),
        'ate_cm': score.ate_rmse_m * 100,
        'rpe_pct': score.rpe_trans_pct,
        'median_ms': statistics.median(latency),
    }


def rgbd_frames(bag: Path) -> Iterator[tuple[int, np.ndarray, np.ndarray]]:
    """(stamp, BGR colour, depth in metres with 0 where invalid) in stamp order."""
    pending: dict[int, dict[str, object]] = {}
    with BagReader(bag) as reader:
        for topic, t, msg in reader.messages({COLOR, DEPTH}):
            pending.setdefault(t, {})[topic] = msg
            if len(pending[t]) == 2:
                pair = pending.pop(t)
                color = cv2.cvtColor(to_gray(pair[COLOR]), cv2.COLOR_GRAY2BGR)
                depth = np.nan_to_num(to_depth_m(pair[DEPTH]), nan=0.0).astype(np.float32)
                depth[depth > MAX_DEPTH_M] = 0.0
                yield t, color, depth


def open3d_odometry(K: np.ndarray) -> Odometry:
    import open3d as o3d

    o3d.utility.set_verbosity_level(o3d.utility.VerbosityLevel.Error)
    intrinsic = o3d.camera.PinholeCameraIntrinsic(640, 480, K[0, 0], K[1, 1], K[0, 2], K[1, 2])
    option = o3d.pipelines.odometry.OdometryOption()
    jacobian = o3d.pipelines.odometry.RGBDOdometryJacobianFromHybridTerm()

    def rgbd(frame: tuple) -> object:
        _, color, depth = frame
        return o3d.geometry.RGBDImage.create_from_color_and_depth(
            o3d.geometry.Image(cv2.cvtColor(color, cv2.COLOR_BGR2RGB)),
            o3d.geometry.Image(depth),
            depth_scale=1.0,
            depth_trunc=MAX_DEPTH_M,
            convert_rgb_to_intensity=True,
        )

    def step(previous: tuple, current: tuple) -> np.ndarray | None:
        ok, T, _ = o3d.pipelines.odometry.compute_rgbd_odometry(
            rgbd(previous), rgbd(current), intrinsic, np.eye(4), jacobian, option
        )
        return np.asarray(T) if ok else None  # T maps previous points into current

    return step


def opencv_odometry(K: np.ndarray) -> Odometry:
    settings = cv2.OdometrySettings()
    settings.setCameraMatrix(K.astype(np.float32))
    settings.setMaxDepth(MAX_DEPTH_M)
    odometry = cv2.Odometry(cv2.OdometryType_RGB_DEPTH, settings, cv2.OdometryAlgoType_COMMON)

    def step(previous: tuple, current: tuple) -> np.ndarray | None:
        ok, Rt = odometry.compute(previous[2], previous[1], current[2], current[1])
        return np.asarray(Rt, float) if ok else None  # Rt maps previous points into current

    return step


def peer(bag: Path, make: Callable[[np.ndarray], Odometry], truth: tuple) -> dict:
    rig = Rig(kind='rgbd')
    K = rig.camera_model('color').K
    T_bc = rig.T_base_optical('color')
    step = make(K)
    stamps, poses, times, failures = [], [], [], 0
    T_wc = np.eye(4)
    previous = None
    for frame in rgbd_frames(bag):
        if previous is not None:
            start = time.process_time()
            T_cur_prev = step(previous, frame)
            times.append((time.process_time() - start) * 1e3)
            if T_cur_prev is None or not np.all(np.isfinite(T_cur_prev)):
                failures += 1  # chained odometry cannot skip: the pose stays where it was
            else:
                T_wc = T_wc @ inverse(T_cur_prev)
        previous = frame
        stamps.append(frame[0])
        poses.append(T_bc @ T_wc @ inverse(T_bc))
    score = evaluate(np.array(stamps), np.array(poses), *truth)
    return {
        'tracked_share': 1 - failures / max(len(times), 1),
        'ate_cm': score.ate_rmse_m * 100,
        'rpe_pct': score.rpe_trans_pct,
        'median_ms': statistics.median(times),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--seeds', type=int, nargs='+', default=[0, 1, 2])
    parser.add_argument('--duration-s', type=float, default=30.0)
    add_markdown_option(parser)
    args = parser.parse_args()
    cv2.setNumThreads(1)
    peers: dict[str, Callable[[np.ndarray], Odometry]] = {'opencv_rgbd': opencv_odometry}
    try:
        import open3d  # noqa: F401

        peers['open3d_rgbd'] = open3d_odometry
    except ImportError as err:
        print(f'open3d not available ({err}); its rows are left out', flush=True)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        for seed in args.seeds:
            bags = {rig: record(seed, rig, args.duration_s, work) for rig in ('stereo', 'rgbd')}
            truth = read_tum(bags['rgbd'].parent / f'{bags["rgbd"].name}.tum')
            methods: dict[str, Callable[[], dict]] = {}
            for rig, prior in ((r, p) for r in ('stereo', 'rgbd') for p in (True, False)):
                name = f'ours_{rig}_{"prior" if prior else "noprior"}'
                methods[name] = functools.partial(ours, bags[rig], rig, prior, work)
            for name, make in peers.items():
                methods[name] = functools.partial(peer, bags['rgbd'], make, truth)
            for name, run in methods.items():
                row = {'home_seed': seed, 'method': name}
                row.update({k: round(v, 3) for k, v in run().items()})
                print(json.dumps(row), flush=True)
                rows.append(row)
    print(
        json.dumps(
            {
                'date': date.today().isoformat(),
                'machine': f'{machine()}, OpenCV {cv2.__version__}',
                'rows': rows,
            },
            indent=1,
        )
    )
    write_markdown(
        args.markdown,
        markdown(rows),
        f'OpenCV {cv2.__version__}; everything on one thread. Scenario `home-day`, '
        f'{args.duration_s:g} s per home, recorded once with the stereo rig and once with the '
        'RGB-D rig along the same path.',
    )


METHODS = {
    'ours_stereo_prior': 'ours, stereo, wheel prior',
    'ours_stereo_noprior': 'ours, stereo, no prior',
    'ours_rgbd_prior': 'ours, RGB-D, wheel prior',
    'ours_rgbd_noprior': 'ours, RGB-D, no prior',
    'opencv_rgbd': 'OpenCV `cv2.Odometry` RGB-D',
    'open3d_rgbd': 'Open3D RGB-D odometry (hybrid)',
}


def markdown(rows: list[dict]) -> str:
    lines = [
        '| home | method | tracked | ATE | RPE | median CPU per frame |',
        '|---|---|---|---|---|---|',
    ]
    for r in rows:
        lines.append(
            f'| {r["home_seed"]} | {METHODS.get(r["method"], r["method"])} '
            f'| {100 * r["tracked_share"]:.1f} % | {r["ate_cm"]:.2f} cm | {r["rpe_pct"]:.2f} % '
            f'| {r["median_ms"]:.0f} ms |'
        )
    return '\n'.join(lines)


if __name__ == '__main__':
    main()
