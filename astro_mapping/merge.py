"""One session merged into the long-term map.

The session's keyframes arrive with their final optimized poses (the backend's /slam/path at
merge time), so its places are anchored where the optimization put them. Its landmarks (VO ids,
one per physical point within the session) are averaged over the keyframes that saw them and
associated with the map's landmarks by position and descriptor:
- re-observed landmarks are strengthened (sessions seen, position averaged);
- a map landmark counts a miss when the session shows it gone: keyframes saw through it (what
  they saw along its ray was well behind it), or it stood in an obstacle cell of the floor
  that the session's rays now cross; not re-detecting it is no evidence;
- the session's other landmarks join as tentative (seen in one session).
A place whose view changed (a good share of what it saw, where the session looked, is gone: a
sofa moved) is replaced by the session's places there; a room where most of what the map expected
was missed (furniture rearranged) is re-shaped: all its old places and its missed landmarks
go, and the session's places there replace them. Both only when their share of misses stands
out from the session's own over the whole home (`change_margin`): a dark session misses
everywhere.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field

import numpy as np
from scipy.spatial import cKDTree

from astro_mapping.floor import FloorParams, integrate, merge_floor, value_at
from astro_mapping.layers import Change, FloorLayer, Landmarks, LongTermMap, Place
from astro_mapping.rooms import RoomParams, room_of, segment
from astro_slam.transforms import inverse
from astro_slam.vo.matching import best_pairs, distances


@dataclass
class SessionKeyframe:
    """What the map server keeps of a keyframe until the merge (no pixels)."""

    t_ns: int
    T_base_camera: np.ndarray
    points_c: np.ndarray  # (N, 3) float32, camera frame
    ids: np.ndarray  # (N,) int64 VO landmark ids
    descriptors: np.ndarray  # (N, 32) uint8


@dataclass(frozen=True)
class MergeParams:
    associate_radius_m: float = 0.10
    max_hamming: int = 64
    # The VO publishes only landmarks it confirmed static over several frames; most are in one
    # keyframe only (the next keyframe makes its own), so one is enough for the map.
    min_keyframes: int = 1
    floor_min_keyframes: int = 2  # for the floor layer, which the planner trusts
    min_depth_m: float = 0.3
    max_depth_m: float = 4.0
    occlusion_cell_px: int = 16
    see_through_px: float = 3.0
    see_through_keyframes: int = 2
    # Shares below are of the landmarks the session could judge (re-observed or seen through).
    major_change_share: float = 0.5  # of a room's landmarks gone: it was rearranged
    major_change_min_judged: int = 100
    stale_place_share: float = 0.3  # of a place's landmarks gone: its view changed
    stale_place_min_judged: int = 20
    # A room or place counts as changed only with this share of misses above the session's
    # own, over all it could judge.
    change_margin: float = 0.2
    floor: FloorParams = field(default_factory=FloorParams)
    rooms: RoomParams = field(default_factory=RoomParams)


@dataclass
class MergeReport:
    session: int
    keyframes: int = 0
    reobserved: int = 0
    new: int = 0
    missed: int = 0
    reshaped_rooms: list[int] = field(default_factory=list)
    stale_places: int = 0
    changes: int = 0


def merge_session(
    base: LongTermMap,
    keyframes: list[SessionKeyframe],
    poses: dict[int, np.ndarray],
    K: np.ndarray,
    p: MergeParams,
) -> tuple[LongTermMap, MergeReport]:
    """The map after this session; `base` is left as it was. `poses` maps keyframe stamps to
    optimized T_map_base; keyframes without one (not in the graph: the robot was lost) are
    left out."""
    kfs = [k for k in keyframes if k.t_ns in poses]
    if not kfs:  # nothing placed in the map (the robot never relocalized): no session to add
        return copy.deepcopy(base), MergeReport(base.sessions)
    m = copy.deepcopy(base)
    m.sessions += 1
    s = m.sessions
    report = MergeReport(s, keyframes=len(kfs))
    m.K, m.T_base_camera = np.asarray(K, float).copy(), kfs[-1].T_base_camera.copy()
    T_map_cams = [poses[k.t_ns] @ k.T_base_camera for k in kfs]

    vo_ids, xyz, desc, count = _consolidate(kfs, T_map_cams, p.min_keyframes)
    # Only what several keyframes saw goes on the floor: a passer-by that the VO let through
    # once leaves no obstacle for the planner.
    steady_ids = vo_ids[count >= p.floor_min_keyframes]
    session_floor = FloorLayer.empty(m.floor.resolution_m)
    for k in kfs:
        steady = np.isin(k.ids, steady_ids)
        integrate(session_floor, poses[k.t_ns], k.T_base_camera, k.points_c[steady], p.floor)
    before = m.floor
    m.floor = merge_floor(before, session_floor, s, p.floor)
    m.rooms = segment(m.floor, p.rooms)

    old = len(m.landmarks)
    matched_map, matched_session = _associate(m.landmarks, xyz, desc, p)
    report.reobserved = len(matched_map)
    lm = m.landmarks
    if len(matched_map):
        w_old = np.minimum(lm.observations[matched_map], 20).astype(np.float32)[:, None]
        w_new = count[matched_session].astype(np.float32)[:, None]
        lm.xyz[matched_map] = (lm.xyz[matched_map] * w_old + xyz[matched_session] * w_new) / (
            w_old + w_new
        )
        lm.sessions_seen[matched_map] += 1
        lm.last_session[matched_map] = s
        lm.observations[matched_map] += count[matched_session]

    kf_rooms = room_of(m.rooms, m.floor, np.array([poses[k.t_ns][:2, 3] for k in kfs]))
    seen = np.zeros(old, bool)
    seen[matched_map] = True
    expected_by, through = _looked_at(lm.xyz[:old], T_map_cams, kfs, K, p)
    # Gone from the floor too: its cell was an obstacle and the session's rays crossed it.
    f = p.floor
    band = (lm.xyz[:old, 2] >= f.min_obstacle_height_m) & (
        lm.xyz[:old, 2] <= f.max_obstacle_height_m
    )
    vacated = (
        band
        & (value_at(before, lm.xyz[:old]) > f.occupied)
        & (value_at(session_floor, lm.xyz[:old]) < f.free)
    )
    missed = (through | vacated) & ~seen
    lm.misses[:old][missed] += 1
    report.missed = int(missed.sum())

    # Shares of change count what the session could judge: re-observed or seen through. A
    # change stands out from the session's own share of misses: a dark or blurred session
    # re-observes little anywhere and sees through landmarks with poor depths, and its misses
    # are its own (the simulated month's 22:30 with lamps at 20 %: 60 % missed all over,
    # which re-shaped a room and took 27 % of the map); a rearranged room misses more than
    # the rest of the home.
    judged = seen | missed
    baseline = float(missed.sum()) / max(int(judged.sum()), 1)
    room_share = max(p.major_change_share, baseline + p.change_margin)
    place_share = max(p.stale_place_share, baseline + p.change_margin)

    # A room re-shaped: most of what could be judged there is gone.
    drop_landmarks = np.zeros(old, bool)
    for room in np.unique(kf_rooms[kf_rooms >= 0]):
        in_room = judged & (expected_by >= 0) & (kf_rooms[np.maximum(expected_by, 0)] == room)
        n_judged, gone = int(in_room.sum()), int((in_room & missed).sum())
        if n_judged >= p.major_change_min_judged and gone > room_share * n_judged:
            report.reshaped_rooms.append(int(room))
            drop_landmarks |= in_room & missed
            centroid = next((r.centroid for r in m.rooms.rooms if r.id == room), None)
            if centroid is not None:
                m.floor.changes.append(Change(s, 'reshaped', centroid.copy(), 0.0))
            m.places = [
                pl
                for pl in m.places
                if room_of(m.rooms, m.floor, pl.T_map_base[None, :2, 3])[0] != room
            ]

    # A place whose view changed (a good share of what it saw and the session could judge is
    # gone) is replaced by the session's places there.
    rows_of = lm.subset(np.arange(old)).row_finder()
    stale = set()
    for pl in m.places:
        rows = rows_of(pl.landmark_ids)
        rows = rows[judged[rows]] if len(rows) else rows
        if len(rows) >= p.stale_place_min_judged and np.mean(missed[rows]) > place_share:
            stale.add(pl.id)
    report.stale_places = len(stale)
    m.places = [pl for pl in m.places if pl.id not in stale]

    new = np.setdiff1d(np.arange(len(vo_ids)), matched_session)
    map_ids = np.full(len(vo_ids), -1, np.int64)
    map_ids[matched_session] = lm.ids[matched_map]
    map_ids[new] = m.next_landmark_id + np.arange(len(new))
    m.next_landmark_id += len(new)
    report.new = len(new)
    z = np.zeros(len(new), np.int32)
    m.landmarks = lm.concat(
        Landmarks(
            map_ids[new],
            xyz[new].astype(np.float32),
            desc[new],
            z + s,
            z + s,
            z + 1,
            z.copy(),
            count[new].astype(np.int32),
        )
    )
    if drop_landmarks.any():
        keep = np.r_[~drop_landmarks, np.ones(len(new), bool)]
        m.landmarks = m.landmarks.subset(keep)

    lookup = dict(zip(vo_ids.tolist(), map_ids.tolist(), strict=True))
    for k, room in zip(kfs, kf_rooms, strict=True):
        ids = np.array([lookup[i] for i in k.ids.tolist() if i in lookup], np.int64)
        m.places.append(Place(m.next_place_id, k.t_ns, s, poses[k.t_ns].copy(), ids, int(room)))
        m.next_place_id += 1
    for pl in m.places:
        pl.room = int(room_of(m.rooms, m.floor, pl.T_map_base[None, :2, 3])[0])
    report.changes = sum(c.session == s for c in m.floor.changes)
    return m, report


def _consolidate(
    kfs: list[SessionKeyframe], T_map_cams: list[np.ndarray], min_keyframes: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Session landmarks by VO id: (ids, mean map position, first descriptor, keyframe count)."""
    ids = np.concatenate([k.ids for k in kfs])
    world = np.concatenate(
        [k.points_c @ T[:3, :3].T + T[:3, 3] for k, T in zip(kfs, T_map_cams, strict=True)]
    )
    desc = np.concatenate([k.descriptors for k in kfs])
    ok = np.all(np.isfinite(world), axis=1)
    ids, world, desc = ids[ok], world[ok], desc[ok]
    unique, first, inverse_, count = np.unique(
        ids, return_index=True, return_inverse=True, return_counts=True
    )
    mean = np.zeros((len(unique), 3))
    np.add.at(mean, inverse_, world)
    mean /= count[:, None]
    keep = count >= min_keyframes
    return unique[keep], mean[keep], desc[first[keep]], count[keep]


def _associate(
    lm: Landmarks, xyz: np.ndarray, desc: np.ndarray, p: MergeParams
) -> tuple[np.ndarray, np.ndarray]:
    """One-to-one (map index, session index) pairs: near in space, close in descriptor."""
    empty = np.zeros(0, int)
    if not len(lm) or not len(xyz):
        return empty, empty
    neighbours = cKDTree(lm.xyz).query_ball_point(xyz, p.associate_radius_m)
    session = np.repeat(np.arange(len(xyz)), [len(n) for n in neighbours])
    if not len(session):
        return empty, empty
    landmark = np.concatenate([np.asarray(n, int) for n in neighbours])
    dist = distances(desc[session], lm.descriptors[landmark])
    q, t, _ = best_pairs(session, landmark, dist, p.max_hamming, 1.0)
    return t, q


def _looked_at(
    xyz: np.ndarray,
    T_map_cams: list[np.ndarray],
    kfs: list[SessionKeyframe],
    K: np.ndarray,
    p: MergeParams,
) -> tuple[np.ndarray, np.ndarray]:
    """Which map points the session looked at, and which it saw through.

    Returns (first keyframe with a clear line of sight to the point or -1, whether some
    keyframes saw through it). A point projected into an image cell is in clear sight when the
    keyframe saw something at least that far in the cell. It is seen through (gone) when the
    keyframe's nearest observation along the same ray (within `see_through_px`) is well behind
    it: the wall where a sofa stood. Not re-detecting a point is no evidence (the VO keeps a
    few hundred features per image, and light changes descriptors); seeing through it is.
    Points on the floor are never seen through: at a grazing angle the next pixel is farther.
    """
    by = np.full(len(xyz), -1, int)
    through = np.zeros(len(xyz), int)
    if not len(xyz):
        return by, through >= 2
    above_floor = xyz[:, 2] > p.floor.min_obstacle_height_m
    width, height = 2 * K[0, 2], 2 * K[1, 2]
    cell = p.occlusion_cell_px
    cols, rows = int(np.ceil(width / cell)), int(np.ceil(height / cell))
    for i, (k, T) in enumerate(zip(kfs, T_map_cams, strict=True)):
        T_cw = inverse(T)
        pc = xyz @ T_cw[:3, :3].T + T_cw[:3, 3]
        z = pc[:, 2]
        front = np.flatnonzero((z > p.min_depth_m) & (z < p.max_depth_m))
        uv = pc[front, :2] / z[front, None] * K[[0, 1], [0, 1]] + K[:2, 2]
        c = _cell_index(uv, cell, cols, rows)
        inside = c >= 0
        front, uv, c = front[inside], uv[inside], c[inside]
        obs = k.points_c[np.all(np.isfinite(k.points_c), axis=1) & (k.points_c[:, 2] > 0)]
        if not len(front) or not len(obs):
            continue
        ouv = obs[:, :2] / obs[:, 2:3] * K[[0, 1], [0, 1]] + K[:2, 2]
        oc = _cell_index(ouv, cell, cols, rows)
        far = np.zeros(rows * cols)
        np.maximum.at(far, oc[oc >= 0], obs[oc >= 0, 2])
        d = z[front]
        clear = far[c] >= 0.9 * d - 0.05
        by[front[clear & (by[front] < 0)]] = i
        dist, nearest = cKDTree(ouv).query(uv, k=1)
        beyond = (dist <= p.see_through_px) & (obs[nearest, 2] > 1.15 * d + 0.1)
        through[front[beyond & above_floor[front]]] += 1
    # From two viewpoints at least: one may be a fluke at a depth edge (a door frame).
    return by, through >= p.see_through_keyframes


def _cell_index(uv: np.ndarray, cell: int, cols: int, rows: int) -> np.ndarray:
    c = np.floor(uv / cell).astype(int)
    ok = (c[:, 0] >= 0) & (c[:, 0] < cols) & (c[:, 1] >= 0) & (c[:, 1] < rows)
    return np.where(ok, c[:, 1] * cols + c[:, 0], -1)
