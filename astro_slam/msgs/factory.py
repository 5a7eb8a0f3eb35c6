"""One factory for outgoing messages: rclpy classes on a ROS machine, rosbags classes offline.

Conversions build messages only through `MessageFactory.make(msgtype, **fields)`, bottom-up, so the
same conversion code serves a live node and the offline runner. Unset fields get zero defaults
(rosbags classes have none); numeric arrays are coerced to what each backend expects.
"""

from __future__ import annotations

import array
import functools
import importlib
from abc import ABC, abstractmethod
from typing import Any

import numpy as np

from astro_slam.msgs.time import ns_to_sec_nanosec

_NUMPY_DTYPES = {
    'bool': np.bool_,
    'byte': np.uint8,
    'char': np.uint8,
    'octet': np.uint8,
    'int8': np.int8,
    'uint8': np.uint8,
    'int16': np.int16,
    'uint16': np.uint16,
    'int32': np.int32,
    'uint32': np.uint32,
    'int64': np.int64,
    'uint64': np.uint64,
    'float32': np.float32,
    'float64': np.float64,
    'float': np.float32,
    'double': np.float64,
}
# array.array type codes that rosidl_python setters accept for unbounded sequences.
_ARRAY_CODES = {
    'int8': 'b',
    'uint8': 'B',
    'int16': 'h',
    'uint16': 'H',
    'int32': 'i',
    'uint32': 'I',
    'int64': 'q',
    'uint64': 'Q',
    'float': 'f',
    'double': 'd',
}


def msgtype_of(msg: Any) -> str:
    """The type name (pkg/msg/Name) of a rosbags or rclpy message instance."""
    msgtype = getattr(msg, '__msgtype__', None)
    if msgtype:
        return msgtype
    cls = type(msg)
    package = cls.__module__.split('.')[0]
    return f'{package}/msg/{cls.__name__}'


class MessageFactory(ABC):
    """Builds messages by type name; see the module docstring."""

    backend: str

    @abstractmethod
    def make(self, msgtype: str, **fields: Any) -> Any:
        """A message of `msgtype` ('sensor_msgs/msg/Image') with the given fields set."""

    def time(self, t_ns: int) -> Any:
        sec, nanosec = ns_to_sec_nanosec(t_ns)
        return self.make('builtin_interfaces/msg/Time', sec=sec, nanosec=nanosec)

    def header(self, t_ns: int, frame_id: str) -> Any:
        return self.make('std_msgs/msg/Header', stamp=self.time(t_ns), frame_id=frame_id)


class RosbagsFactory(MessageFactory):
    """Offline backend: rosbags typestore classes (ROS 2 Jazzy definitions by default)."""

    backend = 'rosbags'

    def __init__(self, typestore: Any = None) -> None:
        if typestore is None:
            from rosbags.typesys import Stores, get_typestore

            typestore = get_typestore(Stores.ROS2_JAZZY)
        self.typestore = typestore

    def make(self, msgtype: str, **fields: Any) -> Any:
        try:
            _, fielddefs = self.typestore.fielddefs[msgtype]
        except KeyError:
            raise TypeError(f'unknown message type {msgtype!r}') from None
        names = {name for name, _ in fielddefs}
        if unknown := set(fields) - names:
            raise TypeError(f'{msgtype} has no field(s) {sorted(unknown)}')
        kwargs = {
            name: self._coerce(desc, fields[name]) if name in fields else self._default(desc)
            for name, desc in fielddefs
        }
        return self.typestore.types[msgtype](**kwargs)

    def serialize(self, msg: Any) -> bytes:
        """CDR bytes of a message, for writing bags."""
        return bytes(self.typestore.serialize_cdr(msg, msgtype_of(msg)))

    def _default(self, desc: tuple) -> Any:
        kind, args = desc[0].name, desc[1]
        if kind == 'BASE':
            return _zero(args[0])
        if kind == 'NAME':
            return self.make(args)
        (sub_kind, sub_args), length = args
        if sub_kind.name == 'BASE' and sub_args[0] in _NUMPY_DTYPES:
            return np.zeros(length if kind == 'ARRAY' else 0, dtype=_NUMPY_DTYPES[sub_args[0]])
        if kind == 'SEQUENCE':
            return []
        return [self._default((sub_kind, sub_args)) for _ in range(length)]

    @staticmethod
    def _coerce(desc: tuple, value: Any) -> Any:
        kind, args = desc[0].name, desc[1]
        if kind in ('ARRAY', 'SEQUENCE'):
            sub_kind, sub_args = args[0]
            if sub_kind.name == 'BASE' and sub_args[0] in _NUMPY_DTYPES:
                return as_numpy(value, _NUMPY_DTYPES[sub_args[0]])
            return list(value)
        if kind == 'BASE' and isinstance(value, np.generic):
            return value.item()
        return value


class RclpyFactory(MessageFactory):
    """Live backend: the generated rclpy classes (needs a sourced ROS 2 environment)."""

    backend = 'rclpy'

    def make(self, msgtype: str, **fields: Any) -> Any:
        cls = _rclpy_class(msgtype)
        types = cls.get_fields_and_field_types()
        return cls(**{name: _rclpy_value(types[name], value) for name, value in fields.items()})


@functools.cache
def _rclpy_class(msgtype: str) -> Any:
    package, kind, name = msgtype.split('/')
    return getattr(importlib.import_module(f'{package}.{kind}'), name)


def _rclpy_value(field_type: str, value: Any) -> Any:
    """Coerces numpy values to what rosidl_python setters accept without a slow element check."""
    if field_type.startswith('sequence<') and isinstance(value, (np.ndarray, bytes, bytearray)):
        inner = field_type[len('sequence<') : -1].split(',')[0]
        if inner in _ARRAY_CODES:
            return array.array(
                _ARRAY_CODES[inner], as_numpy(value, _NUMPY_DTYPES[inner]).tobytes()
            )
    if field_type.endswith(']') and isinstance(value, (np.ndarray, list, tuple)):
        inner = field_type.split('[')[0]
        if inner in _NUMPY_DTYPES:
            return as_numpy(value, _NUMPY_DTYPES[inner])
    if field_type == 'octet' and isinstance(value, (int, np.integer)):
        return bytes([int(value)])
    if field_type in ('double', 'float'):
        return float(value)
    if field_type in _ARRAY_CODES or field_type.startswith(('int', 'uint')):
        return int(value)
    if field_type == 'boolean':
        return bool(value)
    return value


def as_numpy(value: Any, dtype: Any) -> np.ndarray:
    """A 1-D numpy array of `dtype` from an ndarray, array.array, bytes or a list."""
    if isinstance(value, np.ndarray):
        return np.ascontiguousarray(value.reshape(-1), dtype=dtype)
    if isinstance(value, (bytes, bytearray, memoryview)):
        return np.frombuffer(value, dtype=np.uint8).astype(dtype, copy=False)
    return np.asarray(value, dtype=dtype).reshape(-1)


def _zero(base_type: str) -> Any:
    if base_type == 'string':
        return ''
    if base_type == 'bool':
        return False
    if base_type.startswith('float'):
        return 0.0
    return 0


@functools.cache
def default_factory() -> RosbagsFactory:
    """The shared offline factory (building a typestore takes ~0.1 s, so it is made once)."""
    return RosbagsFactory()
