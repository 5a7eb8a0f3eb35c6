"""The robot's patrol: waypoints in each room's most open spot, shortest collision-free paths.

Paths are planned with A* on an occupancy grid of the furniture and walls inflated by the
robot's radius, then shortened by line of sight. The order revisits rooms, so places recur.
"""

from __future__ import annotations

import heapq

import cv2
import numpy as np

from astro_slam.sim.home import Box, Home

RESOLUTION_M = 0.05
ROBOT_RADIUS_M = 0.22
OBSTACLE_KINDS = ('wall', 'furniture', 'object')


class FloorGrid:
    """Occupancy of the floor (True = blocked for the robot's centre)."""

    def __init__(
        self, home: Home, boxes: list[Box] | None = None, radius_m: float = ROBOT_RADIUS_M
    ) -> None:
        x0, y0, x1, y1 = home.bounds
        self.origin = np.array([x0, y0])
        self.shape = (
            int(np.ceil((y1 - y0) / RESOLUTION_M)) + 1,
            int(np.ceil((x1 - x0) / RESOLUTION_M)) + 1,
        )
        occupied = np.zeros(self.shape, np.uint8)
        for box in boxes if boxes is not None else home.boxes:
            if box.kind in OBSTACLE_KINDS and box.center[2] - box.size[2] / 2 < 0.4:
                cells = np.round((box.footprint() - self.origin) / RESOLUTION_M).astype(np.int32)
                cv2.fillConvexPoly(occupied, cells, 1)
        self.occupied = occupied.astype(bool)
        free = (~self.occupied).astype(np.uint8)
        free[0, :] = free[-1, :] = free[:, 0] = free[:, -1] = 0
        self.clearance_m = cv2.distanceTransform(free, cv2.DIST_L2, 5) * RESOLUTION_M
        self.blocked = self.clearance_m < radius_m

    def cell(self, xy: np.ndarray) -> tuple[int, int]:
        c = np.round((np.asarray(xy) - self.origin) / RESOLUTION_M).astype(int)
        return int(c[1]), int(c[0])

    def point(self, cell: tuple[int, int]) -> np.ndarray:
        return self.origin + np.array([cell[1], cell[0]]) * RESOLUTION_M

    def most_open(self, rect: tuple[float, float, float, float]) -> np.ndarray:
        """The free point of a rectangle farthest from obstacles."""
        r0, c0 = self.cell(rect[:2])
        r1, c1 = self.cell(rect[2:])
        window = self.clearance_m[r0:r1, c0:c1]
        r, c = np.unravel_index(np.argmax(window), window.shape)
        return self.point((r0 + int(r), c0 + int(c)))

    def free_line(self, a: np.ndarray, b: np.ndarray) -> bool:
        n = int(np.linalg.norm(b - a) / (RESOLUTION_M / 2)) + 2
        for t in np.linspace(0, 1, n):
            r, c = self.cell(a + t * (b - a))
            if self.blocked[r, c]:
                return False
        return True

    def _nearest_free(self, cell: tuple[int, int]) -> tuple[int, int]:
        free = np.argwhere(~self.blocked)
        if not len(free):
            return cell
        i = int(np.argmin(np.hypot(*(free - np.array(cell)).T)))
        return int(free[i, 0]), int(free[i, 1])

    def plan(self, start: np.ndarray, goal: np.ndarray) -> list[np.ndarray]:
        """Shortest free path (A*, 8-connected), shortened by line of sight.

        Raises:
            ValueError: no free path (a door blocked by a new object, a start inside furniture).
        """
        s, g = self.cell(start), self.cell(goal)
        if self.blocked[s] and not self.occupied[s]:
            # A robot brushing a door frame stands inside the safety margin: leave from the
            # nearest cell outside it (a kidnap can start anywhere on the way).
            s = self._nearest_free(s)
        if self.blocked[s] or self.blocked[g]:
            raise ValueError(f'start {start} or goal {goal} is not free')
        steps = [
            (-1, 0, 1.0),
            (1, 0, 1.0),
            (0, -1, 1.0),
            (0, 1, 1.0),
            (-1, -1, 1.414),
            (-1, 1, 1.414),
            (1, -1, 1.414),
            (1, 1, 1.414),
        ]
        cost = {s: 0.0}
        parent: dict[tuple[int, int], tuple[int, int]] = {}
        frontier = [(0.0, s)]
        while frontier:
            _, current = heapq.heappop(frontier)
            if current == g:
                break
            for dr, dc, step in steps:
                nxt = (current[0] + dr, current[1] + dc)
                if self.blocked[nxt]:
                    continue
                # Prefer clearance: paths keep off furniture when the room allows.
                new = cost[current] + step * (1.0 + 0.3 / max(self.clearance_m[nxt], 0.05))
                if new < cost.get(nxt, np.inf):
                    cost[nxt] = new
                    parent[nxt] = current
                    heuristic = np.hypot(nxt[0] - g[0], nxt[1] - g[1])
                    heapq.heappush(frontier, (new + heuristic, nxt))
        if g not in cost:
            raise ValueError(f'no free path from {start} to {goal}')
        cells = [g]
        while cells[-1] != s:
            cells.append(parent[cells[-1]])
        return self._shorten([self.point(c) for c in reversed(cells)])

    def _shorten(self, points: list[np.ndarray]) -> list[np.ndarray]:
        out = [points[0]]
        i = 0
        while i < len(points) - 1:
            j = len(points) - 1
            while j > i + 1 and not self.free_line(points[i], points[j]):
                j -= 1
            out.append(points[j])
            i = j
        return out


def patrol_waypoints(
    home: Home, grid: FloorGrid, rng: np.random.Generator, laps: int = 2
) -> list[tuple[np.ndarray, int]]:
    """(point, room id) to visit: every room per lap in a shuffled order, from the dock."""
    rooms = [r for r in home.rooms if r.kind != 'hallway']
    spots = {r.id: grid.most_open(r.rect) for r in rooms}
    hall = home.rooms[0]
    order: list[tuple[np.ndarray, int]] = []
    for _ in range(laps):
        ids = [r.id for r in rooms]
        rng.shuffle(ids)
        for room_id in ids:
            order.append((spots[room_id], room_id))
        order.append((grid.most_open(hall.rect), hall.id))
    return order
