"""The map server component in the offline graph, fed ROS messages (rosbags classes) from the
synthetic home of test_map_merge: saves on the service and at shutdown, publishes /map and its
status, and keeps running on a map file it cannot read, without overwriting it."""

from __future__ import annotations

import numpy as np
from test_map_merge import T_BASE_CAM, Home, K, patrol

from astro_mapping.component import MapServer
from astro_mapping.config import MapServerConfig
from astro_mapping.store import load
from astro_slam.framework.graph import Graph
from astro_slam.msgs.camera import CameraModel, model_to_camera_info
from astro_slam.msgs.diagnostics import from_diagnostic_array
from astro_slam.msgs.keyframe import to_keyframe_cloud
from astro_slam.msgs.occupancy import from_occupancy_grid
from astro_slam.msgs.poses import to_path, to_tf_message
from astro_slam.types import Path, PoseEstimate, StampedTransform


class Stack:
    def __init__(self, config: MapServerConfig) -> None:
        self.graph = Graph(strict=True)
        self.server = self.graph.add(MapServer, config)
        self.factory = self.graph.factory
        self.out: dict[str, list] = {}
        self.graph.tap(lambda topic, msg, t, pub: self.out.setdefault(topic, []).append(msg))
        static = StampedTransform(0, 'base_link', 'camera', T_BASE_CAM)
        self.graph.feed('/tf_static', to_tf_message(self.factory, [static]), 1)
        model = CameraModel(640, 480, K, frame_id='camera')
        self.graph.feed(
            '/camera/left/camera_info', model_to_camera_info(self.factory, model, 1), 1
        )

    def session(self, home: Home, t0_ns: int) -> None:
        """Keyframes along the patrol, the optimized path (here: the truth) every few."""
        poses = patrol(t0_ns)
        done = []
        for t, T in poses.items():
            kf = home.keyframe(t, T)
            xy = kf.points_c[:, :2] / kf.points_c[:, 2:] * K[[0, 1], [0, 1]] + K[:2, 2]
            msg = to_keyframe_cloud(
                self.factory, t, 'camera', kf.points_c, xy, kf.ids, kf.descriptors
            )
            self.graph.feed('/vo/keyframe', msg, t)
            done.append(PoseEstimate(t, 'map', T))
            path = to_path(self.factory, Path(t, 'map', done))
            self.graph.feed('/slam/path', path, t + 1)

    def status(self) -> dict[str, str]:
        return from_diagnostic_array(self.out['/map_server/status'][-1])[0].values


def test_saves_on_the_service_and_at_shutdown_and_publishes(tmp_path):
    path = tmp_path / 'home.db'
    stack = Stack(MapServerConfig(map_path=str(path), memory_budget_bytes=150_000))
    home = Home()
    stack.session(home, 10**12)
    ok, message = stack.graph.call_service('/map_server/save_map')
    assert ok and str(path) in message
    first = load(path)
    assert first.sessions == 1 and len(first.places) > 10
    assert sum(v for k, v in stack.server.saves[-1]['bytes'].items()) <= 150_000
    grid = from_occupancy_grid(stack.out['/map'][-1])
    assert np.sum(grid.data == 0) > 1000 and np.sum(grid.data == 100) > 50
    assert stack.out['/map_layers']
    status = stack.status()
    assert int(status['bytes_total']) <= int(status['budget_bytes']) == 150_000
    # A second node on the same file: the session merges into the first.
    again = Stack(MapServerConfig(map_path=str(path)))
    again.session(home, 2 * 10**12)
    again.graph.shutdown()
    second = load(path)
    assert second.sessions == 2
    assert np.sum(second.landmarks.sessions_seen == 2) > 100


def test_an_unreadable_map_is_reported_kept_and_saved_beside(tmp_path):
    path = tmp_path / 'home.db'
    path.write_bytes(b'\x00garbage' * 100)
    stack = Stack(MapServerConfig(map_path=str(path)))
    stack.session(Home(), 10**12)
    status = from_diagnostic_array(stack.out['/map_server/status'][-1])[0]
    assert status.level == 2 and 'not an astro_slam map' in status.message
    ok, message = stack.graph.call_service('/map_server/save_map')
    assert ok and 'home.new.db' in message
    assert path.read_bytes() == b'\x00garbage' * 100
    assert load(tmp_path / 'home.new.db').sessions == 1


def test_a_map_of_other_descriptors_is_not_merged_into(tmp_path):
    """ORB landmarks cannot be matched with learned descriptors: a map saved with one
    extractor is kept as it is when the stack runs the other, and the session goes beside."""
    path = tmp_path / 'home.db'
    stack = Stack(MapServerConfig(map_path=str(path)))
    stack.session(Home(), 10**12)
    stack.graph.shutdown()
    before = path.read_bytes()
    assert load(path).features == 'orb'
    learned = Stack(MapServerConfig(map_path=str(path), features='learned'))
    learned.session(Home(), 2 * 10**12)
    status = from_diagnostic_array(learned.out['/map_server/status'][-1])[0]
    assert status.level == 2 and 'holds orb descriptors but features is learned' in status.message
    learned.graph.shutdown()
    assert path.read_bytes() == before
    assert load(tmp_path / 'home.new.db').features == 'learned'


def test_localization_mode_never_writes(tmp_path):
    path = tmp_path / 'home.db'
    stack = Stack(MapServerConfig(map_path=str(path)))
    stack.session(Home(), 10**12)
    stack.graph.shutdown()
    before = path.read_bytes()
    reader = Stack(MapServerConfig(map_path=str(path), mode='localization'))
    reader.session(Home(), 2 * 10**12)
    ok, message = reader.graph.call_service('/map_server/save_map')
    reader.graph.shutdown()
    assert not ok and 'read-only' in message
    assert path.read_bytes() == before
    assert reader.out['/map']  # the stored floor, for Nav2
