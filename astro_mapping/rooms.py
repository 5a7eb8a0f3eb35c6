"""Rooms and doorways from the floor's free space.

Free space is split where it narrows: cells farther than `door_half_width_m` from anything
not free are room cores (a doorway is narrower than that, so it separates them); each core
large enough is a room, grown back over the free space it reaches first; two rooms whose cells
touch share a door, placed where they touch.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from astro_mapping.layers import Door, FloorLayer, Room, RoomLayer


@dataclass(frozen=True)
class RoomParams:
    free: float = -0.85  # log-odds below which a cell is free
    door_half_width_m: float = 0.45
    min_room_m2: float = 1.0  # a smaller core is a nook of its neighbour
    close_gaps_m: float = 0.15  # free space is closed over gaps this wide (sparse rays)


def segment(floor: FloorLayer, p: RoomParams) -> RoomLayer:
    if not floor.log_odds.size:
        return RoomLayer.empty()
    r = floor.resolution_m
    free = (floor.log_odds < p.free).astype(np.uint8)
    k = max(int(round(p.close_gaps_m / r)), 1) * 2 + 1
    free = cv2.morphologyEx(free, cv2.MORPH_CLOSE, np.ones((k, k), np.uint8))
    free &= (floor.log_odds <= 0).astype(np.uint8)  # closing never covers an obstacle
    distance = cv2.distanceTransform(free, cv2.DIST_L2, 5) * r
    cores = (distance > p.door_half_width_m).astype(np.uint8)
    n, seeds, stats, _ = cv2.connectedComponentsWithStats(cores, connectivity=8)
    labels = np.zeros(free.shape, np.int32)
    rooms = 0
    for i in range(1, n):
        if stats[i, cv2.CC_STAT_AREA] * r * r >= p.min_room_m2 * 0.25:  # cores are eroded rooms
            rooms += 1
            labels[seeds == i] = rooms
    labels = _grow(labels, free.astype(bool))
    out = RoomLayer(np.where(labels > 0, labels - 1, -1).astype(np.int16))
    for i in range(rooms):
        cells = np.argwhere(out.labels == i)
        if len(cells):
            centroid = floor.center(cells.mean(0, keepdims=True))[0]
            out.rooms.append(Room(i, centroid, float(len(cells) * r * r)))
    out.doors = _doors(out.labels, floor)
    return out


def _grow(labels: np.ndarray, free: np.ndarray) -> np.ndarray:
    """Each free cell takes the label that reaches it first (geodesic growth from the cores)."""
    kernel = np.ones((3, 3), np.uint8)
    while True:
        grown = cv2.dilate(labels.astype(np.float32), kernel).astype(np.int32)
        update = (labels == 0) & free & (grown > 0)
        if not np.any(update):
            return labels
        labels = np.where(update, grown, labels)


def _doors(labels: np.ndarray, floor: FloorLayer) -> list[Door]:
    pairs: dict[tuple[int, int], list[np.ndarray]] = {}
    for a, b, rc in (
        (labels[:, :-1], labels[:, 1:], np.argwhere(np.ones_like(labels[:, :-1], bool))),
        (labels[:-1, :], labels[1:, :], np.argwhere(np.ones_like(labels[:-1, :], bool))),
    ):
        touch = (a >= 0) & (b >= 0) & (a != b)
        for i, j, cell in zip(a[touch], b[touch], rc[touch.ravel()], strict=True):
            pairs.setdefault((int(min(i, j)), int(max(i, j))), []).append(cell)
    return [
        Door(k, floor.center(np.mean(v, axis=0, keepdims=True))[0])
        for k, v in sorted(pairs.items())
    ]


def room_of(rooms: RoomLayer, floor: FloorLayer, xy: np.ndarray) -> np.ndarray:
    """(N,) room id of map-frame points; -1 outside every room."""
    out = np.full(len(xy), -1, int)
    if not rooms.labels.size or not len(xy):
        return out
    rc = floor.cell(np.asarray(xy, float).reshape(-1, 2))
    h, w = rooms.labels.shape
    ok = (rc[:, 0] >= 0) & (rc[:, 0] < h) & (rc[:, 1] >= 0) & (rc[:, 1] < w)
    out[ok] = rooms.labels[rc[ok, 0], rc[ok, 1]]
    return out
