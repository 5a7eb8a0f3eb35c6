"""sensor_msgs/PointCloud2 <-> structured numpy arrays with any fields (x, y, z, u, v, descriptor).

A field with count > 1 (a 32-byte ORB descriptor) becomes a sub-array column.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from astro_slam.msgs.errors import InvalidMessage
from astro_slam.msgs.factory import MessageFactory, as_numpy

# sensor_msgs/PointField datatype codes.
_DATATYPES = {
    1: np.int8,
    2: np.uint8,
    3: np.int16,
    4: np.uint16,
    5: np.int32,
    6: np.uint32,
    7: np.float32,
    8: np.float64,
}
_CODES = {np.dtype(v): k for k, v in _DATATYPES.items()}


def _cloud_dtype(msg: Any) -> np.dtype:
    names, formats, offsets = [], [], []
    order = '>' if msg.is_bigendian else '<'
    for f in msg.fields:
        if int(f.datatype) not in _DATATYPES:
            raise InvalidMessage(f'point field {f.name!r} has unknown datatype {f.datatype}')
        base = np.dtype(_DATATYPES[int(f.datatype)]).newbyteorder(order)
        count = int(f.count)
        names.append(str(f.name))
        formats.append((base, (count,)) if count > 1 else base)
        offsets.append(int(f.offset))
    try:
        return np.dtype(
            {
                'names': names,
                'formats': formats,
                'offsets': offsets,
                'itemsize': int(msg.point_step),
            }
        )
    except ValueError as err:
        raise InvalidMessage(f'point fields do not fit point_step: {err}') from None


def cloud_to_array(msg: Any) -> np.ndarray:
    """Structured array (height * width,) in native byte order, one record per point."""
    dtype = _cloud_dtype(msg)
    height, width = int(msg.height), int(msg.width)
    row_step, point_step = int(msg.row_step), int(msg.point_step)
    data = as_numpy(msg.data, np.uint8)
    if row_step < width * point_step or data.size < row_step * height:
        raise InvalidMessage(
            f'point cloud buffer of {data.size} bytes does not hold {height}x{width} points'
        )
    rows = data[: row_step * height].reshape(height, row_step)[:, : width * point_step]
    points = np.ascontiguousarray(rows).reshape(-1).view(dtype)
    native = [(name, points.dtype.fields[name][0].newbyteorder('=')) for name in dtype.names]
    return points.astype(np.dtype(native))


def array_to_cloud(factory: MessageFactory, points: np.ndarray, t_ns: int, frame_id: str) -> Any:
    """An unordered PointCloud2 (height 1) from a structured array with numeric fields."""
    if points.dtype.names is None:
        raise ValueError('points must be a structured array with named fields')
    packed = np.ascontiguousarray(points.astype(points.dtype.newbyteorder('<')))
    fields = []
    for name in packed.dtype.names:
        field_dtype, offset = packed.dtype.fields[name][:2]
        base, shape = field_dtype.subdtype or (field_dtype, ())
        code = _CODES.get(np.dtype(base).newbyteorder('='))
        if code is None:
            raise ValueError(f'field {name!r} has unsupported dtype {base}')
        fields.append(
            factory.make(
                'sensor_msgs/msg/PointField',
                name=name,
                offset=offset,
                datatype=code,
                count=int(np.prod(shape)) if shape else 1,
            )
        )
    step = packed.dtype.itemsize
    return factory.make(
        'sensor_msgs/msg/PointCloud2',
        header=factory.header(t_ns, frame_id),
        height=1,
        width=len(packed),
        fields=fields,
        is_bigendian=False,
        point_step=step,
        row_step=step * len(packed),
        data=packed.view(np.uint8).reshape(-1),
        is_dense=True,
    )
