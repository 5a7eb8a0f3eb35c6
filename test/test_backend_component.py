"""The backend component in the offline graph, fed ROS messages (rosbags classes) built from a
synthetic world: what it publishes, what it does on a relocalization request and on bad input."""

from __future__ import annotations

import numpy as np
import pytest
from test_backend_core import T_BASE_CAM, World, loop_path

from astro_slam.backend.component import Backend
from astro_slam.backend.config import BackendConfig
from astro_slam.framework.graph import Graph
from astro_slam.msgs.camera import CameraModel, model_to_camera_info
from astro_slam.msgs.diagnostics import from_diagnostic_array
from astro_slam.msgs.keyframe import to_keyframe_cloud
from astro_slam.msgs.pointcloud import array_to_cloud
from astro_slam.msgs.poses import (
    from_path,
    from_pose_with_covariance,
    from_tf_message,
    to_odometry,
    to_tf_message,
)
from astro_slam.types import OdometryEstimate, StampedTransform

S = 1_000_000_000
K = np.array([[460.0, 0, 319.5], [0, 460.0, 239.5], [0, 0, 1]])


def _cloud(factory, view, t_ns: int):
    return to_keyframe_cloud(
        factory, t_ns, 'camera', view.points_c, view.xy, view.ids, view.descriptors
    )


class Stack:
    """A graph with the backend, camera extrinsics on /tf_static, and a recorder of outputs."""

    def __init__(self) -> None:
        self.graph = Graph(strict=False)
        self.graph.add(Backend, BackendConfig(exclude_recent_s=10.0))
        self.factory = self.graph.factory
        self.out: dict[str, list] = {}
        self.graph.tap(lambda topic, msg, t, pub: self.out.setdefault(topic, []).append(msg))
        static = StampedTransform(0, 'base_link', 'camera', T_BASE_CAM)
        self.graph.feed('/tf_static', to_tf_message(self.factory, [static]), 0)
        model = CameraModel(640, 480, K, frame_id='camera')
        self.graph.feed(
            '/camera/left/camera_info', model_to_camera_info(self.factory, model, 0), 0
        )
        self.t_ns = 0

    def drive(self, world: World, poses: list[np.ndarray], odom_offset=None) -> None:
        """One keyframe per second at each true pose; odometry at 10 Hz in between."""
        odom_offset = np.eye(4) if odom_offset is None else odom_offset
        for T in poses:
            for _ in range(10):
                self.t_ns += S // 10
                odom = OdometryEstimate(self.t_ns, 'odom', 'base_link', odom_offset @ T)
                odom.pose_covariance = np.eye(6) * 1e-4
                self.graph.feed('/odometry/filtered', to_odometry(self.factory, odom), self.t_ns)
            cloud = _cloud(self.factory, world.view(T), self.t_ns)
            self.graph.feed('/vo/keyframe', cloud, self.t_ns)

    def status(self) -> dict[str, str]:
        (status,) = from_diagnostic_array(self.out['/slam/status'][-1])
        return status.values


@pytest.fixture
def world():
    w = World(np.random.default_rng(5))
    w.room(-1, -1, 7, 6)
    return w


def test_outputs_follow_the_contract(world):
    stack = Stack()
    stack.drive(world, loop_path(0.5, 0.5, 4, 3, laps=1.5))
    out = stack.out
    map_odom = [tf for m in out['/tf'] for tf in from_tf_message(m)]
    assert map_odom and all(
        (tf.parent_frame, tf.child_frame) == ('map', 'odom') for tf in map_odom
    )
    pose = from_pose_with_covariance(out['/slam/pose'][-1])
    assert pose.frame_id == 'map'
    assert np.all(np.linalg.eigvalsh(pose.covariance) > 0)
    path = from_path(out['/slam/path'][-1])
    keyframes = int(stack.status()['keyframes'])
    assert keyframes > 10 and len(path.poses) == keyframes
    assert int(stack.status()['loops_accepted']) > 0
    assert '/slam/loop_closures' in out


def test_a_relocalization_request_silences_the_pose_until_found(world):
    stack = Stack()
    stack.drive(world, loop_path(0.5, 0.5, 4, 3, laps=1))
    header = stack.factory.header(stack.t_ns, 'odom')
    stack.graph.feed('/fusion/relocalize', header, stack.t_ns)
    assert stack.status()['state'] == 'relocalizing'
    before = len(stack.out['/slam/pose'])
    # Put down elsewhere: the odometry frame no longer matches the map.
    offset = np.eye(4)
    offset[:3, 3] = [5.0, -3.0, 0.0]
    stack.drive(world, loop_path(1.0, 1.0, 3, 2, laps=0.5), odom_offset=offset)
    assert stack.status()['state'] == 'mapping'
    found = from_pose_with_covariance(stack.out['/slam/pose'][-1])
    assert len(stack.out['/slam/pose']) > before
    truth = loop_path(1.0, 1.0, 3, 2, laps=0.5)[-1]
    assert np.linalg.norm(found.T[:3, 3] - truth[:3, 3]) < 0.2
    assert stack.graph.call_service('/slam/relocalize')[0]
    assert stack.status()['state'] == 'relocalizing'


def test_bad_keyframes_are_dropped_and_counted(world):
    stack = Stack()
    stack.drive(world, loop_path(0.5, 0.5, 4, 3, laps=0.25))
    keyframes = int(stack.status()['keyframes'])
    view = world.view(loop_path(0.5, 0.5, 4, 3)[3])
    no_descriptors = array_to_cloud(
        stack.factory,
        np.zeros(3, [('x', '<f4'), ('y', '<f4'), ('z', '<f4')]),
        stack.t_ns + 2,
        'camera',
    )
    stack.graph.feed('/vo/keyframe', no_descriptors, stack.t_ns + 2)
    view.points_c[:5] = np.nan  # NaN landmarks are left out, the rest is used
    stack.graph.feed('/vo/keyframe', _cloud(stack.factory, view, stack.t_ns + 3), stack.t_ns + 3)
    stats = stack.graph.stats()['backend']
    assert stats['dropped']['/vo/keyframe'] == {'invalid': 1}
    # The NaN keyframe was taken: only its bad landmarks were left out.
    assert stack.status()['keyframes'] == str(keyframes + 1)


def test_relocalizing_before_any_keyframe_is_refused(world):
    stack = Stack()
    ok, message = stack.graph.call_service('/slam/relocalize')
    assert not ok and 'no keyframe' in message
    stack.graph.feed('/fusion/relocalize', stack.factory.header(1, 'odom'), 1)
    stack.drive(world, loop_path(0.5, 0.5, 4, 3, laps=0.25))
    assert stack.status()['state'] == 'mapping'
    assert int(stack.status()['in_graph']) > 0
