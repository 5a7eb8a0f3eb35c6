"""Poses and transforms: Pose, Transform, TFMessage, Odometry, PoseWithCovarianceStamped, Path."""

from __future__ import annotations

from typing import Any

import numpy as np

from astro_slam.msgs.errors import InvalidMessage, require_finite
from astro_slam.msgs.factory import MessageFactory
from astro_slam.msgs.time import header_ns, stamp_to_ns
from astro_slam.transforms import from_quaternion, to_quaternion
from astro_slam.types import OdometryEstimate, Path, PoseEstimate, StampedTransform


def _matrix(t: Any, q: Any, what: str) -> np.ndarray:
    translation = require_finite([t.x, t.y, t.z], f'{what} translation')
    quaternion = require_finite([q.x, q.y, q.z, q.w], f'{what} orientation')
    try:
        return from_quaternion(translation, quaternion)
    except ValueError as err:
        raise InvalidMessage(f'{what}: {err}') from None


def pose_to_matrix(pose: Any) -> np.ndarray:
    """T (4, 4) from a geometry_msgs/Pose."""
    return _matrix(pose.position, pose.orientation, 'pose')


def transform_to_matrix(transform: Any) -> np.ndarray:
    """T (4, 4) from a geometry_msgs/Transform."""
    return _matrix(transform.translation, transform.rotation, 'transform')


def _covariance(values: Any, what: str) -> np.ndarray:
    cov = require_finite(values, what)
    if cov.size != 36:
        raise InvalidMessage(f'{what} has {cov.size} entries, expected 36')
    return cov.reshape(6, 6)


def matrix_to_pose(factory: MessageFactory, T: np.ndarray) -> Any:
    t, q = to_quaternion(T)
    return factory.make(
        'geometry_msgs/msg/Pose',
        position=factory.make('geometry_msgs/msg/Point', x=t[0], y=t[1], z=t[2]),
        orientation=factory.make('geometry_msgs/msg/Quaternion', x=q[0], y=q[1], z=q[2], w=q[3]),
    )


def matrix_to_transform(factory: MessageFactory, T: np.ndarray) -> Any:
    t, q = to_quaternion(T)
    return factory.make(
        'geometry_msgs/msg/Transform',
        translation=factory.make('geometry_msgs/msg/Vector3', x=t[0], y=t[1], z=t[2]),
        rotation=factory.make('geometry_msgs/msg/Quaternion', x=q[0], y=q[1], z=q[2], w=q[3]),
    )


def vector3(factory: MessageFactory, v: np.ndarray) -> Any:
    return factory.make('geometry_msgs/msg/Vector3', x=v[0], y=v[1], z=v[2])


def from_transform_stamped(msg: Any) -> StampedTransform:
    return StampedTransform(
        header_ns(msg),
        msg.header.frame_id,
        msg.child_frame_id,
        transform_to_matrix(msg.transform),
    )


def to_transform_stamped(factory: MessageFactory, tf: StampedTransform) -> Any:
    return factory.make(
        'geometry_msgs/msg/TransformStamped',
        header=factory.header(tf.t_ns, tf.parent_frame),
        child_frame_id=tf.child_frame,
        transform=matrix_to_transform(factory, tf.T),
    )


def from_tf_message(msg: Any) -> list[StampedTransform]:
    """All edges of a tf2_msgs/TFMessage (from /tf or /tf_static)."""
    return [from_transform_stamped(t) for t in msg.transforms]


def to_tf_message(factory: MessageFactory, transforms: list[StampedTransform]) -> Any:
    return factory.make(
        'tf2_msgs/msg/TFMessage',
        transforms=[to_transform_stamped(factory, tf) for tf in transforms],
    )


def from_odometry(msg: Any) -> OdometryEstimate:
    twist = msg.twist.twist
    return OdometryEstimate(
        t_ns=header_ns(msg),
        frame_id=msg.header.frame_id,
        child_frame_id=msg.child_frame_id,
        T=pose_to_matrix(msg.pose.pose),
        pose_covariance=_covariance(msg.pose.covariance, 'pose covariance'),
        twist=require_finite(
            [
                twist.linear.x,
                twist.linear.y,
                twist.linear.z,
                twist.angular.x,
                twist.angular.y,
                twist.angular.z,
            ],
            'twist',
        ),
        twist_covariance=_covariance(msg.twist.covariance, 'twist covariance'),
    )


def to_odometry(factory: MessageFactory, odom: OdometryEstimate) -> Any:
    return factory.make(
        'nav_msgs/msg/Odometry',
        header=factory.header(odom.t_ns, odom.frame_id),
        child_frame_id=odom.child_frame_id,
        pose=factory.make(
            'geometry_msgs/msg/PoseWithCovariance',
            pose=matrix_to_pose(factory, odom.T),
            covariance=np.asarray(odom.pose_covariance, dtype=float).reshape(36),
        ),
        twist=factory.make(
            'geometry_msgs/msg/TwistWithCovariance',
            twist=factory.make(
                'geometry_msgs/msg/Twist',
                linear=vector3(factory, odom.twist[:3]),
                angular=vector3(factory, odom.twist[3:]),
            ),
            covariance=np.asarray(odom.twist_covariance, dtype=float).reshape(36),
        ),
    )


def from_pose_with_covariance(msg: Any) -> PoseEstimate:
    return PoseEstimate(
        header_ns(msg),
        msg.header.frame_id,
        pose_to_matrix(msg.pose.pose),
        _covariance(msg.pose.covariance, 'pose covariance'),
    )


def to_pose_with_covariance(factory: MessageFactory, pose: PoseEstimate) -> Any:
    return factory.make(
        'geometry_msgs/msg/PoseWithCovarianceStamped',
        header=factory.header(pose.t_ns, pose.frame_id),
        pose=factory.make(
            'geometry_msgs/msg/PoseWithCovariance',
            pose=matrix_to_pose(factory, pose.T),
            covariance=np.asarray(pose.covariance, dtype=float).reshape(36),
        ),
    )


def from_path(msg: Any) -> Path:
    """nav_msgs/Path; each pose keeps its own stamp and frame (covariance is not carried)."""
    return Path(
        header_ns(msg),
        msg.header.frame_id,
        [
            PoseEstimate(
                stamp_to_ns(p.header.stamp),
                p.header.frame_id or msg.header.frame_id,
                pose_to_matrix(p.pose),
            )
            for p in msg.poses
        ],
    )


def to_path(factory: MessageFactory, path: Path) -> Any:
    return factory.make(
        'nav_msgs/msg/Path',
        header=factory.header(path.t_ns, path.frame_id),
        poses=[
            factory.make(
                'geometry_msgs/msg/PoseStamped',
                header=factory.header(p.t_ns, p.frame_id),
                pose=matrix_to_pose(factory, p.T),
            )
            for p in path.poses
        ],
    )
