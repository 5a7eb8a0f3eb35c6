"""The keyframe pose graph on GTSAM's iSAM2: odometry between keyframes, robust loop closures.

Poses are T_map_base (4, 4). Covariances come in and go out in ROS order (x, y, z, rx, ry, rz);
GTSAM's Pose3 tangent is (rx, ry, rz, x, y, z), so they are permuted at this boundary only.
"""

from __future__ import annotations

import gtsam
import numpy as np

# ROS (translation, rotation) <-> GTSAM (rotation, translation).
_TO_GTSAM = np.r_[3:6, 0:3]


def to_gtsam_cov(cov_ros: np.ndarray) -> np.ndarray:
    return cov_ros[np.ix_(_TO_GTSAM, _TO_GTSAM)]


def to_ros_cov(cov_gtsam: np.ndarray) -> np.ndarray:
    return cov_gtsam[np.ix_(_TO_GTSAM, _TO_GTSAM)]  # the permutation is its own inverse


def key(i: int) -> int:
    return gtsam.symbol('x', i)


class PoseGraph:
    """Keyframe poses X_i with iSAM2; loops under a Cauchy kernel.

    Args:
        loop_kernel: 'cauchy' (rejects a wrong loop that slipped through verification, see
            docs/DEPENDENCIES.md: Huber does not) or 'none'.
        loop_iterations: extra iSAM2 updates after a loop, so a large correction converges.
    """

    def __init__(self, loop_kernel: str = 'cauchy', loop_iterations: int = 4) -> None:
        params = gtsam.ISAM2Params()
        params.setRelinearizeThreshold(0.01)
        params.relinearizeSkip = 1
        self.isam = gtsam.ISAM2(params)
        self.loop_kernel = loop_kernel
        self.loop_iterations = loop_iterations
        self.graph = gtsam.NonlinearFactorGraph()
        self.values = gtsam.Values()
        self.estimate = gtsam.Values()
        self.ids: list[int] = []
        self._loop_added = False

    def __contains__(self, i: int) -> bool:
        return self.estimate.exists(key(i)) or self.values.exists(key(i))

    def add_pose(self, i: int, T_initial: np.ndarray) -> None:
        self.values.insert(key(i), gtsam.Pose3(T_initial))
        self.ids.append(i)

    def add_prior(self, i: int, T: np.ndarray, cov_ros: np.ndarray) -> None:
        noise = gtsam.noiseModel.Gaussian.Covariance(to_gtsam_cov(cov_ros))
        self.graph.add(gtsam.PriorFactorPose3(key(i), gtsam.Pose3(T), noise))

    def add_odometry(self, i: int, j: int, T_ij: np.ndarray, cov_ros: np.ndarray) -> None:
        """X_j = X_i T_ij with a Gaussian covariance (base frame of i)."""
        noise = gtsam.noiseModel.Gaussian.Covariance(to_gtsam_cov(cov_ros))
        self.graph.add(gtsam.BetweenFactorPose3(key(i), key(j), gtsam.Pose3(T_ij), noise))

    def add_loop(self, i: int, j: int, T_ij: np.ndarray, sigmas_ros: np.ndarray) -> None:
        """A loop closure X_j = X_i T_ij under the robust kernel."""
        noise = gtsam.noiseModel.Diagonal.Sigmas(np.asarray(sigmas_ros, float)[_TO_GTSAM])
        if self.loop_kernel == 'cauchy':
            noise = gtsam.noiseModel.Robust.Create(
                gtsam.noiseModel.mEstimator.Cauchy.Create(1.0), noise
            )
        self.graph.add(gtsam.BetweenFactorPose3(key(i), key(j), gtsam.Pose3(T_ij), noise))
        self._loop_added = True

    def update(self) -> None:
        """Hands the pending factors and values to iSAM2 and refreshes the estimate."""
        self.isam.update(self.graph, self.values)
        for _ in range(self.loop_iterations if self._loop_added else 0):
            self.isam.update()
        self.graph = gtsam.NonlinearFactorGraph()
        self.values = gtsam.Values()
        self._loop_added = False
        self.estimate = self.isam.calculateEstimate()

    def pose(self, i: int) -> np.ndarray:
        return self.estimate.atPose3(key(i)).matrix()

    def poses(self) -> dict[int, np.ndarray]:
        return {i: self.estimate.atPose3(key(i)).matrix() for i in self.ids}

    def covariance(self, i: int) -> np.ndarray:
        """The marginal covariance of X_i, ROS order, body frame."""
        return to_ros_cov(self.isam.marginalCovariance(key(i)))
