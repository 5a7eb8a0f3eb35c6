"""What the benchmark scripts share: the machine they ran on, their Markdown result section
(which `benchmarks/run` puts into docs/BENCHMARKS.md), VO status from an output bag, the
recorded inputs of the backend (and map server) fed again to a graph, and the true depth of a
simulated session's left camera at its keypoints.

The scripts run as `python benchmarks/NAME.py`, so this file is importable as `common`.
"""

from __future__ import annotations

import argparse
import heapq
import os
import platform
import shlex
import sys
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np

from astro_slam.msgs.diagnostics import from_diagnostic_array
from astro_slam.tools.bag_io import BagReader


def machine() -> str:
    """CPU model, core count and Python version, for the header of every result."""
    model = platform.processor() or platform.machine()
    cpuinfo = Path('/proc/cpuinfo')
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith('model name'):
                model = line.split(':', 1)[1].strip()
                break
    return f'{model}, {os.cpu_count()} cores, Python {platform.python_version()}'


def add_markdown_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        '--markdown',
        type=Path,
        help='also write the result as a Markdown section here (benchmarks/run splices it into '
        'docs/BENCHMARKS.md)',
    )


def command_line() -> str:
    """How this script was run, without --markdown: what a reader types to reproduce it."""
    args, skip = [], False
    for arg in sys.argv[1:]:
        if skip:
            skip = False
        elif arg == '--markdown':
            skip = True
        elif not arg.startswith('--markdown='):
            args.append(arg)
    script = Path(sys.argv[0])
    return shlex.join(['python', f'benchmarks/{script.name}', *args])


def write_markdown(path: Path | None, tables: str, what: str = '') -> None:
    """The result section: the command, the date and machine (and `what` ran), the tables."""
    if path is None:
        return
    head = f'{date.today().isoformat()}, {machine()}.'
    text = f'    {command_line()}\n\n{head}{" " + what if what else ""}\n\n{tables.strip()}\n'
    path.write_text(text, encoding='utf-8')


def vo_statuses(bag: Path) -> list[dict[str, str]]:
    """The values of every /vo/status message of an output bag, in order."""
    with BagReader(bag) as reader:
        return [from_diagnostic_array(m)[0].values for _, _, m in reader.messages({'/vo/status'})]


# What the backend and the map server read: from the simulated bag, and from a replay's output
# bag (VO and fusion; the backend feeds nothing back to them, so their outputs are its inputs).
SIM_TOPICS = {'/tf_static', '/camera/left/camera_info'}
STACK_TOPICS = {'/vo/keyframe', '/odometry/filtered', '/fusion/reliability', '/fusion/relocalize'}


def _messages(path: Path, topics: set[str]) -> Iterator[tuple[int, str, Any]]:
    with BagReader(path) as reader:
        for topic, t_ns, msg in reader.messages(topics):
            yield t_ns, topic, msg


def feed_recorded(graph: Any, sim_bag: Path, result: Path) -> None:
    """Feeds `graph` the camera_info and /tf_static of `sim_bag` and the VO and fusion outputs
    recorded in `result`/bag, merged in time order."""
    streams = [_messages(sim_bag, SIM_TOPICS), _messages(result / 'bag', STACK_TOPICS)]
    for t_ns, topic, msg in heapq.merge(*streams, key=lambda m: m[0]):
        graph.feed(topic, msg, t_ns)


class RenderedDepth:
    """The depth a simulated session's left camera saw, rendered again without people at the
    true pose (a context manager: it holds a GL context)."""

    def __init__(self, session: Path, recording: str) -> None:
        from astro_slam.sim.home import load_home_yaml
        from astro_slam.sim.renderer import Lighting, Renderer
        from astro_slam.sim.rig import Rig
        from astro_slam.tools.tum import read_tum

        home = load_home_yaml(session / 'home.yaml')
        self.truth_t, self.truth_T = read_tum(session / f'{recording}.tum')
        self.rig = Rig()
        self.renderer = Renderer(home, self.rig.intrinsics)
        self.lighting = Lighting(np.ones(len(home.rooms)), np.ones(len(home.rooms)))

    def __enter__(self) -> RenderedDepth:
        return self

    def __exit__(self, *exc: object) -> None:
        self.renderer.release()

    def image(self, t_ns: int) -> np.ndarray:
        """(H, W) metric depth at the true pose nearest t_ns."""
        T_map_base = self.truth_T[int(np.argmin(np.abs(self.truth_t - t_ns)))]
        T_map_camera = T_map_base @ self.rig.T_base_optical('left')
        return self.renderer.render(T_map_camera, self.lighting)[1]

    def at(self, t_ns: int, xy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(depth, on a smooth surface) at pixels: smooth where the 3x3 neighbourhood's depths
        span under 3 %, so that a keypoint on a depth edge is not judged by the wrong side."""
        return self.sample(self.image(t_ns), xy)

    @staticmethod
    def sample(depth: np.ndarray, xy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """`at` on a depth image already rendered."""
        h, w = depth.shape
        u = np.clip(np.round(xy[:, 0]).astype(int), 1, w - 2)
        v = np.clip(np.round(xy[:, 1]).astype(int), 1, h - 2)
        patch = np.stack([depth[v + a, u + b] for a in (-1, 0, 1) for b in (-1, 0, 1)], axis=1)
        with np.errstate(invalid='ignore'):
            flat = (patch.max(axis=1) - patch.min(axis=1)) < 0.03 * patch.min(axis=1)
        return depth[v, u], flat
