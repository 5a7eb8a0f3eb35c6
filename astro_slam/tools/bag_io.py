"""ROS 2 bags with rosbags: checked opening, tolerant reading, and writing with offered QoS.

Every way a bag can be unusable ends in BagError with one line that says what is wrong.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from astro_slam.framework.component import LATCHED, SENSOR
from astro_slam.msgs.factory import RosbagsFactory, msgtype_of

STORAGE_SUFFIXES = ('.mcap', '.db3')


class BagError(Exception):
    """A bag that cannot be read or written; str() is one line for the user."""


class BagTruncated(BagError):
    """Reading stopped early; `count` messages were read before the damage."""

    def __init__(self, message: str, count: int) -> None:
        super().__init__(message)
        self.count = count


def bag_name(path: Path) -> str:
    """A folder name for a bag: the directory name, or the file name without its suffix."""
    return path.name if path.is_dir() else path.stem


def check_bag_path(path: str | Path) -> Path:
    """The path rosbags should open: a rosbag2 folder, or a lone .mcap/.db3 file.

    A folder without metadata.yaml but with exactly one storage file (a bag whose recorder was
    killed before writing metadata) is read through that file.
    """
    path = Path(path)
    if not path.exists():
        raise BagError(f'{path}: no such file or directory')
    if path.is_file():
        if path.suffix not in STORAGE_SUFFIXES:
            raise BagError(f'{path}: not a ROS 2 bag (expected a folder, .mcap or .db3)')
        return path
    if (path / 'metadata.yaml').exists():
        return path
    storage = sorted(p for p in path.iterdir() if p.suffix in STORAGE_SUFFIXES)
    if len(storage) == 1:
        return storage[0]
    if not storage:
        raise BagError(f'{path}: not a ROS 2 bag (no metadata.yaml, .mcap or .db3 inside)')
    raise BagError(f'{path}: {len(storage)} storage files and no metadata.yaml; give one file')


class BagReader:
    """Reads one bag in timestamp order; use as a context manager.

    Attributes:
        topics: topic name -> message type, of everything in the bag.
        start_ns, end_ns: the bag's time span, from its index.
        message_count: messages the index announces (a truncated bag yields fewer).
    """

    def __init__(self, path: str | Path, typestore: Any = None) -> None:
        self.path = check_bag_path(path)
        self._typestore = typestore or RosbagsFactory().typestore
        self._reader: Any = None
        self._salvage_path: Path | None = None
        self.salvaged = ''  # why the bag was read through the salvage path, if it was

    def __enter__(self) -> BagReader:
        from rosbags.highlevel import AnyReader

        try:
            self._reader = AnyReader([self.path], default_typestore=self._typestore)
            self._reader.open()
        except Exception as err:  # rosbags, sqlite3, mcap and YAML errors all mean "unreadable"
            self._reader = None
            if not self._open_salvage(err):
                raise BagError(f'{self.path}: cannot open bag ({_reason(err)})') from None
            return self
        reader = self._reader
        self.topics = {c.topic: c.msgtype for c in reader.connections}
        self.start_ns, self.end_ns = reader.start_time, reader.end_time
        self.message_count = reader.message_count
        return self

    def _open_salvage(self, err: Exception) -> bool:
        """Falls back to the record stream of an .mcap without summary; False if hopeless."""
        from astro_slam.tools import mcap_salvage

        storage = self.path if self.path.is_file() else next(self.path.glob('*.mcap'), None)
        if storage is None or storage.suffix != '.mcap':
            return False
        index = mcap_salvage.scan(storage)
        if not index.message_count:
            return False
        self._salvage_path = storage
        self.topics, self.message_count = index.topics, index.message_count
        self.start_ns, self.end_ns = index.start_ns, index.end_ns
        self.salvaged = (
            f'{self.path}: index unreadable ({_reason(err)}); read '
            f'{index.message_count} messages from the record stream up to the damage'
        )
        return True

    def __exit__(self, *exc: object) -> None:
        if self._reader is not None:
            # Closing a damaged bag must not hide the original error.
            with contextlib.suppress(Exception):
                self._reader.close()

    def messages(self, topics: set[str]) -> Iterator[tuple[str, int, Any]]:
        """(topic, log time ns, message) for the given topics, in log-time order.

        Raises:
            BagTruncated: the bag is damaged after some messages; they were yielded already.
        """
        if self._salvage_path is not None:
            from astro_slam.tools import mcap_salvage

            yield from mcap_salvage.messages(self._salvage_path, topics, self._typestore)
            return
        reader, count = self._reader, 0
        connections = [c for c in reader.connections if c.topic in topics]
        if not connections:
            return
        try:
            for connection, t_ns, raw in reader.messages(connections=connections):
                yield connection.topic, t_ns, reader.deserialize(raw, connection.msgtype)
                count += 1
        except BagError:
            raise
        except Exception as err:
            raise BagTruncated(
                f'{self.path}: bag damaged after {count} messages ({_reason(err)})', count
            ) from None


def _reason(err: BaseException) -> str:
    text = str(err).strip().splitlines()
    return f'{type(err).__name__}: {text[0]}' if text else type(err).__name__


def _qos_profile(qos_class: str) -> Any:
    from rosbags.interfaces import (
        Qos,
        QosDurability,
        QosHistory,
        QosLiveliness,
        QosReliability,
        QosTime,
    )

    zero = QosTime(0, 0)
    reliability = QosReliability.BEST_EFFORT if qos_class == SENSOR else QosReliability.RELIABLE
    durability = QosDurability.TRANSIENT_LOCAL if qos_class == LATCHED else QosDurability.VOLATILE
    return Qos(
        QosHistory.KEEP_LAST,
        1 if qos_class == LATCHED else 10,
        reliability,
        durability,
        zero,
        zero,
        QosLiveliness.AUTOMATIC,
        zero,
        False,
    )


class BagWriter:
    """Writes messages to a new rosbag2 folder (mcap by default), adding topics as they come.

    The offered QoS of each topic is recorded, so `ros2 bag play` republishes /map and
    /tf_static transient-local, as the nodes would.
    """

    def __init__(self, path: str | Path, factory: RosbagsFactory, storage: str = 'mcap') -> None:
        from rosbags.rosbag2 import StoragePlugin, Writer

        plugins = {'mcap': StoragePlugin.MCAP, 'sqlite3': StoragePlugin.SQLITE3}
        if storage not in plugins:
            raise BagError(f'unknown storage {storage!r}; use mcap or sqlite3')
        self.path = Path(path)
        self.factory = factory
        try:
            self._writer = Writer(self.path, version=8, storage_plugin=plugins[storage])
            self._writer.open()
        except Exception as err:
            raise BagError(f'{self.path}: cannot create bag ({_reason(err)})') from None
        self._connections: dict[str, Any] = {}
        self.counts: dict[str, int] = {}

    def write(self, topic: str, msg: Any, t_ns: int, qos_class: str = 'state') -> None:
        connection = self._connections.get(topic)
        if connection is None:
            connection = self._connections[topic] = self._writer.add_connection(
                topic,
                msgtype_of(msg),
                typestore=self.factory.typestore,
                offered_qos_profiles=[_qos_profile(qos_class)],
            )
            self.counts[topic] = 0
        self._writer.write(connection, t_ns, self.factory.serialize(msg))
        self.counts[topic] += 1

    def close(self) -> None:
        self._writer.close()

    def __enter__(self) -> BagWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
