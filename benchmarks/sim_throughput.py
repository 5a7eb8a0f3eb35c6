"""Simulator throughput: stereo (or RGB-D) frames per second with the full sensor model.

Measures, on one machine in one run: end-to-end `simulate` speed (render, camera model, JPEG,
IMU, wheels, bag writing), the per-stage split on the same frames, and MB per simulated minute.

    python benchmarks/sim_throughput.py --duration-s 30 --repeats 3
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from datetime import date
from pathlib import Path

import cv2
import numpy as np
from common import add_markdown_option, machine, write_markdown

from astro_slam.sim.camera_model import CameraSensor
from astro_slam.sim.generate import generate_home
from astro_slam.sim.renderer import Lighting, Renderer
from astro_slam.sim.rig import Rig
from astro_slam.sim.scenarios import SCENARIOS
from astro_slam.sim.simulate import override, simulate


def stage_split(frames: int = 60) -> dict[str, float]:
    """Median ms per view of rendering, the camera model and JPEG encoding."""
    home = generate_home(0)
    renderer = Renderer(home)
    rig = Rig()
    n = len(home.rooms)
    lighting = Lighting(np.ones(n), np.full(n, 0.3))
    sensor = CameraSensor()
    times: dict[str, list[float]] = {'render': [], 'camera model': [], 'jpeg': []}
    x, y, _ = home.dock
    for i in range(frames):
        yaw = 0.05 * i
        T = np.eye(4)
        T[:3, :3] = [[np.cos(yaw), -np.sin(yaw), 0], [np.sin(yaw), np.cos(yaw), 0], [0, 0, 1]]
        T[:3, 3] = [x + 0.02 * i, y, 0]
        t0 = time.perf_counter()
        radiance, _ = renderer.render(T @ rig.T_base_optical('left'), lighting)
        t1 = time.perf_counter()
        image = sensor.capture(radiance, i)
        sensor.adapt(image)
        t2 = time.perf_counter()
        cv2.imencode('.jpg', image, [cv2.IMWRITE_JPEG_QUALITY, 85])
        t3 = time.perf_counter()
        if i >= 5:  # the first frames build shaders and mipmaps
            times['render'].append(t1 - t0)
            times['camera model'].append(t2 - t1)
            times['jpeg'].append(t3 - t2)
    renderer.release()
    return {k: round(statistics.median(v) * 1000, 2) for k, v in times.items()}


def end_to_end(rig: str, duration_s: float, repeats: int) -> dict[str, object]:
    """Frames (pairs for stereo) per wall second, setup included: median of the repeats."""
    scenario = override(SCENARIOS['home-day'], rig=rig, duration_s=duration_s)
    rates = []
    for _ in range(repeats):
        with tempfile.TemporaryDirectory() as tmp:
            start = time.perf_counter()
            (result,) = simulate(scenario, 0, 0, Path(tmp), progress=False)
            rates.append(result.frames / (time.perf_counter() - start))
    return {
        'frames': result.frames,
        'frames_per_s_median': round(statistics.median(rates), 2),
        'frames_per_s_runs': [round(r, 2) for r in rates],
        'mb_per_min': round(result.mb_per_minute, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--duration-s', type=float, default=30.0)
    parser.add_argument('--repeats', type=int, default=3)
    parser.add_argument('--json', type=Path, help='write the results here too')
    add_markdown_option(parser)
    args = parser.parse_args()
    results = {
        'date': date.today().isoformat(),
        'machine': machine(),
        'per_view_ms': stage_split(),
        'stereo': end_to_end('stereo', args.duration_s, args.repeats),
        'rgbd': end_to_end('rgbd', args.duration_s, args.repeats),
    }
    print(json.dumps(results, indent=2))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + '\n')
    write_markdown(
        args.markdown,
        markdown(results),
        f'Mesa llvmpipe (EGL, CPU rendering); 640x480 cameras at 15 Hz, home seed 0, scenario '
        f'`home-day` ({args.duration_s:g} s, one person, one pet).',
    )


def markdown(results: dict) -> str:
    names = {'stereo': 'stereo (2 x JPEG 85)', 'rgbd': 'RGB-D (JPEG colour + PNG depth)'}
    lines = [
        '| rig | frames simulated | median frames/s (runs) | bag size |',
        '|---|---|---|---|',
    ]
    for rig, name in names.items():
        r = results[rig]
        runs = ', '.join(f'{x:.1f}' for x in r['frames_per_s_runs'])
        lines.append(
            f'| {name} | {r["frames"]} | {r["frames_per_s_median"]:.1f} ({runs}) '
            f'| {r["mb_per_min"]:.0f} MB per simulated minute |'
        )
    split = ', '.join(f'{k} {v:.1f} ms' for k, v in results['per_view_ms'].items())
    return '\n'.join(lines) + f'\n\nPer view (median at the dock of home 0): {split}.'


if __name__ == '__main__':
    main()
