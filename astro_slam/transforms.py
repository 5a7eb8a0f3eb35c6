"""Rigid transforms as 4x4 homogeneous matrices: T_to_from, so that p_to = T_to_from @ p_from.

Quaternions are (x, y, z, w), as in ROS messages.
"""

from __future__ import annotations

import numpy as np
from scipy.spatial.transform import Rotation, Slerp


def make_transform(R: np.ndarray | None = None, t: np.ndarray | None = None) -> np.ndarray:
    """Builds T (4, 4) from a rotation matrix R (3, 3) and a translation t (3,)."""
    T = np.eye(4)
    if R is not None:
        T[:3, :3] = R
    if t is not None:
        T[:3, 3] = t
    return T


def from_quaternion(t: np.ndarray, q_xyzw: np.ndarray) -> np.ndarray:
    """T (4, 4) from a translation (3,) and a quaternion (x, y, z, w), normalised here.

    Raises:
        ValueError: the quaternion has zero norm or non-finite entries.
    """
    q = np.asarray(q_xyzw, dtype=float)
    norm = np.linalg.norm(q)
    if not np.isfinite(norm) or norm < 1e-9:
        raise ValueError(f'invalid quaternion {q.tolist()}')
    return make_transform(Rotation.from_quat(q / norm).as_matrix(), np.asarray(t, dtype=float))


def to_quaternion(T: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Splits T (4, 4) into translation (3,) and quaternion (x, y, z, w) with w >= 0."""
    q = Rotation.from_matrix(T[:3, :3]).as_quat()
    if q[3] < 0:
        q = -q
    return T[:3, 3].copy(), q


def inverse(T: np.ndarray) -> np.ndarray:
    """Inverse of a rigid transform, without a general matrix inverse."""
    R = T[:3, :3]
    return make_transform(R.T, -R.T @ T[:3, 3])


def interpolate(T0: np.ndarray, T1: np.ndarray, alpha: float) -> np.ndarray:
    """Pose between T0 (alpha=0) and T1 (alpha=1): linear in translation, slerp in rotation."""
    rotations = Rotation.from_matrix(np.stack([T0[:3, :3], T1[:3, :3]]))
    R = Slerp([0.0, 1.0], rotations)([alpha]).as_matrix()[0]
    return make_transform(R, (1.0 - alpha) * T0[:3, 3] + alpha * T1[:3, 3])


def yaw_of(T: np.ndarray) -> float:
    """Heading (rad) of the x axis of T projected on the xy plane."""
    return float(np.arctan2(T[1, 0], T[0, 0]))


def rotation_deg(T: np.ndarray) -> float:
    """Angle (degrees) of the rotation part of T."""
    cos = np.clip((np.trace(T[:3, :3]) - 1.0) / 2.0, -1.0, 1.0)
    return float(np.degrees(np.arccos(cos)))


def small_motion(translation: np.ndarray, rotvec: np.ndarray) -> np.ndarray:
    """T from a rotation vector and a translation, composed to first order (small steps)."""
    return make_transform(Rotation.from_rotvec(rotvec).as_matrix(), translation)
