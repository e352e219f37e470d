"""What the bounded caches count for the memory they keep: an object counted once however
many entries hold it, and a dict's place for each entry.

Each cache of server state is bounded in bytes by these counts (docs/performance.md lists
the caches and what each saves).
"""

from __future__ import annotations

import sys
from collections.abc import Iterable

__all__ = ["CHURNED_DICT_SLOT", "DICT_SLOT", "unique_size"]


#: A place in a dict only added to, then emptied whole (no key is ever deleted): its
#: entry (hash, key and value, 24 bytes) and its index, with the room the table keeps free
#: after it grows. CPython doubles a full table, so it holds at most two entries and three
#: index slots of up to 4 bytes for each live entry: 60 bytes (``Objects/dictobject.c``:
#: ``GROWTH_RATE``, ``USABLE_FRACTION``).
DICT_SLOT = 64
#: A place in a dict whose keys come and go (an LRU, a key deleted and added again), at
#: most: a deleted entry keeps its place until the table is resized, and CPython resizes a
#: dict whose entries (live and deleted) fill its table to a table of 3 to 6 times its
#: live entries, each slot 16 or 24 bytes of entry for 2/3 of it and an index of up to 4
#: bytes (``Objects/dictobject.c``: ``GROWTH_RATE``, ``USABLE_FRACTION``). Below three
#: live entries the smallest tables are more: 160 bytes for one (8 slots), 288 for two
#: (16 slots), up to 48 bytes in all past the count.
CHURNED_DICT_SLOT = 6 * (24 * 2 // 3 + 4)


def unique_size(objects: Iterable[object]) -> int:
    """The bytes of ``objects``, each counted once however often it comes (None never)."""
    unique = {id(value): value for value in objects if value is not None}
    return sum(map(sys.getsizeof, unique.values()))
