"""Which keyframe landmarks lie on a simulated person: the ground truth behind the VO's people
test and benchmark.

Each landmark is held against the home rendered at the true pose of its keyframe, with the
session's people and without: it is on a person when its depth is the person's (within 10 %)
where the person stands in front of the home, and nowhere the home's, within 2 px (a keypoint
on a silhouette may take either side's depth).
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from astro_slam.sim.home import Home
from astro_slam.sim.renderer import Lighting, Renderer
from astro_slam.sim.rig import Rig
from astro_slam.sim.session import SessionPlan


def count_on_people(
    home: Home,
    plan: SessionPlan,
    truth_t: np.ndarray,
    truth_T: np.ndarray,
    keyframes: Iterable[tuple[int, np.ndarray]],
) -> tuple[int, int]:
    """(landmarks on a person, landmarks) over keyframes given as (stamp, points with u, v, z
    in the left optical frame); truth_T are the true base poses at truth_t."""
    rig = Rig()
    renderer = Renderer(home, rig.intrinsics)
    lighting = Lighting(np.ones(len(home.rooms)), np.ones(len(home.rooms)))
    on_person, total = 0, 0
    try:
        for t_ns, points in keyframes:
            T_map_base = truth_T[int(np.argmin(np.abs(truth_t - t_ns)))]
            T_map_camera = T_map_base @ rig.T_base_optical('left')
            t_s = (t_ns - plan.t0_ns) / 1e9
            people = [box for walker in plan.walkers for box in walker.boxes(t_s)]
            _, static = renderer.render(T_map_camera, lighting)
            _, seen = renderer.render(T_map_camera, lighting, people)
            for u, v, z in zip(points['u'], points['v'], points['z'], strict=True):
                window = np.s_[max(int(v) - 2, 0) : int(v) + 3, max(int(u) - 2, 0) : int(u) + 3]
                home_depth, person_depth = static[window], seen[window]
                person = (np.abs(z - person_depth) < 0.1 * person_depth) & (
                    person_depth < 0.9 * home_depth
                )
                on_person += bool(
                    person.any() and not np.any(np.abs(z - home_depth) < 0.1 * home_depth)
                )
            total += len(points)
    finally:
        renderer.release()
    return on_person, total
