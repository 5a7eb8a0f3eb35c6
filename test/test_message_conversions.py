"""Round trips of every message conversion through rosbags classes and CDR bytes."""

from __future__ import annotations

import numpy as np
import pytest

from astro_slam.msgs.camera import CameraModel, camera_info_to_model, model_to_camera_info
from astro_slam.msgs.diagnostics import from_diagnostic_array, to_diagnostic_array
from astro_slam.msgs.errors import InvalidMessage
from astro_slam.msgs.factory import msgtype_of
from astro_slam.msgs.image import (
    compressed_to_numpy,
    depth_to_metres,
    image_to_bgr_or_gray,
    image_to_numpy,
    numpy_to_compressed,
    numpy_to_image,
)
from astro_slam.msgs.imu import from_imu, to_imu
from astro_slam.msgs.keyframe import from_keyframe_cloud, to_keyframe_cloud
from astro_slam.msgs.markers import from_marker_array, to_marker_array
from astro_slam.msgs.occupancy import from_occupancy_grid, to_occupancy_grid
from astro_slam.msgs.pointcloud import array_to_cloud, cloud_to_array
from astro_slam.msgs.poses import (
    from_odometry,
    from_path,
    from_pose_with_covariance,
    from_tf_message,
    to_odometry,
    to_path,
    to_pose_with_covariance,
    to_tf_message,
)
from astro_slam.transforms import from_quaternion
from astro_slam.types import (
    DiagnosticStatus,
    GridMap,
    ImuSample,
    Marker,
    OdometryEstimate,
    Path,
    PoseEstimate,
    StampedTransform,
)

T_NS = 1_700_000_123_456_789_012


def _wire(factory, msg):
    """Serialises to CDR and back: what a bag or DDS would do to the message."""
    data = factory.serialize(msg)
    return factory.typestore.deserialize_cdr(data, msgtype_of(msg))


def _random_pose(rng: np.random.Generator) -> np.ndarray:
    q = rng.normal(size=4)
    return from_quaternion(rng.normal(size=3), q)


@pytest.mark.parametrize(
    ('encoding', 'dtype', 'shape'),
    [
        ('mono8', np.uint8, (4, 6)),
        ('bgr8', np.uint8, (4, 6, 3)),
        ('rgb8', np.uint8, (4, 6, 3)),
        ('16UC1', np.uint16, (4, 6)),
        ('32FC1', np.float32, (4, 6)),
    ],
)
def test_image_round_trip_keeps_every_pixel(factory, encoding, dtype, shape):
    rng = np.random.default_rng(1)
    pixels = (rng.random(shape) * 200).astype(dtype)
    msg = _wire(factory, numpy_to_image(factory, pixels, encoding, T_NS, 'camera'))
    assert msg.header.frame_id == 'camera' and msg.encoding == encoding
    np.testing.assert_array_equal(image_to_numpy(msg), pixels)


def test_rgb8_becomes_bgr_for_opencv(factory):
    rgb = np.zeros((2, 2, 3), np.uint8)
    rgb[..., 0] = 255  # red
    bgr = image_to_bgr_or_gray(numpy_to_image(factory, rgb, 'rgb8', T_NS, 'c'))
    assert bgr[0, 0].tolist() == [0, 0, 255]


def test_image_with_row_padding_and_big_endian_is_read(factory):
    pixels = np.arange(12, dtype=np.uint16).reshape(3, 4)
    padded = np.zeros((3, 10), np.uint8)  # 8 bytes of pixels + 2 bytes padding per row
    padded[:, :8] = pixels.astype('>u2').view(np.uint8).reshape(3, 8)
    msg = factory.make(
        'sensor_msgs/msg/Image',
        height=3,
        width=4,
        encoding='16UC1',
        is_bigendian=1,
        step=10,
        data=padded.reshape(-1),
    )
    np.testing.assert_array_equal(image_to_numpy(msg), pixels)


def test_depth_in_millimetres_becomes_metres_with_nan_holes(factory):
    depth_mm = np.array([[0, 1500], [2000, 65535]], np.uint16)
    depth = depth_to_metres(numpy_to_image(factory, depth_mm, '16UC1', T_NS, 'c'))
    assert np.isnan(depth[0, 0])
    np.testing.assert_allclose(depth[0, 1:], [1.5])
    np.testing.assert_allclose(depth[1], [2.0, 65.535], rtol=1e-6)


@pytest.mark.parametrize('change', [{'encoding': 'yuv422'}, {'step': 3}, {'height': 100}])
def test_inconsistent_image_is_rejected(factory, change):
    msg = numpy_to_image(factory, np.zeros((4, 6), np.uint8), 'mono8', T_NS, 'c')
    for key, value in change.items():
        setattr(msg, key, value)
    with pytest.raises(InvalidMessage):
        image_to_numpy(msg)


@pytest.mark.parametrize(
    ('fmt', 'dtype'), [('png', np.uint16), ('png', np.uint8), ('jpg', np.uint8)]
)
def test_compressed_image_round_trip(factory, fmt, dtype):
    pixels = (np.indices((16, 16)).sum(axis=0) * 7).astype(dtype)
    decoded = compressed_to_numpy(
        _wire(factory, numpy_to_compressed(factory, pixels, T_NS, 'c', fmt))
    )
    assert decoded.dtype == dtype
    tolerance = 0 if fmt == 'png' else 12
    assert np.abs(decoded.astype(int) - pixels.astype(int)).max() <= tolerance


def test_corrupt_compressed_image_is_rejected(factory):
    msg = factory.make(
        'sensor_msgs/msg/CompressedImage',
        format='jpeg',
        data=np.frombuffer(b'\xff\xd8 not a jpeg', np.uint8),
    )
    with pytest.raises(InvalidMessage, match='corrupt'):
        compressed_to_numpy(msg)


def test_camera_info_round_trip_and_stereo_baseline(factory):
    K = np.array([[500.0, 0, 320], [0, 505.0, 240], [0, 0, 1]])
    P = np.hstack([K, np.array([[-500.0 * 0.08], [0], [0]])])
    model = CameraModel(
        640,
        480,
        K,
        np.array([0.1, -0.05, 0, 0, 0.01]),
        np.eye(3),
        P,
        'plumb_bob',
        'camera_right_optical_frame',
    )
    back = camera_info_to_model(_wire(factory, model_to_camera_info(factory, model, T_NS)))
    np.testing.assert_allclose(back.K, K)
    np.testing.assert_allclose(back.P, P)
    np.testing.assert_allclose(back.D, model.D)
    assert back.baseline_m == pytest.approx(0.08)
    assert (back.width, back.height, back.frame_id) == (640, 480, model.frame_id)


def test_uncalibrated_camera_info_is_rejected(factory):
    with pytest.raises(InvalidMessage, match='calibration'):
        camera_info_to_model(factory.make('sensor_msgs/msg/CameraInfo', width=640, height=480))


def test_imu_round_trip_and_absent_orientation(factory):
    imu = ImuSample(
        T_NS,
        'imu_link',
        np.array([0.1, -0.2, 0.3]),
        np.array([0.0, 0.1, 9.81]),
        None,
        np.eye(3) * 1e-4,
        np.eye(3) * 1e-2,
    )
    back = from_imu(_wire(factory, to_imu(factory, imu)))
    assert back.orientation_xyzw is None and back.t_ns == T_NS
    np.testing.assert_allclose(back.angular_velocity, imu.angular_velocity)
    np.testing.assert_allclose(
        back.linear_acceleration_covariance, imu.linear_acceleration_covariance
    )
    imu.orientation_xyzw = np.array([0.0, 0.0, np.sin(0.3), np.cos(0.3)])
    np.testing.assert_allclose(
        from_imu(to_imu(factory, imu)).orientation_xyzw, imu.orientation_xyzw
    )


def test_imu_with_nan_is_rejected(factory):
    imu = ImuSample(T_NS, 'imu', np.array([np.nan, 0, 0]), np.zeros(3))
    with pytest.raises(InvalidMessage, match='NaN'):
        from_imu(to_imu(factory, imu))


def test_odometry_round_trip(factory):
    rng = np.random.default_rng(2)
    cov = np.diag(rng.random(6))
    odom = OdometryEstimate(
        T_NS, 'odom', 'base_link', _random_pose(rng), cov, rng.normal(size=6), cov * 2
    )
    back = from_odometry(_wire(factory, to_odometry(factory, odom)))
    assert (back.t_ns, back.frame_id, back.child_frame_id) == (T_NS, 'odom', 'base_link')
    np.testing.assert_allclose(back.T, odom.T, atol=1e-12)
    np.testing.assert_allclose(back.pose_covariance, cov)
    np.testing.assert_allclose(back.twist, odom.twist)
    np.testing.assert_allclose(back.twist_covariance, cov * 2)


def test_odometry_with_nan_position_is_rejected(factory):
    msg = to_odometry(factory, OdometryEstimate(T_NS, 'odom', 'base_link'))
    msg.pose.pose.position.x = float('nan')
    with pytest.raises(InvalidMessage):
        from_odometry(msg)


def test_zero_quaternion_is_rejected(factory):
    msg = to_odometry(factory, OdometryEstimate(T_NS, 'odom', 'base_link'))
    msg.pose.pose.orientation.w = 0.0
    with pytest.raises(InvalidMessage, match='quaternion'):
        from_odometry(msg)


def test_pose_with_covariance_round_trip(factory):
    rng = np.random.default_rng(3)
    pose = PoseEstimate(T_NS, 'map', _random_pose(rng), np.diag(rng.random(6)))
    back = from_pose_with_covariance(_wire(factory, to_pose_with_covariance(factory, pose)))
    np.testing.assert_allclose(back.T, pose.T, atol=1e-12)
    np.testing.assert_allclose(back.covariance, pose.covariance)


def test_path_round_trip_keeps_keyframe_stamps(factory):
    rng = np.random.default_rng(4)
    path = Path(T_NS, 'map', [PoseEstimate(T_NS + i, 'map', _random_pose(rng)) for i in range(5)])
    back = from_path(_wire(factory, to_path(factory, path)))
    assert [p.t_ns for p in back.poses] == [p.t_ns for p in path.poses]
    for a, b in zip(back.poses, path.poses, strict=True):
        np.testing.assert_allclose(a.T, b.T, atol=1e-12)


def test_tf_message_round_trip(factory):
    rng = np.random.default_rng(5)
    edges = [
        StampedTransform(T_NS, 'odom', 'base_link', _random_pose(rng)),
        StampedTransform(T_NS + 1, 'base_link', 'camera_link', _random_pose(rng)),
    ]
    back = from_tf_message(_wire(factory, to_tf_message(factory, edges)))
    assert [(e.t_ns, e.parent_frame, e.child_frame) for e in back] == [
        (e.t_ns, e.parent_frame, e.child_frame) for e in edges
    ]
    for a, b in zip(back, edges, strict=True):
        np.testing.assert_allclose(a.T, b.T, atol=1e-12)


def test_point_cloud_with_descriptor_field_round_trip(factory):
    rng = np.random.default_rng(6)
    dtype = np.dtype(
        [
            ('x', np.float32),
            ('y', np.float32),
            ('z', np.float32),
            ('u', np.float32),
            ('v', np.float32),
            ('landmark_id', np.uint32),
            ('descriptor', np.uint8, (32,)),
        ]
    )
    points = np.zeros(50, dtype)
    for name in ('x', 'y', 'z', 'u', 'v'):
        points[name] = rng.normal(size=50)
    points['landmark_id'] = np.arange(50)
    points['descriptor'] = rng.integers(0, 256, (50, 32))
    msg = _wire(factory, array_to_cloud(factory, points, T_NS, 'camera'))
    assert [f.name for f in msg.fields] == list(dtype.names)
    assert msg.fields[-1].count == 32
    back = cloud_to_array(msg)
    for name in dtype.names:
        np.testing.assert_array_equal(back[name], points[name])


def test_keyframe_cloud_round_trip_and_missing_fields(factory):
    rng = np.random.default_rng(7)
    points_c = rng.uniform(0.5, 5, (40, 3))
    xy, ids = rng.uniform(0, 640, (40, 2)), np.arange(40) * 3
    descriptors = rng.integers(0, 256, (40, 32), dtype=np.uint8)
    msg = _wire(factory, to_keyframe_cloud(factory, T_NS, 'cam', points_c, xy, ids, descriptors))
    back = from_keyframe_cloud(msg)
    assert (back.t_ns, back.frame_id) == (T_NS, 'cam')
    np.testing.assert_allclose(back.points_c, points_c, rtol=1e-6)  # float32 on the wire
    np.testing.assert_allclose(back.xy, xy, rtol=1e-6)
    np.testing.assert_array_equal(back.ids, ids)
    np.testing.assert_array_equal(back.descriptors, descriptors)
    bare = array_to_cloud(factory, np.zeros(3, [('x', '<f4'), ('y', '<f4')]), T_NS, 'cam')
    with pytest.raises(InvalidMessage, match='lacks the fields'):
        from_keyframe_cloud(bare)


def test_big_endian_point_cloud_is_read(factory):
    data = np.array([1.5, -2.0], '>f4').view(np.uint8)
    msg = factory.make(
        'sensor_msgs/msg/PointCloud2',
        height=1,
        width=2,
        is_bigendian=True,
        point_step=4,
        row_step=8,
        data=data,
        fields=[
            factory.make('sensor_msgs/msg/PointField', name='x', offset=0, datatype=7, count=1)
        ],
    )
    np.testing.assert_array_equal(cloud_to_array(msg)['x'], [1.5, -2.0])


def test_short_point_cloud_buffer_is_rejected(factory):
    points = np.zeros(4, [('x', np.float32)])
    msg = array_to_cloud(factory, points, T_NS, 'c')
    msg.data = msg.data[:-1]
    with pytest.raises(InvalidMessage):
        cloud_to_array(msg)


def test_diagnostic_array_round_trip(factory):
    statuses = [
        DiagnosticStatus(
            'fusion: wheel',
            DiagnosticStatus.WARN,
            'slip',
            'base',
            {'weight': '0.2', 'state': 'degraded'},
        ),
        DiagnosticStatus('fusion: imu', DiagnosticStatus.OK),
    ]
    back = from_diagnostic_array(_wire(factory, to_diagnostic_array(factory, statuses, T_NS)))
    assert back == statuses


def test_occupancy_grid_round_trip(factory):
    data = np.full((3, 5), -1, np.int8)
    data[1, 2], data[2, 4] = 100, 0
    origin = from_quaternion([-1.0, -2.0, 0.0], [0, 0, 0, 1])
    grid = GridMap(T_NS, 'map', 0.05, data, origin)
    back = from_occupancy_grid(_wire(factory, to_occupancy_grid(factory, grid)))
    np.testing.assert_array_equal(back.data, data)
    assert back.resolution_m == pytest.approx(0.05)
    np.testing.assert_allclose(back.origin, origin)


def test_marker_array_round_trip(factory):
    rng = np.random.default_rng(7)
    markers = [
        Marker(
            T_NS,
            'map',
            'places',
            3,
            Marker.SPHERE_LIST,
            points=rng.normal(size=(4, 3)),
            colors=rng.random((4, 4)),
            scale=np.array([0.1, 0.1, 0.1]),
        ),
        Marker(
            T_NS,
            'map',
            'rooms',
            0,
            Marker.TEXT_VIEW_FACING,
            T=_random_pose(rng),
            text='kitchen',
            lifetime_ns=1_500_000_000,
        ),
    ]
    back = from_marker_array(_wire(factory, to_marker_array(factory, markers)))
    for a, b in zip(back, markers, strict=True):
        assert (a.ns, a.id, a.type, a.text, a.lifetime_ns) == (
            b.ns,
            b.id,
            b.type,
            b.text,
            b.lifetime_ns,
        )
        np.testing.assert_allclose(a.points, b.points)
        np.testing.assert_allclose(a.colors, b.colors)
        np.testing.assert_allclose(a.T, b.T, atol=1e-12)


def test_factory_fills_defaults_and_rejects_unknown_fields(factory):
    msg = factory.make('sensor_msgs/msg/CameraInfo')
    assert msg.k.shape == (9,) and msg.d.size == 0 and msg.header.frame_id == ''
    with pytest.raises(TypeError, match='no field'):
        factory.make('std_msgs/msg/Header', not_a_field=1)
    with pytest.raises(TypeError, match='unknown message type'):
        factory.make('std_msgs/msg/NoSuchType')
