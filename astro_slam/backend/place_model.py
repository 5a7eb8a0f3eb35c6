"""Which place vectors the backend indexes: a bag of ORB words or VLAD of learned descriptors.

The model must fit the descriptors the visual odometry sends, so the default follows the
`features` parameter (the same on both nodes): ORB gets the shipped ORB vocabulary, learned
features the shipped VLAD centres of learned descriptors. A file given instead is recognised
by the format it records.
"""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Protocol

import numpy as np

from astro_slam.backend.vlad import DEFAULT_VLAD, VladEncoder
from astro_slam.backend.vlad import FORMAT as VLAD_FORMAT
from astro_slam.backend.vocabulary import DEFAULT_VOCABULARY, Vocabulary
from astro_slam.backend.vocabulary import FORMAT as BOW_FORMAT

SHIPPED = {'orb': DEFAULT_VOCABULARY, 'learned': DEFAULT_VLAD}


class PlaceModelError(ValueError):
    """A place model file that is missing, corrupt or of no known format."""


class PlaceEncoder(Protocol):
    """Binary descriptors of one place in, one L2-normalised place vector out."""

    @property
    def size(self) -> int: ...  # length of a place vector

    @property
    def descriptor_size(self) -> int: ...  # bytes per descriptor

    def prepare(self, descriptors: np.ndarray) -> object: ...

    def vector_of(self, prepared: object, rows) -> np.ndarray: ...

    def vector(self, descriptors: np.ndarray) -> np.ndarray: ...


def load_place_model(path: str | Path | None, features: str = 'orb') -> PlaceEncoder:
    """The model in `path`, or the one shipped for `features` when path is empty."""
    if not path:
        if features not in SHIPPED:
            raise PlaceModelError(f'no place model ships for features {features!r}')
        path = SHIPPED[features]
    path = Path(path)
    try:
        with np.load(path, allow_pickle=False) as data:
            kind = str(data['format'])
    except (OSError, KeyError, ValueError, EOFError, zipfile.BadZipFile) as err:
        raise PlaceModelError(f'{path}: not a place model file ({err})') from None
    try:
        if kind == BOW_FORMAT:
            return Vocabulary.load(path)
        if kind == VLAD_FORMAT:
            return VladEncoder.load(path)
    except ValueError as err:
        raise PlaceModelError(str(err)) from None
    raise PlaceModelError(f'{path}: format {kind!r} is neither {BOW_FORMAT} nor {VLAD_FORMAT}')
