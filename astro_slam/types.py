"""Core data types shared by components: plain numpy, stamps as integer nanoseconds.

Poses are T_to_from (4, 4). Covariances follow ROS order: (x, y, z, rot_x, rot_y, rot_z).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


def _eye() -> np.ndarray:
    return np.eye(4)


def _zeros6x6() -> np.ndarray:
    return np.zeros((6, 6))


@dataclass
class StampedTransform:
    """T_parent_child at t_ns (one TF edge)."""

    t_ns: int
    parent_frame: str
    child_frame: str
    T: np.ndarray = field(default_factory=_eye)


@dataclass
class PoseEstimate:
    """T_frame_body at t_ns with its 6x6 covariance (ROS order, body perturbation)."""

    t_ns: int
    frame_id: str
    T: np.ndarray = field(default_factory=_eye)
    covariance: np.ndarray = field(default_factory=_zeros6x6)


@dataclass
class OdometryEstimate:
    """Pose T_frame_child and twist (vx, vy, vz, wx, wy, wz) expressed in child_frame."""

    t_ns: int
    frame_id: str
    child_frame_id: str
    T: np.ndarray = field(default_factory=_eye)
    pose_covariance: np.ndarray = field(default_factory=_zeros6x6)
    twist: np.ndarray = field(default_factory=lambda: np.zeros(6))
    twist_covariance: np.ndarray = field(default_factory=_zeros6x6)


@dataclass
class ImuSample:
    """One IMU reading in frame_id: rad/s and m/s^2; orientation (x, y, z, w) when provided.

    Covariances are (3, 3); a covariance with [0, 0] == -1 means "not provided" (REP-145).
    """

    t_ns: int
    frame_id: str
    angular_velocity: np.ndarray
    linear_acceleration: np.ndarray
    orientation_xyzw: np.ndarray | None = None
    angular_velocity_covariance: np.ndarray = field(default_factory=lambda: np.zeros((3, 3)))
    linear_acceleration_covariance: np.ndarray = field(default_factory=lambda: np.zeros((3, 3)))
    orientation_covariance: np.ndarray = field(default_factory=lambda: np.zeros((3, 3)))


@dataclass
class Path:
    """A sequence of poses T_frame_body; stamps identify keyframes on /slam/path."""

    t_ns: int
    frame_id: str
    poses: list[PoseEstimate] = field(default_factory=list)


@dataclass
class DiagnosticStatus:
    """One entry of a DiagnosticArray; level is OK=0, WARN=1, ERROR=2, STALE=3."""

    OK = 0
    WARN = 1
    ERROR = 2
    STALE = 3

    name: str
    level: int = 0
    message: str = ''
    hardware_id: str = ''
    values: dict[str, str] = field(default_factory=dict)


@dataclass
class GridMap:
    """Occupancy grid: data (H, W) int8, -1 unknown, 0..100 occupied probability in percent.

    Row 0 is the cell row at the origin; origin T_frame_grid is the pose of cell (0, 0)'s corner.
    """

    t_ns: int
    frame_id: str
    resolution_m: float
    data: np.ndarray
    origin: np.ndarray = field(default_factory=_eye)


@dataclass
class Marker:
    """An RViz marker; points (N, 3) and colors (N, 4) are in the marker's frame, rgba 0..1."""

    ADD = 0
    DELETE = 2
    DELETEALL = 3
    ARROW, CUBE, SPHERE, CYLINDER, LINE_STRIP, LINE_LIST = 0, 1, 2, 3, 4, 5
    CUBE_LIST, SPHERE_LIST, POINTS, TEXT_VIEW_FACING = 6, 7, 8, 9

    t_ns: int
    frame_id: str
    ns: str
    id: int
    type: int
    action: int = 0
    T: np.ndarray = field(default_factory=_eye)
    scale: np.ndarray = field(default_factory=lambda: np.ones(3))
    color: np.ndarray = field(default_factory=lambda: np.ones(4))
    points: np.ndarray = field(default_factory=lambda: np.zeros((0, 3)))
    colors: np.ndarray = field(default_factory=lambda: np.zeros((0, 4)))
    text: str = ''
    lifetime_ns: int = 0
    frame_locked: bool = False
