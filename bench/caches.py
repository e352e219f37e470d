"""What four of the package's caches save, server-side (docs/performance.md cites this).

The GCS return visit of :mod:`bench.server_cost` (300 resources held, 10 pushed, all
``nopush``), timed as shipped and with one cache switched off at a time, in interleaved
rounds, against the by-hand floor:

- *decoded digests*: ``DigestConnector`` keeps each verified cookie value's decoded digest,
  so a returning client's request skips the HMAC, base64 and GCS decoding; switched off,
  every request verifies and decodes its cookie;
- *answers*: each decoded digest keeps its answers to ``key in held`` (up to
  ``held_digests.MAX_ANSWERS`` keys); switched off, each is asked of the digest: a hash and
  a search of both generations;
- *plans*: the app's ``LinkPlanner`` keeps each page's plan under the client's answers;
  switched off, every response decides each of its links (``links.plan_links``);
- *push() resources*: ``push()`` keeps what it made of its arguments (the validated,
  formatted link), so a page's pushes are dictionary lookups; switched off, every push
  validates and formats its link.

It reaches into private names to switch them off: a measurement, not an API.

Run: ``python -m bench.caches [--quick]``.
"""

from __future__ import annotations

import argparse
import gc
import statistics
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, nullcontext
from typing import Any

from werkzeug.test import EnvironBuilder

from firehose_digest import collect
from firehose_digest.digests import NOT_HELD
from firehose_digest.held_digests import HeldDigest

from .report import GENERATED, machine, markdown_table, write
from .server_cost import build, return_visit, timed_calls

VARIANTS = (
    "by-hand",
    "as shipped",
    "no decoded-digest cache",
    "no answers kept",
    "no plans kept",
    "no push() cache",
)


class _Unkept(HeldDigest):
    """What a client holds, every answer asked of the digest again."""

    __slots__ = ()

    def __missing__(self, key: object) -> int:
        return self.digest.generation_of(key) if isinstance(key, str) else NOT_HELD


@contextmanager
def _no_push_cache() -> Iterator[None]:
    remember = collect._remember_resource
    collect._remember_resource = lambda arguments, resource: None
    saved = dict(collect._resources)
    collect._resources.clear()
    try:
        yield
    finally:
        collect._remember_resource = remember
        collect._resources.update(saved)


def measure(rounds: int, calls: int) -> dict[str, float]:
    """Median per-round ratio of each variant to the by-hand floor."""
    cookie, links = return_visit("gcs")
    apps = {
        "by-hand": build("by-hand", links),
        "as shipped": build("gcs"),
        "no decoded-digest cache": build("gcs"),
        "no answers kept": build("gcs"),
        "no plans kept": build("gcs"),
        "no push() cache": build("gcs"),
    }
    unplanned = apps["no plans kept"].extensions["firehose"].planner
    unplanned.plan = unplanned.plan_uncached
    uncached = apps["no decoded-digest cache"]
    state = uncached.extensions["firehose"].connector._state(uncached)
    state._store = lambda codec, value, expires_at, digest: HeldDigest(digest, expires_at)
    around: dict[str, Callable[[], Any]] = {name: nullcontext for name in VARIANTS}
    around["no push() cache"] = _no_push_cache
    base = EnvironBuilder(path="/page", headers=[("Cookie", cookie)]).get_environ()

    def timed(name: str) -> float:
        # Correctness as it measures: every variant writes what the shipped one does.
        with around[name]():
            return timed_calls(apps[name], base, calls, name, links) / calls

    for name in VARIANTS:
        timed(name)
    # The decoded cookie, now cached, answers without keeping its answers.
    unkept = apps["no answers kept"]
    decoded = unkept.extensions["firehose"].connector._state(unkept)._decoded
    for value, held in list(decoded.items()):
        decoded[value] = _Unkept(held.digest, held.expires_at)
    # Each variant is timed right after the floor, and divided by it; the floor is run once
    # untimed first, so it is never timed just after a heavy variant (a cache switched off)
    # and every variant has the same warm neighbour.
    variants = VARIANTS[1:]
    ratios: dict[str, list[float]] = {name: [] for name in variants}
    gc.collect()
    gc.freeze()
    try:
        for index in range(rounds):
            shift = index % len(variants)
            gc.collect()
            gc.disable()
            try:
                for name in variants[shift:] + variants[:shift]:
                    timed("by-hand")
                    floor = timed("by-hand")
                    ratios[name].append(timed(name) / floor)
            finally:
                gc.enable()
    finally:
        gc.unfreeze()
    return {"by-hand": 1.0} | {name: statistics.median(ratios[name]) for name in variants}


def markdown(ratios: dict[str, float], rounds: int, calls: int) -> str:
    shipped = ratios["as shipped"]
    rows = [
        [name, f"{ratio:.3f}", "" if name == "by-hand" else f"{ratio - shipped:+.3f}"]
        for name, ratio in ratios.items()
    ]
    return (
        GENERATED + "# What each cache saves\n\n"
        "The GCS return visit of `bench/server_cost.py` (300 held, 10 pushed), as shipped and "
        f"with one cache switched off, {rounds} interleaved rounds of {calls} requests "
        "(`bench/caches.py`); each variant timed right after the app writing the same "
        "headers by hand, the median of those ratios.\n\n"
        + markdown_table(["variant", "x by hand", "vs as shipped"], rows)
        + f"\n{machine()}.\n"
    )


def run(quick: bool = False) -> dict[str, float]:
    """Measure, write ``caches.md``, return each variant's ratio to the by-hand floor."""
    rounds, calls = (100 if quick else 500), 20
    ratios = measure(rounds, calls)
    write("caches.md", markdown(ratios, rounds, calls))
    return ratios


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.caches", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--quick", action="store_true", help="fewer rounds")
    args = parser.parse_args(argv)
    for name, ratio in run(args.quick).items():
        print(f"{name:28}{ratio:8.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
