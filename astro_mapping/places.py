"""The saved map's places as the backend searches them: each place's landmarks brought into
its camera frame, with the pixels where the map's camera saw them."""

from __future__ import annotations

from astro_mapping.layers import LongTermMap
from astro_slam.backend.core import MapPlace
from astro_slam.backend.place_model import PlaceEncoder
from astro_slam.backend.verification import KeyframeView


def map_places(m: LongTermMap, vocabulary: PlaceEncoder | None = None) -> list[MapPlace]:
    """With `vocabulary`, each place also gets its place vector: every landmark is prepared
    (assigned its word) once, instead of once per place that refers to it."""
    prepared = vocabulary.prepare(m.landmarks.descriptors) if vocabulary is not None else None
    rows_of = m.landmarks.row_finder()
    out = []
    for place in m.places:
        rows = rows_of(place.landmark_ids)
        xyz = m.in_camera(place, rows)
        front = xyz[:, 2] > 1e-3
        xyz, rows = xyz[front], rows[front]
        xy = xyz[:, :2] / xyz[:, 2:3] * m.K[[0, 1], [0, 1]] + m.K[:2, 2]
        view = KeyframeView(xyz, xy, m.landmarks.descriptors[rows], m.landmarks.ids[rows])
        vector = vocabulary.vector_of(prepared, rows) if vocabulary is not None else None
        out.append(
            MapPlace(place.t_ns, place.T_map_base.copy(), m.T_base_camera.copy(), view, vector)
        )
    return out
