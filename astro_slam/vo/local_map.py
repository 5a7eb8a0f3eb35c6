"""The tracker's local map: landmarks of the last keyframes, with the statistics that tell
static structure from moving things.

A landmark is born tentative at a keyframe from a depth measurement. It is confirmed once it
has been an inlier of the pose in `confirm_frames` later frames; it dies when it was matched
but inconsistent with the pose more often than consistent (a person's sleeve, a pet), when it
stays unconfirmed too long, or when no keyframe of the window has seen it.
"""

from __future__ import annotations

import numpy as np


def depth_information(
    points_c: np.ndarray, R_wc: np.ndarray, depth_sigma: np.ndarray, pixel_sigma: float, f: float
) -> np.ndarray:
    """(N, 3, 3) world-frame information of depth measurements: sigma depth_sigma along the
    viewing ray and z * pixel_sigma / f across it."""
    z = points_c[:, 2]
    ray = points_c / np.linalg.norm(points_c, axis=1, keepdims=True)
    ray_w = ray @ R_wc.T
    along = np.einsum('ni,nj->nij', ray_w, ray_w)
    across = np.eye(3) - along
    lateral = z * pixel_sigma / f
    return along / depth_sigma[:, None, None] ** 2 + across / lateral[:, None, None] ** 2


class LocalMap:
    """Landmarks in information form: each keeps the sum of the information of its depth
    measurements and of the rays it was seen along, and its position solves that system.

    Rays from tracked frames refine depth by triangulation over the baseline the robot drives,
    which is what keeps stereo depth error (growing with depth squared) from becoming drift.
    """

    def __init__(self, descriptor_size: int, binary: bool) -> None:
        self.position = np.zeros((0, 3))  # world (VO frame)
        self.information = np.zeros((0, 3, 3))
        self.information_vector = np.zeros((0, 3))
        self.descriptors = np.zeros((0, descriptor_size), np.uint8 if binary else np.float32)
        self.ids = np.zeros(0, np.int64)
        self.last_keyframe = np.zeros(0, int)  # index of the last keyframe that observed it
        self.born_frame = np.zeros(0, int)
        self.hits = np.zeros(0, int)  # later frames in which it was an inlier
        self.misses = np.zeros(0, int)  # frames in which it was matched but an outlier
        # Where the first depth check after birth measured it (NaN until then): later checks
        # compare with that measurement, whose biases theirs share.
        self.reference = np.zeros((0, 3))
        self.depth_agreements = np.zeros(0, int)  # later depth checks that agreed with the first
        self.next_id = 0
        self.removed_moving = 0  # landmarks dropped as inconsistent with the static scene

    def __len__(self) -> int:
        return len(self.ids)

    def confirmed(self, confirm_frames: int) -> np.ndarray:
        return self.hits >= confirm_frames

    def add(
        self,
        points_w: np.ndarray,
        information: np.ndarray,
        descriptors: np.ndarray,
        keyframe: int,
        frame: int,
    ) -> np.ndarray:
        """New tentative landmarks from depth measurements; returns their ids."""
        n = len(points_w)
        ids = np.arange(self.next_id, self.next_id + n, dtype=np.int64)
        self.next_id += n
        self.position = np.vstack([self.position, points_w])
        self.information = np.concatenate([self.information, information])
        self.information_vector = np.vstack(
            [self.information_vector, np.einsum('nij,nj->ni', information, points_w)]
        )
        self.descriptors = np.vstack([self.descriptors, descriptors])
        self.ids = np.concatenate([self.ids, ids])
        self.last_keyframe = np.concatenate([self.last_keyframe, np.full(n, keyframe)])
        self.born_frame = np.concatenate([self.born_frame, np.full(n, frame)])
        self.hits = np.concatenate([self.hits, np.zeros(n, int)])
        self.misses = np.concatenate([self.misses, np.zeros(n, int)])
        self.reference = np.vstack([self.reference, np.full((n, 3), np.nan)])
        self.depth_agreements = np.concatenate([self.depth_agreements, np.zeros(n, int)])
        return ids

    def fuse(
        self,
        index: np.ndarray,
        points_w: np.ndarray,
        information: np.ndarray,
        descriptors: np.ndarray,
        keyframe: int,
    ) -> None:
        """A new depth measurement of tracked landmarks; descriptor and keyframe refreshed."""
        self._add_information(index, information, np.einsum('nij,nj->ni', information, points_w))
        self.descriptors[index] = descriptors
        self.last_keyframe[index] = keyframe

    def add_rays(
        self,
        index: np.ndarray,
        centre_w: np.ndarray,
        xy: np.ndarray,
        T_wc: np.ndarray,
        K: np.ndarray,
        pixel_sigma: np.ndarray,
    ) -> None:
        """Observations from a posed frame: each landmark lies on the ray through its pixel, to
        within the pixel noise at its current depth (a linear constraint on the position)."""
        rays_c = np.column_stack(
            [(xy[:, 0] - K[0, 2]) / K[0, 0], (xy[:, 1] - K[1, 2]) / K[1, 1], np.ones(len(xy))]
        )
        rays_w = rays_c @ T_wc[:3, :3].T
        rays_w /= np.linalg.norm(rays_w, axis=1, keepdims=True)
        depth = np.linalg.norm(self.position[index] - centre_w, axis=1)
        weight = (K[0, 0] / (pixel_sigma * depth)) ** 2
        across = np.eye(3) - np.einsum('ni,nj->nij', rays_w, rays_w)
        information = across * weight[:, None, None]
        self._add_information(index, information, information @ centre_w)

    def _add_information(self, index: np.ndarray, information: np.ndarray, vector: np.ndarray):
        self.information[index] += information
        self.information_vector[index] += vector
        self.position[index] = np.linalg.solve(
            self.information[index], self.information_vector[index][..., None]
        )[..., 0]

    def record(self, index: np.ndarray, inlier: np.ndarray, frame: int) -> None:
        """Outcome of one frame's pose for its matched landmarks; birth frames do not count."""
        later = self.born_frame[index] < frame
        self.hits[index[inlier & later]] += 1
        self.misses[index[~inlier & later]] += 1

    def mark_moving(self, index: np.ndarray) -> None:
        """Landmarks seen to move with something else: the next prune drops them."""
        self.misses[index] = np.maximum(self.misses[index], self.hits[index] + 2)

    def prune(self, keyframe: int, window: int, frame: int, confirm_frames: int) -> None:
        """Drops moving, stale and never-confirmed landmarks."""
        moving = (self.misses >= 2) & (self.misses > self.hits)
        stale = self.last_keyframe < keyframe - window
        unconfirmed = (self.hits < confirm_frames) & (frame - self.born_frame > confirm_frames + 3)
        self.removed_moving += int(moving.sum())
        self.keep(~(moving | stale | unconfirmed))

    def keep(self, mask: np.ndarray) -> None:
        for name in (
            'position',
            'information',
            'information_vector',
            'descriptors',
            'ids',
            'last_keyframe',
            'born_frame',
            'hits',
            'misses',
            'reference',
            'depth_agreements',
        ):
            setattr(self, name, getattr(self, name)[mask])

    def index_of(self, ids: np.ndarray) -> np.ndarray:
        """Array positions of the given ids, -1 where gone (ids are kept sorted: appended in
        increasing order, removed without reordering)."""
        if len(self.ids) == 0:
            return np.full(len(ids), -1)
        pos = np.clip(np.searchsorted(self.ids, ids), 0, len(self.ids) - 1)
        return np.where(self.ids[pos] == ids, pos, -1)
