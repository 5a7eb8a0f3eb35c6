"""The long-term map on a synthetic home: two rooms with textured walls, a floor, and a sofa.

Keyframes see the world exactly (the merge's job is bookkeeping, not estimation): a session
re-observes what is still there, misses what went, and brings what is new; a moved sofa must
show on the floor layer and replace the places that looked at it, a passer-by must not, and
pruning must keep the map inside its budget with every room still relocalizable.
"""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from astro_mapping.budget import (
    LANDMARK_BYTES,
    PLACE_REF_BYTES,
    BudgetParams,
    layer_bytes,
    prune,
)
from astro_mapping.floor import occupancy
from astro_mapping.layers import Landmarks, LongTermMap, Place
from astro_mapping.merge import MergeParams, SessionKeyframe, merge_session
from astro_mapping.places import map_places
from astro_slam.backend.config import BackendConfig
from astro_slam.backend.core import BackendCore
from astro_slam.backend.vocabulary import Vocabulary
from astro_slam.transforms import inverse, make_transform

K = np.array([[460.0, 0, 319.5], [0, 460.0, 239.5], [0, 0, 1]])
T_BASE_CAM = make_transform(np.array([[0, 0, 1], [-1, 0, 0], [0, -1, 0]], float), [0.1, 0, 0.3])
ROOMS = ((0.0, 0.0, 4.0, 3.0), (4.0, 0.0, 4.0, 3.0))  # x0, y0, w, h; a door at x=4, y 1.1-1.9


class Home:
    """Landmarks: walls (a gap for the door), floor texture, and a sofa that can move."""

    def __init__(self, seed: int = 0) -> None:
        self.rng = np.random.default_rng(seed)
        parts = []
        for x0, y0, w, h in ROOMS:
            n = 1500
            side, s = self.rng.integers(0, 4, n), self.rng.random(n)
            x = np.where(side < 2, x0 + s * w, np.where(side == 2, x0, x0 + w))
            y = np.where(side >= 2, y0 + s * h, np.where(side == 0, y0, y0 + h))
            z = self.rng.uniform(0.0, 2.2, n)
            door = (np.abs(x - 4.0) < 1e-9) & (y > 1.1) & (y < 1.9)
            parts.append(np.c_[x, y, z][~door])
            floor = self.rng.uniform([x0 + 0.1, y0 + 0.1], [x0 + w - 0.1, y0 + h - 0.1], (800, 2))
            parts.append(np.c_[floor, np.zeros(len(floor))])
        self.static = np.vstack(parts)
        self.static_desc = self.rng.integers(0, 256, (len(self.static), 32), dtype=np.uint8)
        # The sofa, 1.6 x 0.8 x 0.8 m: points on its four sides and its top.
        t, side = self.rng.random(400), self.rng.integers(0, 5, 400)
        a, b = (t - 0.5) * 1.6, (t - 0.5) * 0.8
        x = np.select([side == 0, side == 1, side == 2, side == 3], [a, a, -0.8, 0.8], a)
        y = np.select([side == 0, side == 1, side == 2, side == 3], [-0.4, 0.4, b, b], 0.0)
        y = np.where(side == 4, (self.rng.random(400) - 0.5) * 0.8, y)
        z = np.where(side == 4, 0.8, self.rng.uniform(0.1, 0.8, 400))
        self.sofa_local = np.c_[x, y, z]
        self.sofa_desc = self.rng.integers(0, 256, (400, 32), dtype=np.uint8)
        self.sofa_at = np.array([2.0, 2.3])

    def points(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        sofa = self.sofa_local + np.r_[self.sofa_at, 0.0]
        ids = np.arange(len(self.static) + len(sofa))
        return np.vstack([self.static, sofa]), np.vstack([self.static_desc, self.sofa_desc]), ids

    def keyframe(self, t_ns: int, T_map_base: np.ndarray, extra: np.ndarray | None = None):
        pts, desc, ids = self.points()
        if extra is not None:  # points seen once (a passer-by), with ids never seen again
            pts = np.vstack([pts, extra])
            desc = np.vstack([desc, self.rng.integers(0, 256, (len(extra), 32), dtype=np.uint8)])
            ids = np.r_[ids, 10**7 + (t_ns // 10**8) % 10**6 * 100 + np.arange(len(extra))]
        T_cam_map = inverse(T_map_base @ T_BASE_CAM)
        pc = pts @ T_cam_map[:3, :3].T + T_cam_map[:3, 3]
        uv = pc[:, :2] / np.maximum(pc[:, 2:], 1e-9) * K[[0, 1], [0, 1]] + K[:2, 2]
        seen = (pc[:, 2] > 0.3) & (pc[:, 2] < 4.0) & np.all((uv > 0) & (uv < [640, 480]), axis=1)
        # Occlusion: in each 16 px cell only what is near the nearest point is seen.
        cell = np.where(seen, (uv[:, 1] // 16).astype(int) * 40 + (uv[:, 0] // 16).astype(int), 0)
        nearest = np.full(30 * 40, np.inf)
        np.minimum.at(nearest, cell[seen], pc[seen, 2])
        seen &= pc[:, 2] <= nearest[cell] + 0.3
        return SessionKeyframe(
            t_ns, T_BASE_CAM, pc[seen].astype(np.float32), ids[seen], desc[seen]
        )


def pose(x: float, y: float, yaw: float) -> np.ndarray:
    c, s = np.cos(yaw), np.sin(yaw)
    return make_transform(np.array([[c, -s, 0], [s, c, 0], [0, 0, 1]]), [x, y, 0])


def patrol(t0_ns: int) -> dict[int, np.ndarray]:
    """A walk through both rooms turning on the spot at a few stops: stamp -> T_map_base."""
    stops = [(1.0, 1.0), (3.0, 1.5), (5.0, 1.5), (7.0, 1.5), (6.0, 2.2), (2.0, 0.8)]
    poses, t = {}, t0_ns
    for x, y in stops:
        for yaw in np.linspace(0, 2 * np.pi, 12, endpoint=False):
            poses[t] = pose(x, y, yaw)
            t += 500_000_000
    return poses


def session(
    home: Home, base: LongTermMap, t0_ns: int, passer: bool = False
) -> tuple[LongTermMap, object]:
    poses = patrol(t0_ns)
    kfs = []
    for i, (t, T) in enumerate(poses.items()):
        extra = None
        if passer:  # someone walking by, seen at a new place in every keyframe
            c = T[:2, 3] + T[:2, 0] * 1.5 + home.rng.normal(0, 0.05, 2) * i
            extra = np.c_[c + home.rng.normal(0, 0.1, (30, 2)), home.rng.uniform(0.1, 1.7, 30)]
        kfs.append(home.keyframe(t, T, extra))
    return merge_session(base, kfs, poses, K, MergeParams())


@pytest.fixture(scope='module')
def day1() -> tuple[Home, LongTermMap]:
    home = Home()
    m, report = session(home, LongTermMap.empty(0.05), 10**12)
    assert report.keyframes == 72 and report.new > 3000
    return home, m


def _occupied(m: LongTermMap, xy: list[float], radius: float = 0.3) -> float:
    """Share of occupied cells within `radius` of xy."""
    grid = occupancy(m.floor, MergeParams().floor)
    rows, cols = np.indices(grid.shape)
    centres = m.floor.center(np.c_[rows.ravel(), cols.ravel()])
    near = np.linalg.norm(centres - xy, axis=1) <= radius
    return float(np.mean(grid.ravel()[near] == 100))


def test_first_session_builds_every_layer(day1):
    _, m = day1
    assert m.sessions == 1 and len(m.places) == 72
    assert _occupied(m, [2.0, 2.3]) > 0.2  # the sofa
    assert _occupied(m, [6.0, 1.0]) == 0.0
    rc = m.floor.cell(np.array([[5.0, 1.0]]))[0]
    assert occupancy(m.floor, MergeParams().floor)[rc[0], rc[1]] == 0  # open floor
    assert len(m.rooms.rooms) == 2, [r.area_m2 for r in m.rooms.rooms]
    assert len(m.rooms.doors) == 1 and abs(m.rooms.doors[0].xy[0] - 4.0) < 0.3
    assert len({p.room for p in m.places} - {-1}) == 2


def test_second_session_strengthens_and_a_moved_sofa_changes_floor_and_places(day1):
    home, m1 = day1
    home.sofa_at = np.array([2.0, 0.6])  # across the room
    m2, report = session(home, m1, 2 * 10**12)
    home.sofa_at = np.array([2.0, 2.3])
    lm = m2.landmarks
    assert report.reobserved > 0.8 * len(home.static) * 0.5
    assert np.sum(lm.sessions_seen == 2) == report.reobserved
    # The sofa's old landmarks were looked at and missed; its new ones are tentative.
    assert report.missed > 100 and np.sum(lm.first_session == 2) == report.new
    kinds = {(c.kind, round(c.xy[1])) for c in m2.floor.changes if c.session == 2}
    assert ('left', 2) in kinds and ('appeared', 1) in kinds, kinds
    assert _occupied(m2, [2.0, 2.3], 0.5) == 0.0 and _occupied(m2, [2.0, 0.6], 0.5) > 0.05
    assert report.stale_places > 0
    old_room0 = [p for p in m2.places if p.session == 1 and p.T_map_base[0, 3] < 4.0]
    assert len(old_room0) < len([p for p in m1.places if p.T_map_base[0, 3] < 4.0])
    # The other room did not change: its old places all stay.
    assert len([p for p in m2.places if p.session == 1 and p.T_map_base[0, 3] > 4.0]) == len(
        [p for p in m1.places if p.T_map_base[0, 3] > 4.0]
    )


def test_a_passer_by_changes_nothing(day1):
    home, m1 = day1
    quiet, _ = session(home, m1, 3 * 10**12)
    busy, report = session(home, m1, 3 * 10**12, passer=True)
    assert report.stale_places == 0 and report.reshaped_rooms == []
    floor = MergeParams().floor
    # No obstacle where they walked: whatever is occupied with them is occupied without them,
    # give or take a cell whose evidence they hid for a moment.
    quiet_occupied = (occupancy(quiet.floor, floor) == 100).astype(np.uint8)
    near_quiet = cv2.dilate(quiet_occupied, np.ones((3, 3), np.uint8)).astype(bool)
    assert not np.any((occupancy(busy.floor, floor) == 100) & ~near_quiet)
    assert [c.kind for c in busy.floor.changes] == [c.kind for c in quiet.floor.changes]
    assert len(busy.places) == len(quiet.places)
    # Its points (had the VO let them through) are tentative landmarks, pruned once missed.
    new = busy.landmarks.first_session == busy.sessions
    assert np.sum(new) == report.new and np.all(busy.landmarks.sessions_seen[new] == 1)


def test_a_dark_session_that_misses_everywhere_reshapes_nothing(day1):
    """At night the VO's depths are poor and its descriptors unlike the day's: the session
    re-observes little and 'sees through' landmarks all over the home. That is the session,
    not the home: no room is re-shaped and no place replaced, while a room rearranged in a
    good session still is (the moved sofa above)."""
    home, m1 = day1
    rng = np.random.default_rng(5)
    poses = patrol(4 * 10**12)
    kfs = []
    for t, T in poses.items():
        kf = home.keyframe(t, T)
        noisy = kf.points_c * rng.uniform(0.6, 1.6, (len(kf.points_c), 1)).astype(np.float32)
        desc = rng.integers(0, 256, kf.descriptors.shape, dtype=np.uint8)
        kfs.append(SessionKeyframe(t, kf.T_base_camera, noisy, kf.ids + 10**8, desc))
    _, report = merge_session(m1, kfs, poses, K, MergeParams())
    assert report.missed > report.reobserved  # the premise: misses all over
    assert report.reshaped_rooms == [] and report.stale_places == 0


def test_pruning_keeps_the_budget_and_every_room_relocalizable(day1):
    home, m = day1
    vocabulary = Vocabulary.load()
    full = sum(layer_bytes(m).values())
    budget = int(full * 0.4)
    m = __import__('copy').deepcopy(m)
    gone = prune(m, vocabulary, BudgetParams(budget_bytes=budget))
    # Inside the budget, and not below it by more than the last landmark that went (its bytes
    # and its references): a map that stays full does not grow back every day.
    assert (
        0
        <= budget - sum(layer_bytes(m).values())
        < LANDMARK_BYTES + PLACE_REF_BYTES * len(m.places)
    )
    assert gone['budget_landmarks'] > 0 and gone['crowded_places'] >= 0
    core = BackendCore(BackendConfig(), vocabulary)
    core.K = K
    core.load_map(map_places(m))
    for x, y, yaw in ((1.2, 1.1, 0.3), (6.8, 1.4, 2.0)):  # one view per room
        T = pose(x, y, yaw)
        kf = home.keyframe(0, T)
        from astro_slam.backend.verification import KeyframeView

        xy = kf.points_c[:, :2] / kf.points_c[:, 2:] * K[[0, 1], [0, 1]] + K[:2, 2]
        found = core.locate(
            KeyframeView(kf.points_c.astype(float), xy, kf.descriptors), T_BASE_CAM
        )
        assert found is not None, (x, y)
        assert np.linalg.norm(found[0][:3, 3] - T[:3, 3]) < 0.05


def test_a_place_that_absorbs_its_crowd_keeps_one_views_worth_of_what_it_sees():
    """Thirty sessions stop at one spot, each turned a little (within the crowding angle) and
    each seeing its own 150 landmarks: the place kept holds no more than a keyframe would, and
    only landmarks in its own image."""
    rng = np.random.default_rng(3)
    m = LongTermMap.empty(0.05)
    m.K, m.T_base_camera = K.copy(), T_BASE_CAM.copy()
    m.sessions = 30
    places, ids, xyz = [], [], []
    for s in range(30):
        yaw = rng.uniform(-0.2, 0.2)
        T = make_transform(
            np.array([[np.cos(yaw), -np.sin(yaw), 0], [np.sin(yaw), np.cos(yaw), 0], [0, 0, 1]]),
            [rng.uniform(-0.1, 0.1), rng.uniform(-0.1, 0.1), 0.0],
        )
        # What this session's camera saw: 150 points in its view, 1-4 m ahead.
        pc = np.c_[rng.uniform(-1, 1, (150, 2)) * 0.5, np.ones(150)] * rng.uniform(1, 4, (150, 1))
        T_map_cam = T @ T_BASE_CAM
        xyz.append(pc @ T_map_cam[:3, :3].T + T_map_cam[:3, 3])
        ids.append(np.arange(150) + 150 * s)
        places.append(Place(s, s, s + 1, T, ids[-1]))
    n = 150 * 30
    z = np.ones(n, np.int32)
    m.landmarks = Landmarks(
        np.concatenate(ids),
        np.concatenate(xyz).astype(np.float32),
        rng.integers(0, 256, (n, 32), dtype=np.uint8),
        np.repeat(np.arange(1, 31), 150).astype(np.int32),
        np.repeat(np.arange(1, 31), 150).astype(np.int32),
        z,
        z * 0,
        z,
    )
    m.places = places
    params = BudgetParams(budget_bytes=10**9)
    gone = prune(m, Vocabulary.load(), params)

    assert gone['crowded_places'] == 29 and len(m.places) == 1
    (kept,) = m.places
    assert 150 < len(kept.landmark_ids) <= params.max_landmarks_per_place
    assert np.isin(places[kept.id].landmark_ids, kept.landmark_ids).all()  # its own stay
    T_cam_map = inverse(kept.T_map_base @ T_BASE_CAM)
    rows = m.landmarks.row_finder()(kept.landmark_ids)
    pc = m.landmarks.xyz[rows] @ T_cam_map[:3, :3].T + T_cam_map[:3, 3]
    uv = pc[:, :2] / pc[:, 2:] * K[[0, 1], [0, 1]] + K[:2, 2]
    assert (pc[:, 2] > 0).all()
    assert ((uv >= 0) & (uv < [640, 480])).all()
