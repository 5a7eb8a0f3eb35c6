"""Reads what survives of an MCAP file whose recorder died before writing its summary.

`ros2 bag record` killed with SIGKILL, or a robot losing power, leaves an .mcap without footer
or index, which indexed readers refuse. The record stream up to the damage is still valid:
this module walks it with the `mcap` stream reader and deserialises the messages whose types
the typestore knows.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mcap.records import Channel, Message, Schema
from mcap.stream_reader import StreamReader

logger = logging.getLogger(__name__)


@dataclass
class SalvageIndex:
    """What a first pass found: topics, their types, the time span and the message count."""

    topics: dict[str, str] = field(default_factory=dict)
    start_ns: int = 0
    end_ns: int = 0
    message_count: int = 0


def _records(path: Path) -> Iterator[Any]:
    """Records in file order until the damage (any exception there ends the stream)."""
    with path.open('rb') as stream:
        reader = StreamReader(stream, skip_magic=False, validate_crcs=True)
        try:
            yield from reader.records
        except Exception as err:  # EndOfFile, a torn record or a bad CRC: the damage begins
            logger.debug('%s: stream ends at damage: %s', path, err)


def scan(path: Path) -> SalvageIndex:
    """First pass over the readable part of the file."""
    index = SalvageIndex()
    schemas: dict[int, str] = {}
    channels: dict[int, str] = {}
    for record in _records(path):
        if isinstance(record, Schema):
            schemas[record.id] = record.name
        elif isinstance(record, Channel):
            channels[record.id] = record.topic
            index.topics[record.topic] = schemas.get(record.schema_id, '')
        elif isinstance(record, Message):
            index.start_ns = (
                record.log_time
                if not index.message_count
                else min(index.start_ns, record.log_time)
            )
            index.end_ns = max(index.end_ns, record.log_time)
            index.message_count += 1
    return index


def messages(path: Path, topics: set[str], typestore: Any) -> Iterator[tuple[str, int, Any]]:
    """(topic, log time ns, message) in file order, for types the typestore knows."""
    channels: dict[int, tuple[str, str]] = {}
    schemas: dict[int, str] = {}
    for record in _records(path):
        if isinstance(record, Schema):
            schemas[record.id] = record.name
        elif isinstance(record, Channel):
            channels[record.id] = (record.topic, schemas.get(record.schema_id, ''))
        elif isinstance(record, Message) and record.channel_id in channels:
            topic, msgtype = channels[record.channel_id]
            if topic in topics and msgtype in typestore.types:
                yield topic, record.log_time, typestore.deserialize_cdr(record.data, msgtype)
