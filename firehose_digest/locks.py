"""The locks of the per-process caches, taken across a fork.

A fork copies the process with one thread, the forking one: gunicorn with ``--preload``
forks its workers from the master that imported the app, multiprocessing's ``fork`` start
method from any thread of a threaded server (uWSGI forks from C, and runs Python's fork
hooks only with ``--py-call-uwsgi-fork-hooks`` (2.0.27 on): docs/deployment.md). A lock another
thread held at that moment stays held in the child, where no thread releases it: the
child's first request that takes it waits forever. So every lock made here is taken
before a fork and released after it, in the parent and in the child, as ``logging``
takes its module lock (``Lib/logging/__init__.py``): the child gets each lock free and
each cache whole, never halfway through a change. Each is held only while a cache
changes in memory, so a fork waits at most that long; past :data:`FORK_WAIT` the lock is
held by a thread that cannot go on until the fork returns (a signal handler forking in
the thread it interrupted), and the fork goes on without it: that thread releases it in
each process.
"""

from __future__ import annotations

import os
import threading
import weakref

__all__ = ["fork_safe_lock"]

#: Every lock :func:`fork_safe_lock` made that is still alive (a cache of an app that is
#: gone goes with it).
_locks: weakref.WeakSet[threading.Lock] = weakref.WeakSet()
#: Held while a lock is added to ``_locks``, and across a fork: none is added meanwhile.
_registry_lock = threading.Lock()
#: The locks taken for the fork under way, released after it in both processes.
_taken: list[threading.Lock] = []
#: Seconds a fork waits for each lock: far longer than any cache change holds one.
FORK_WAIT = 2.0


def fork_safe_lock() -> threading.Lock:
    """A ``threading.Lock`` that a fork waits for, up to :data:`FORK_WAIT`, and both
    processes get back free. Whoever holds one takes no other: a fork meanwhile would
    wait for the one it holds, then leave its child the other held by a thread it lacks."""
    lock = threading.Lock()
    with _registry_lock:
        _locks.add(lock)
    return lock


def _take_all() -> None:
    for lock in [_registry_lock, *_locks]:
        if lock.acquire(timeout=FORK_WAIT):
            _taken.append(lock)


def _release_all() -> None:
    for lock in _taken:
        lock.release()
    _taken.clear()


if hasattr(os, "register_at_fork"):  # Windows has no fork
    os.register_at_fork(
        before=_take_all, after_in_parent=_release_all, after_in_child=_release_all
    )
