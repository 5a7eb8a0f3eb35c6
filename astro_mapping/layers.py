"""The long-term map's layers as plain arrays: what the store saves, the merge updates and the
pruning trims. No images: landmarks are points with binary descriptors, places are poses with
the ids of the landmarks they saw, the floor is an occupancy grid.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

DESCRIPTOR_BYTES = 32  # ORB


@dataclass
class Landmarks:
    """3D points in the map frame with one descriptor each and their history across sessions."""

    ids: np.ndarray  # (N,) int64, unique in the map
    xyz: np.ndarray  # (N, 3) float32, map frame
    descriptors: np.ndarray  # (N, 32) uint8
    first_session: np.ndarray  # (N,) int32
    last_session: np.ndarray  # (N,) int32: the last session that saw it
    sessions_seen: np.ndarray  # (N,) int32
    misses: np.ndarray  # (N,) int32: sessions that looked where it was and did not see it
    observations: np.ndarray  # (N,) int32: keyframes that saw it, all sessions together

    @staticmethod
    def empty() -> Landmarks:
        z = np.zeros(0, np.int32)
        return Landmarks(
            np.zeros(0, np.int64),
            np.zeros((0, 3), np.float32),
            np.zeros((0, DESCRIPTOR_BYTES), np.uint8),
            z,
            z.copy(),
            z.copy(),
            z.copy(),
            z.copy(),
        )

    def __len__(self) -> int:
        return len(self.ids)

    def row_finder(self) -> Callable[[np.ndarray], np.ndarray]:
        """A lookup from ids to rows (ids not in the map left out), for many lookups on the
        landmarks as they are now."""
        order = np.argsort(self.ids, kind='stable')
        sorted_ids = self.ids[order]

        def rows(ids: np.ndarray) -> np.ndarray:
            at = np.searchsorted(sorted_ids, ids)
            found = at < len(sorted_ids)
            found[found] = sorted_ids[at[found]] == np.asarray(ids)[found]
            return order[at[found]]

        return rows

    def subset(self, keep: np.ndarray) -> Landmarks:
        return Landmarks(*(a[keep] for a in self._arrays()))

    def concat(self, other: Landmarks) -> Landmarks:
        return Landmarks(
            *(np.concatenate([a, b]) for a, b in zip(self._arrays(), other._arrays(), strict=True))
        )

    def _arrays(self) -> tuple[np.ndarray, ...]:
        return (
            self.ids,
            self.xyz,
            self.descriptors,
            self.first_session,
            self.last_session,
            self.sessions_seen,
            self.misses,
            self.observations,
        )


@dataclass
class Place:
    """A keyframe kept for relocalization: where the robot was and which landmarks it saw."""

    id: int
    t_ns: int  # the keyframe's stamp in its session
    session: int
    T_map_base: np.ndarray  # (4, 4)
    landmark_ids: np.ndarray  # (M,) int64
    room: int = -1


@dataclass
class FloorLayer:
    """Occupancy in log-odds over a fixed grid (row 0 at origin_xy, x along columns), and the
    changes found when sessions were merged."""

    resolution_m: float
    origin_xy: np.ndarray  # (2,) map-frame position of cell (0, 0)'s corner
    log_odds: np.ndarray  # (H, W) float32
    changes: list[Change] = field(default_factory=list)

    @staticmethod
    def empty(resolution_m: float) -> FloorLayer:
        return FloorLayer(resolution_m, np.zeros(2), np.zeros((0, 0), np.float32))

    def cell(self, xy: np.ndarray) -> np.ndarray:
        """(N, 2) integer (row, col) of map-frame points (may fall outside the grid)."""
        return np.floor(
            (np.asarray(xy)[:, ::-1] - self.origin_xy[::-1]) / self.resolution_m
        ).astype(int)

    def center(self, rc: np.ndarray) -> np.ndarray:
        """(N, 2) map-frame centres of (row, col) cells."""
        return (np.asarray(rc)[:, ::-1] + 0.5) * self.resolution_m + self.origin_xy

    def ensure(self, xy_min: np.ndarray, xy_max: np.ndarray, margin_m: float = 1.0) -> None:
        """Grows the grid (never shrinks it) so that the box fits, keeping cell alignment."""
        r = self.resolution_m
        # In whole cells (a hair of slack against float error), so grids stay aligned.
        lo = np.floor((np.asarray(xy_min) - margin_m) / r + 1e-6) * r
        hi = np.ceil((np.asarray(xy_max) + margin_m) / r - 1e-6) * r
        if self.log_odds.size:
            lo = np.minimum(lo, self.origin_xy)
            hi = np.maximum(hi, self.origin_xy + np.array(self.log_odds.shape[::-1]) * r)
        shape = tuple(np.round((hi - lo) / r).astype(int)[::-1])
        if self.log_odds.size and shape == self.log_odds.shape:
            return
        grown = np.zeros(shape, np.float32)
        if self.log_odds.size:
            r0, c0 = np.round((self.origin_xy - lo) / r).astype(int)[::-1]
            h, w = self.log_odds.shape
            grown[r0 : r0 + h, c0 : c0 + w] = self.log_odds
        self.origin_xy, self.log_odds = lo, grown


@dataclass
class Change:
    """Something on the floor that appeared or left between sessions (a blob of cells)."""

    session: int
    kind: str  # 'appeared' or 'left'
    xy: np.ndarray  # (2,) centre, map frame
    area_m2: float


@dataclass
class Room:
    id: int
    centroid: np.ndarray  # (2,)
    area_m2: float


@dataclass
class Door:
    rooms: tuple[int, int]
    xy: np.ndarray  # (2,)


@dataclass
class RoomLayer:
    """Rooms segmented from the floor's free space, and the doorways between them."""

    labels: np.ndarray  # (H, W) int16 over the floor grid: room id, -1 outside any room
    rooms: list[Room] = field(default_factory=list)
    doors: list[Door] = field(default_factory=list)

    @staticmethod
    def empty() -> RoomLayer:
        return RoomLayer(np.zeros((0, 0), np.int16))


@dataclass
class LongTermMap:
    """Everything the map server keeps between sessions."""

    sessions: int  # sessions merged so far
    landmarks: Landmarks
    places: list[Place]
    floor: FloorLayer
    rooms: RoomLayer
    K: np.ndarray  # (3, 3) intrinsics of the camera the places' pixels refer to
    T_base_camera: np.ndarray  # (4, 4)
    frame_id: str = 'map'
    next_landmark_id: int = 0
    next_place_id: int = 0
    features: str = 'orb'  # the extractor whose descriptors the landmarks carry

    def in_camera(self, place: Place, rows: np.ndarray) -> np.ndarray:
        """(N, 3) positions of the landmarks at `rows` in the place's camera frame."""
        T_map_cam = place.T_map_base @ self.T_base_camera
        R, t = T_map_cam[:3, :3], T_map_cam[:3, 3]
        return (self.landmarks.xyz[rows].astype(float) - t) @ R

    @staticmethod
    def empty(resolution_m: float, frame_id: str = 'map', features: str = 'orb') -> LongTermMap:
        return LongTermMap(
            0,
            Landmarks.empty(),
            [],
            FloorLayer.empty(resolution_m),
            RoomLayer.empty(),
            np.eye(3),
            np.eye(4),
            frame_id,
            features=features,
        )
