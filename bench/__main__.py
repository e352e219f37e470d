"""``python -m bench`` (``make bench``): every suite, its tables and plots, and a summary.

Suites, each writing ``bench/results/<suite>.md`` (and a ``.png`` where it plots):

- ``cookie_size``: the cookie each scheme sends for n remembered urls;
- ``server_cost``: a return visit's time through the WSGI callable as a ratio to the same
  app writing the same headers by hand (the headline request cost);
- ``caches``: what four of the package's caches (decoded digests, their answers, link
  plans, ``push()``'s resources) save on that return visit, each switched off in turn;
- ``request_cost``: request time through the test client as a ratio to the same app
  without the extension, and a profile of where ours goes;
- ``memory``: the server's growth over 1,500 distinct returning clients;
- ``fpr``: the false-positive rate over fill, aging digests vs CASPER;
- ``e2e``: browses behind real nginx and h2o (skipped when they are not installed);
- ``hostile``: the test suite's hostile cookies, timed against a first visit.

Each checks correctness as it measures and compares within one run. ``--quick`` runs a
fifth of the rounds of ``server_cost`` and ``caches``, ``request_cost`` at 300 held and 10
pushes alone (7 rounds of 100 requests, not 15 of 200, and a quarter of its profile),
``memory`` over 300 clients, ``fpr`` with a quarter of the probes and ``hostile`` with
every fourth header; ``cookie_size`` and ``e2e`` run as they are. Under 25 minutes either
way on 2 cores (21 on a loaded shared machine, 2026-12-05; about 7 on a quiet one).
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any

from . import caches, cookie_size, e2e, fpr, hostile, memory, request_cost_report, server_cost
from .report import RESULTS_DIR, write
from .summary import Run, summary_markdown

SUITES: dict[str, Callable[[bool], Any]] = {
    "cookie_size": cookie_size.run,
    "server_cost": server_cost.run,
    "caches": caches.run,
    "request_cost": request_cost_report.run,
    "memory": memory.run,
    "fpr": fpr.run,
    "e2e": e2e.run,
    "hostile": hostile.run,
}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick", action="store_true", help="fewer rounds, clients and probes (bench/__main__.py)"
    )
    parser.add_argument(
        "--only",
        action="append",
        choices=sorted(SUITES),
        help="run only this suite (repeatable); the summary marks the others 'not run'",
    )
    args = parser.parse_args(argv)
    run = Run(quick=args.quick)
    started = time.monotonic()
    for name, suite in SUITES.items():
        if args.only and name not in args.only:
            continue
        print(f"{name}...", flush=True)
        begin = time.monotonic()
        run.results[name] = suite(args.quick)
        run.seconds[name] = time.monotonic() - begin
        print(f"{name}: {run.seconds[name]:.0f} s", flush=True)
    run.seconds["total"] = time.monotonic() - started
    text = summary_markdown(run)
    write("summary.md", text)
    print()
    print(re.sub(r"<!--.*?-->\n", "", text))
    print(f"Tables and plots in {RESULTS_DIR}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
