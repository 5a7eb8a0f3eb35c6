"""The offline TF buffer against transforms composed by hand."""

from __future__ import annotations

import numpy as np
import pytest

from astro_slam.framework.tf_buffer import TfBuffer, TfError
from astro_slam.transforms import from_quaternion, inverse, make_transform
from astro_slam.types import StampedTransform

S = 1_000_000_000


def _yaw(angle: float, t: tuple[float, float, float] = (0.0, 0.0, 0.0)) -> np.ndarray:
    return from_quaternion(t, [0.0, 0.0, np.sin(angle / 2), np.cos(angle / 2)])


@pytest.fixture
def buffer() -> TfBuffer:
    tf = TfBuffer()
    tf.set_transform(
        StampedTransform(0, 'base_link', 'camera_link', _yaw(0.1, (0.2, 0, 0.5))), static=True
    )
    for i in range(11):
        tf.set_transform(StampedTransform(i * S, 'odom', 'base_link', _yaw(0.2 * i, (i, 0, 0))))
    tf.set_transform(StampedTransform(5 * S, 'map', 'odom', _yaw(0.5, (1, 2, 0))))
    return tf


def test_chain_lookup_composes_edges(buffer):
    expected = _yaw(0.5, (1, 2, 0)) @ _yaw(0.2 * 5, (5, 0, 0)) @ _yaw(0.1, (0.2, 0, 0.5))
    np.testing.assert_allclose(buffer.lookup('map', 'camera_link', 5 * S), expected, atol=1e-12)


def test_lookup_between_branches_inverts_the_target_side(buffer):
    T_odom_cam = buffer.lookup('odom', 'camera_link', 3 * S)
    T_cam_odom = buffer.lookup('camera_link', 'odom', 3 * S)
    np.testing.assert_allclose(T_cam_odom, inverse(T_odom_cam), atol=1e-12)


def test_interpolates_between_samples(buffer):
    T = buffer.lookup('odom', 'base_link', int(2.5 * S))
    np.testing.assert_allclose(T, _yaw(0.5, (2.5, 0, 0)), atol=1e-12)


def test_refuses_to_extrapolate(buffer):
    with pytest.raises(TfError, match='extrapolation'):
        buffer.lookup('odom', 'base_link', 11 * S)


def test_time_zero_is_latest_common_time(buffer):
    # map -> odom has a single sample at 5 s, so the latest common time of the chain is 5 s.
    np.testing.assert_allclose(
        buffer.lookup('map', 'base_link', 0), buffer.lookup('map', 'base_link', 5 * S)
    )


def test_unknown_and_disconnected_frames_raise(buffer):
    buffer.set_transform(StampedTransform(0, 'world', 'other', make_transform()), static=True)
    with pytest.raises(TfError, match='does not exist'):
        buffer.lookup('map', 'nowhere', 0)
    with pytest.raises(TfError, match='not connected'):
        buffer.lookup('map', 'other', 0)


def test_out_of_order_samples_are_sorted_and_old_ones_expire():
    tf = TfBuffer(cache_time_s=2.0)
    for t in (3, 1, 2):
        tf.set_transform(StampedTransform(t * S, 'odom', 'base', make_transform(t=[t, 0, 0])))
    np.testing.assert_allclose(tf.lookup('odom', 'base', int(1.5 * S))[:3, 3], [1.5, 0, 0])
    tf.set_transform(StampedTransform(10 * S, 'odom', 'base', make_transform(t=[10, 0, 0])))
    assert not tf.can_transform('odom', 'base', 2 * S)
