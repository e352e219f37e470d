"""103 Early Hints: remember each path's preload links, replay them before the next response.

Pure: no Flask, no Werkzeug. A view's ``push()`` calls are known only once it has run, so, as
Cloudflare does, the links a path's last response carried are kept in a per-process LRU and
sent as a ``103 Early Hints`` (RFC 8297) on the next request for that path, before the view
runs, minus the resources the client's digest says it already holds.

RFC 8297 §2: a server MAY send a 103 with the header fields it expects the final response
to carry; the client MUST NOT treat them as the final response's. So a 103 may only hint
what the page itself links to, and a stale entry costs at worst one wasted preload.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Container, Iterable
from typing import Generic, Protocol, TypeVar

__all__ = ["MAX_PATH_LENGTH", "Hint", "HintCache", "early_hints_headers"]

#: The longest path learned: with the Link budget, it bounds an entry in bytes (made-up
#: paths answered 200 by a catch-all route cannot fill the cache with long keys).
MAX_PATH_LENGTH = 512


class Hint(Protocol):
    """A link a page wrote: what the connector remembers, the link-value, whether tracked."""

    @property
    def key(self) -> str: ...

    @property
    def link(self) -> str: ...

    @property
    def tracked(self) -> bool: ...


_HintT = TypeVar("_HintT", bound=Hint)


def early_hints_headers(
    hints: Iterable[Hint], held: Container[str], budget: int
) -> list[tuple[str, str]]:
    """The headers of a 103 for ``hints``: every link but the tracked ones the client holds.

    One ``Link`` header, comma-joined as the final response writes it, of at most
    ``budget`` bytes (links past it are left out, in order); ``[]`` when nothing is left,
    so the caller sends no 103 at all. Links the digest does not track (preconnects,
    ``nopush`` preloads) are always kept: nothing says the client has them.
    """
    links: list[str] = []
    size = -2  # no ", " before the first link
    for hint in hints:
        if hint.tracked and hint.key in held:
            continue
        size += 2 + len(hint.link)
        if size > budget:
            break
        links.append(hint.link)
    return [("Link", ", ".join(links))] if links else []


class HintCache(Generic[_HintT]):
    """A bounded, thread-safe LRU: request path -> the links its last response carried.

    ``learn`` replaces a path's entry (a changed page is learned again) and forgets it when
    the page linked nothing; ``get`` marks the entry recently used. Past ``max_entries``
    the least recently used path is dropped.
    """

    def __init__(self, max_entries: int) -> None:
        if isinstance(max_entries, bool) or not isinstance(max_entries, int) or max_entries < 1:
            raise ValueError(f"a HintCache needs max_entries >= 1, got {max_entries!r}")
        self.max_entries = max_entries
        self._entries: OrderedDict[str, tuple[_HintT, ...]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, path: str) -> tuple[_HintT, ...] | None:
        """The links learned for ``path``, or None when it was never learned (or dropped)."""
        with self._lock:
            hints = self._entries.get(path)
            if hints is not None:
                self._entries.move_to_end(path)
            return hints

    def learn(self, path: str, hints: Iterable[_HintT], budget: int) -> None:
        """Remember ``path``'s first hints within ``budget`` bytes of links, in place of
        what was known: a 103 never carries more, and an entry is bounded in bytes. A path
        longer than :data:`MAX_PATH_LENGTH` is not learned."""
        if len(path) > MAX_PATH_LENGTH:
            return
        learned = []
        size = -2  # no ", " before the first link
        for hint in hints:
            size += 2 + len(hint.link)
            if size > budget:
                break
            learned.append(hint)
        with self._lock:
            if not learned:
                self._entries.pop(path, None)
                return
            self._entries[path] = tuple(learned)
            self._entries.move_to_end(path)
            if len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)

    def __len__(self) -> int:
        with self._lock:  # never seen between learn()'s insert and its eviction
            return len(self._entries)

    def __contains__(self, path: object) -> bool:
        """Whether ``path`` is learned, without marking it used."""
        with self._lock:
            return path in self._entries
