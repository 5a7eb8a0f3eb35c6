"""Place vectors of keyframes in a faiss inner-product index: which earlier keyframes look alike.

Keyframes are indexed in arrival order, so "older than the recent past" is an id range that
faiss filters during the search instead of after it.
"""

from __future__ import annotations

import logging

import numpy as np

# faiss logs at INFO each CPU extension it tries before the one that loads.
logging.getLogger('faiss.loader').setLevel(logging.WARNING)
import faiss  # noqa: E402


class PlaceIndex:
    def __init__(self, dim: int) -> None:
        self.index = faiss.IndexFlatIP(dim)

    def __len__(self) -> int:
        return int(self.index.ntotal)

    def add(self, vector: np.ndarray) -> int:
        """Indexes a place vector; returns its id (0, 1, 2, ... in order)."""
        self.index.add(np.asarray(vector, np.float32).reshape(1, -1))
        return len(self) - 1

    def search(
        self, vector: np.ndarray, k: int, before: int | None = None
    ) -> list[tuple[int, float]]:
        """The k most similar places among ids < before (all when None), best first."""
        limit = len(self) if before is None else min(before, len(self))
        if limit <= 0 or k <= 0:
            return []
        params = faiss.SearchParameters(sel=faiss.IDSelectorRange(0, limit))
        scores, ids = self.index.search(
            np.asarray(vector, np.float32).reshape(1, -1), min(k, limit), params=params
        )
        return [(int(i), float(s)) for i, s in zip(ids[0], scores[0], strict=True) if i >= 0]
