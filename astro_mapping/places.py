"""The saved map's places as the backend searches them: each place's landmarks brought into
its camera frame, with the pixels where the map's camera saw them."""

from __future__ import annotations

import numpy as np

from astro_mapping.layers import LongTermMap
from astro_slam.backend.core import MapPlace
from astro_slam.backend.verification import KeyframeView
from astro_slam.transforms import inverse


def map_places(m: LongTermMap) -> list[MapPlace]:
    row = {i: j for j, i in enumerate(m.landmarks.ids.tolist())}
    out = []
    for place in m.places:
        rows = np.array([row[i] for i in place.landmark_ids.tolist() if i in row], int)
        T_cam_map = inverse(place.T_map_base @ m.T_base_camera)
        xyz = m.landmarks.xyz[rows].astype(float) @ T_cam_map[:3, :3].T + T_cam_map[:3, 3]
        front = xyz[:, 2] > 1e-3
        xyz, rows = xyz[front], rows[front]
        xy = xyz[:, :2] / xyz[:, 2:3] * m.K[[0, 1], [0, 1]] + m.K[:2, 2]
        view = KeyframeView(xyz, xy, m.landmarks.descriptors[rows], m.landmarks.ids[rows])
        out.append(MapPlace(place.t_ns, place.T_map_base.copy(), m.T_base_camera.copy(), view))
    return out
