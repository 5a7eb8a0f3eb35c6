"""`astro-slam replay` end to end on tiny simulated bags, good and bad."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import tiny_plan, write_sensor_bag
from rosbags.highlevel import AnyReader

from astro_slam.msgs.factory import default_factory
from astro_slam.msgs.poses import to_odometry
from astro_slam.tools.bag_io import BagWriter
from astro_slam.tools.cli import main
from astro_slam.tools.tum import read_tum
from astro_slam.types import OdometryEstimate


def _replay(*args: str) -> int:
    return main(['replay', *args, '--no-progress'])


def test_replay_records_outputs_and_trajectories(tiny_bag, tmp_path, sensor_plan):
    out = tmp_path / 'out'
    # dead reckoning republishes the wheels exactly: what is recorded can be checked to the bit
    assert _replay(str(tiny_bag), '--out', str(out), '--components', 'dead_reckoning') == 0
    folder = out / tiny_bag.name
    wheels = sensor_plan.wheels
    with AnyReader([folder / 'bag']) as reader:
        counts = {c.topic: c.msgcount for c in reader.connections}
        assert counts == {'/odometry/filtered': len(wheels.t_s), '/tf': len(wheels.t_s)}
        for connection, _, raw in reader.messages():
            msg = reader.deserialize(raw, connection.msgtype)
            if connection.topic == '/tf':
                assert msg.transforms[0].child_frame_id == 'base_link'
            else:
                assert msg.header.frame_id == 'odom'
    stamps, poses = read_tum(folder / 'odom.tum')
    np.testing.assert_array_equal(stamps, [sensor_plan.t_ns(t) for t in wheels.t_s])
    np.testing.assert_allclose(poses[:, :2, 3], wheels.pose[:, :2], atol=1e-8)
    np.testing.assert_allclose(
        np.arctan2(poses[:, 1, 0], poses[:, 0, 0]),
        np.angle(np.exp(1j * wheels.pose[:, 2])),
        atol=1e-8,
    )
    truth_stamps, truth = read_tum(folder / 'ground_truth.tum')
    expected = [sensor_plan.T_map_base((t - sensor_plan.t0_ns) / 1e9) for t in truth_stamps]
    np.testing.assert_allclose(truth, expected, atol=1e-8)
    assert not (folder / 'slam.tum').exists()  # no backend in this stack: no map frame
    run = json.loads((folder / 'run.json').read_text())
    assert run['messages_read']['/wheel/odometry'] == len(wheels.t_s)
    assert run['drops'] == 0 and not run['truncated']
    assert run['bag_duration_s'] > 2.9


def test_existing_results_are_kept_unless_overwrite(tiny_bag, tmp_path):
    out = tmp_path / 'out'
    assert _replay(str(tiny_bag), '--out', str(out)) == 0
    assert _replay(str(tiny_bag), '--out', str(out)) == 1
    assert _replay(str(tiny_bag), '--out', str(out), '--overwrite') == 0


def _write_bag(path: Path, stamps_and_x: list[tuple[int, float]]) -> Path:
    factory = default_factory()
    with BagWriter(path, factory) as writer:
        for i, (t_ns, x) in enumerate(stamps_and_x):
            odom = OdometryEstimate(t_ns, 'odom', 'base_link')
            msg = to_odometry(factory, odom)
            msg.pose.pose.position.x = x
            writer.write('/wheel/odometry', msg, 1_000 + i, 'sensor')
    return path


def test_bad_messages_are_counted_not_fatal(tmp_path):
    bag = _write_bag(
        tmp_path / 'bad',
        [(10, 0.0), (20, 0.1), (15, 0.2), (20, 0.3), (30, float('nan')), (40, 0.5)],
    )
    wheels_only = ('--components', 'dead_reckoning')  # the bag has no IMU for fusion
    assert _replay(str(bag), '--out', str(tmp_path / 'out'), *wheels_only) == 0
    run = json.loads((tmp_path / 'out' / 'bad' / 'run.json').read_text())
    assert run['nodes']['dead_reckoning']['dropped']['/wheel/odometry'] == {
        'duplicate_stamp': 1,
        'invalid': 1,
        'out_of_order': 1,
    }
    assert run['published']['/odometry/filtered'] == 3


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, '-m', 'astro_slam.tools.cli', *args],
        capture_output=True,
        text=True,
        timeout=120,
    )


def _assert_one_clear_error(result: subprocess.CompletedProcess, *fragments: str) -> None:
    assert result.returncode != 0
    assert 'Traceback' not in result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith('astro-slam: error')]
    assert len(errors) == 1, result.stderr
    for fragment in fragments:
        assert fragment in errors[0]


def test_missing_path_is_one_line(tmp_path):
    _assert_one_clear_error(
        _cli('replay', str(tmp_path / 'nope'), '--out', str(tmp_path / 'o')), 'no such file'
    )


def test_directory_that_is_not_a_bag_is_one_line(tmp_path):
    (tmp_path / 'photos').mkdir()
    (tmp_path / 'photos' / 'cat.jpg').write_bytes(b'meow')
    _assert_one_clear_error(
        _cli('replay', str(tmp_path / 'photos'), '--out', str(tmp_path / 'o')), 'not a ROS 2 bag'
    )


def _cut(bag: Path, fraction: float) -> None:
    (storage_file,) = [p for p in bag.iterdir() if p.suffix in ('.mcap', '.db3')]
    data = storage_file.read_bytes()
    storage_file.write_bytes(data[: int(len(data) * fraction)])


def test_truncated_mcap_is_read_up_to_the_damage(tmp_path):
    # Long enough for several MCAP chunks: a cut loses the torn chunk, not the whole bag.
    plan = tiny_plan(duration_s=20.0)
    bag = write_sensor_bag(plan, tmp_path / 'cut')
    _cut(bag, 0.6)
    result = _cli(
        'replay', str(bag), '--out', str(tmp_path / 'o'), '--components', 'dead_reckoning'
    )
    assert result.returncode == 3 and 'Traceback' not in result.stderr
    warnings = [line for line in result.stderr.splitlines() if 'warning' in line]
    assert len(warnings) == 1 and 'damage' in warnings[0]
    run = json.loads((tmp_path / 'o' / 'cut' / 'run.json').read_text())
    read = run['messages_read']['/wheel/odometry']
    assert run['truncated'] and 0 < read < len(plan.wheels.t_s)
    _, poses = read_tum(tmp_path / 'o' / 'cut' / 'odom.tum')
    np.testing.assert_allclose(poses[:, :2, 3], plan.wheels.pose[:read, :2], atol=1e-8)


@pytest.mark.parametrize(('storage', 'fraction'), [('sqlite3', 0.3), ('mcap', 0.01)])
def test_unreadable_truncated_bag_is_one_line(tmp_path, sensor_plan, storage, fraction):
    bag = write_sensor_bag(sensor_plan, tmp_path / 'cut', storage)
    _cut(bag, fraction)
    _assert_one_clear_error(_cli('replay', str(bag), '--out', str(tmp_path / 'o')), 'cut')


def test_bag_without_the_inputs_lists_what_it_has(tmp_path):
    factory = default_factory()
    with BagWriter(tmp_path / 'other', factory) as writer:
        writer.write('/chatter', factory.make('std_msgs/msg/String', data='hi'), 1)
    _assert_one_clear_error(
        _cli('replay', str(tmp_path / 'other'), '--out', str(tmp_path / 'o')),
        '/wheel/odometry',
        'it has: /chatter',
    )


def test_unknown_component_is_one_line(tmp_path, tiny_bag):
    _assert_one_clear_error(
        _cli('replay', str(tiny_bag), '--out', str(tmp_path / 'o'), '--components', 'teleporter'),
        'unknown component',
    )


def test_the_bags_own_tf_is_neither_recorded_nor_mixed_into_trajectories(tmp_path):
    from astro_slam.msgs.poses import to_tf_message
    from astro_slam.transforms import make_transform
    from astro_slam.types import StampedTransform

    factory = default_factory()
    with BagWriter(tmp_path / 'robot', factory) as writer:
        for i in range(1, 6):
            t_ns = i * 100_000_000
            msg = to_odometry(
                factory, OdometryEstimate(t_ns, 'odom', 'base_link', make_transform(t=[i, 0, 0]))
            )
            writer.write('/wheel/odometry', msg, t_ns, 'sensor')
            driver_tf = StampedTransform(t_ns, 'odom', 'base_link', make_transform(t=[0, 9, 0]))
            writer.write('/tf', to_tf_message(factory, [driver_tf]), t_ns)
    wheels_only = ('--components', 'dead_reckoning')  # the bag has no IMU for fusion
    assert _replay(str(tmp_path / 'robot'), '--out', str(tmp_path / 'o'), *wheels_only) == 0
    _, poses = read_tum(tmp_path / 'o' / 'robot' / 'odom.tum')
    np.testing.assert_allclose(poses[:, 0, 3], [1, 2, 3, 4, 5])
    np.testing.assert_allclose(poses[:, 1, 3], 0)
    run = json.loads((tmp_path / 'o' / 'robot' / 'run.json').read_text())
    assert run['published']['/tf'] == 5


def test_simulate_cli_errors_are_one_line(tmp_path):
    _assert_one_clear_error(
        _cli('simulate', '--scenario', 'moon-base', '--out', str(tmp_path)), 'unknown scenario'
    )
    (tmp_path / 'bad.yaml').write_text('rooms: []\n')
    _assert_one_clear_error(
        _cli(
            'simulate',
            '--scenario',
            'tiny',
            '--home',
            str(tmp_path / 'bad.yaml'),
            '--out',
            str(tmp_path),
        ),
        'bad.yaml',
    )
