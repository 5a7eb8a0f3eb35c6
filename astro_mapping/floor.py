"""The floor layer from keyframe landmarks: occupancy in log-odds, and what changed on the floor.

Only the VO's landmarks go in, never raw depth: they are static by construction (the VO rejects
features on people and pets before they become landmarks), so a person walking by leaves no
trace here. Each keyframe casts rays from the camera to its landmarks over the floor plane:
cells along a ray are free up to a point on the floor, or up to just before a point in the
obstacle band (between min and max obstacle height), whose own cell is a hit. Points above the
band (upper walls, pictures, the ceiling) say nothing about the floor. The robot's footprint is
free where it drove.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from astro_mapping.layers import Change, FloorLayer


@dataclass(frozen=True)
class FloorParams:
    resolution_m: float = 0.05
    min_obstacle_height_m: float = 0.05  # above the floor: lower points are floor
    max_obstacle_height_m: float = 1.0  # higher points do not block the robot
    max_range_m: float = 4.0
    robot_radius_m: float = 0.17
    # One sighting of a landmark (confirmed static by the VO) in the obstacle band is enough.
    hit: float = 1.0  # log-odds per keyframe that sees an obstacle point in the cell
    miss: float = -0.4  # per keyframe whose ray crosses the cell
    clamp: float = 5.0
    occupied: float = 0.85  # log-odds above which a cell is occupied in /map (p > 0.7)
    free: float = -0.85  # below which it is free
    min_change_m2: float = 0.04  # smaller blobs of change are noise


def integrate(
    floor: FloorLayer,
    T_map_base: np.ndarray,
    T_base_camera: np.ndarray,
    points_c: np.ndarray,
    p: FloorParams,
) -> None:
    """Adds one keyframe's evidence to `floor` (grown as needed); heights are taken above the
    robot's base at that keyframe, so a map frame that is not level at the floor still works."""
    T_map_camera = T_map_base @ T_base_camera
    pts = points_c[np.all(np.isfinite(points_c), axis=1)]
    world = pts @ T_map_camera[:3, :3].T + T_map_camera[:3, 3]
    height = (world - T_map_base[:3, 3]) @ T_map_base[:3, 2]
    origin = T_map_camera[:2, 3]
    reach = np.linalg.norm(world[:, :2] - origin, axis=1)
    near = reach <= p.max_range_m
    on_floor = near & (height < p.min_obstacle_height_m)
    obstacle = near & (height >= p.min_obstacle_height_m) & (height <= p.max_obstacle_height_m)
    robot = T_map_base[:2, 3]
    ends = world[on_floor | obstacle, :2]
    box = np.vstack([ends, robot])
    floor.ensure(box.min(0), box.max(0), 2 * p.robot_radius_m)
    h, w = floor.log_odds.shape
    # Free along rays: samples every half cell from the camera to each end point; an obstacle
    # ray stops one cell short so that its hit is not cleared by itself.
    free_cells = [_disc(floor, robot, p.robot_radius_m)]
    for mask, stop_m in ((on_floor, 0.0), (obstacle, p.resolution_m)):
        if not np.any(mask):
            continue
        end = world[mask, :2]
        length = np.maximum(np.linalg.norm(end - origin, axis=1) - stop_m, 0.0)
        steps = np.arange(0.0, p.max_range_m + 1e-9, p.resolution_m * 0.5)
        direction = (end - origin) / np.maximum(np.linalg.norm(end - origin, axis=1), 1e-9)[
            :, None
        ]
        along = steps[None, :] <= length[:, None]
        samples = origin + direction[:, None, :] * steps[None, :, None]
        free_cells.append(floor.cell(samples[along]))
    free = _unique_inside(np.concatenate(free_cells), h, w)
    hits = _unique_inside(floor.cell(world[obstacle, :2]), h, w) if np.any(obstacle) else free[:0]
    odds = floor.log_odds
    odds[free[:, 0], free[:, 1]] += p.miss
    odds[hits[:, 0], hits[:, 1]] += p.hit - p.miss * _contains(free, hits)
    np.clip(odds, -p.clamp, p.clamp, out=odds)


def _disc(floor: FloorLayer, center: np.ndarray, radius: float) -> np.ndarray:
    r = floor.resolution_m
    offsets = np.arange(-radius, radius + 1e-9, r * 0.5)
    gx, gy = np.meshgrid(offsets, offsets)
    inside = gx**2 + gy**2 <= radius**2
    return floor.cell(center + np.column_stack([gx[inside], gy[inside]]))


def _unique_inside(rc: np.ndarray, h: int, w: int) -> np.ndarray:
    ok = (rc[:, 0] >= 0) & (rc[:, 0] < h) & (rc[:, 1] >= 0) & (rc[:, 1] < w)
    return np.unique(rc[ok], axis=0)


def _contains(cells: np.ndarray, queries: np.ndarray) -> np.ndarray:
    """Whether each query cell is among `cells` (both unique (N, 2) arrays)."""
    if not len(cells) or not len(queries):
        return np.zeros(len(queries), bool)
    width = int(max(cells[:, 1].max(), queries[:, 1].max())) + 1
    return np.isin(queries[:, 0] * width + queries[:, 1], cells[:, 0] * width + cells[:, 1])


def aligned_like(template: FloorLayer, other: FloorLayer) -> FloorLayer:
    """`other` on `template`'s grid (template grown to cover both first)."""
    if other.log_odds.size:
        h, w = other.log_odds.shape
        template.ensure(
            other.origin_xy, other.origin_xy + np.array([w, h]) * other.resolution_m, 0.0
        )
    out = FloorLayer(
        template.resolution_m, template.origin_xy.copy(), np.zeros_like(template.log_odds)
    )
    if other.log_odds.size:
        r0, c0 = np.round((other.origin_xy - template.origin_xy) / template.resolution_m).astype(
            int
        )[::-1]
        h, w = other.log_odds.shape
        out.log_odds[r0 : r0 + h, c0 : c0 + w] = other.log_odds
    return out


def merge_floor(
    base: FloorLayer, session: FloorLayer, session_index: int, p: FloorParams
) -> FloorLayer:
    """The base floor updated by one session, with the changes between them recorded.

    Where the session saw a cell, it decides (older evidence keeps a fifth of its weight): a
    moved sofa's old cells turn free and its new ones occupied within a session, which is what
    a planner needs; elsewhere the base stands.
    """
    merged = FloorLayer(
        base.resolution_m, base.origin_xy.copy(), base.log_odds.copy(), list(base.changes)
    )
    if not session.log_odds.size:
        return merged
    s = aligned_like(merged, session)
    old = aligned_like(merged, base)
    seen = np.abs(s.log_odds) >= abs(p.miss)
    for kind, mask in (
        ('appeared', (old.log_odds < p.free) & (s.log_odds > p.occupied)),
        ('left', (old.log_odds > p.occupied) & (s.log_odds < p.free)),
    ):
        merged.changes += _blobs(merged, mask, kind, session_index, p.min_change_m2)
    odds = np.where(seen, 0.2 * old.log_odds + s.log_odds, old.log_odds)
    merged.log_odds = np.clip(odds, -p.clamp, p.clamp).astype(np.float32)
    return merged


def _blobs(
    floor: FloorLayer, mask: np.ndarray, kind: str, session: int, min_m2: float
) -> list[Change]:
    n, _, stats, centroids = cv2.connectedComponentsWithStats(
        mask.astype(np.uint8), connectivity=8
    )
    cell_m2 = floor.resolution_m**2
    out = []
    for i in range(1, n):
        area = float(stats[i, cv2.CC_STAT_AREA]) * cell_m2
        if area >= min_m2:
            col, row = centroids[i]
            out.append(Change(session, kind, floor.center(np.array([[row, col]]))[0], area))
    return out


def value_at(floor: FloorLayer, xy: np.ndarray) -> np.ndarray:
    """Log-odds at map-frame points (0, unknown, outside the grid)."""
    out = np.zeros(len(xy), np.float32)
    if not floor.log_odds.size or not len(xy):
        return out
    rc = floor.cell(np.asarray(xy)[:, :2])
    h, w = floor.log_odds.shape
    ok = (rc[:, 0] >= 0) & (rc[:, 0] < h) & (rc[:, 1] >= 0) & (rc[:, 1] < w)
    out[ok] = floor.log_odds[rc[ok, 0], rc[ok, 1]]
    return out


def occupancy(floor: FloorLayer, p: FloorParams) -> np.ndarray:
    """(H, W) int8 for nav_msgs/OccupancyGrid: 100 occupied, 0 free, -1 unknown."""
    grid = np.full(floor.log_odds.shape, -1, np.int8)
    grid[floor.log_odds > p.occupied] = 100
    grid[floor.log_odds < p.free] = 0
    return grid
