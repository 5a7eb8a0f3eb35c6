"""Rooms and doorways from the floor's free space.

Free space is split where it narrows, by eroding it step by step (the distance to anything not
free, thresholded ever higher): when a region falls apart into two or more parts large
enough to be rooms, at a neck no wider than a doorway (`max_door_width_m`), each part becomes
a room of its own and is followed further. Rooms are then grown back over the free space they
reach first; two rooms whose cells touch share a door, placed where they touch. Narrow
corridors, doors of any width up to the limit and rooms of any size come out alike; a table in
the middle of a room does not split it (the gap around it is wider than a door).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from astro_mapping.layers import Door, FloorLayer, Room, RoomLayer


@dataclass(frozen=True)
class RoomParams:
    free: float = -0.85  # log-odds below which a cell is free
    max_door_width_m: float = 1.1
    min_core_m2: float = 0.5  # a part smaller than this after erosion is a nook, not a room
    step_m: float = 0.05


def segment(floor: FloorLayer, p: RoomParams) -> RoomLayer:
    if not floor.log_odds.size:
        return RoomLayer.empty()
    r = floor.resolution_m
    free = (floor.log_odds < p.free).astype(np.uint8)
    # One cell of closing fills speckle; more would bridge thin walls seen from both sides.
    free = cv2.morphologyEx(free, cv2.MORPH_CLOSE, np.ones((3, 3), np.uint8))
    free &= (floor.log_odds <= 0).astype(np.uint8)
    distance = cv2.distanceTransform(free, cv2.DIST_L2, 5) * r
    labels = _grow(_cores(distance, p, r), free.astype(bool))
    out = RoomLayer(np.where(labels > 0, labels - 1, -1).astype(np.int16))
    for i in range(int(labels.max())):
        cells = np.argwhere(out.labels == i)
        if len(cells):
            centroid = floor.center(cells.mean(0, keepdims=True))[0]
            out.rooms.append(Room(i, centroid, float(len(cells) * r * r)))
    out.doors = _doors(out.labels, floor)
    return out


def _cores(distance: np.ndarray, p: RoomParams, r: float) -> np.ndarray:
    """Room cores (labels 1..n): regions that split off from each other while eroding."""
    min_cells = p.min_core_m2 / (r * r)
    cores = np.zeros(distance.shape, np.int32)
    n = 0
    for t in np.arange(p.step_m, p.max_door_width_m / 2 + 1e-9, p.step_m):
        count, parts, stats, _ = cv2.connectedComponentsWithStats(
            (distance > t).astype(np.uint8), connectivity=8
        )
        big = [i for i in range(1, count) if stats[i, cv2.CC_STAT_AREA] >= min_cells]
        if n == 0:
            for i in big:
                n += 1
                cores[parts == i] = n
            continue
        for label in range(1, n + 1):
            inside = cores == label
            children = [i for i in big if np.any(inside & (parts == i))]
            if len(children) >= 2:  # it fell apart at a doorway: each part is a room
                cores[inside] = 0
                for i in children:
                    n += 1
                    cores[parts == i] = n
    # Renumber 1..rooms in order of first appearance.
    ids = np.unique(cores[cores > 0])
    lookup = np.zeros(n + 1, np.int32)
    lookup[ids] = np.arange(1, len(ids) + 1)
    return lookup[cores]


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
