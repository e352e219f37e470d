"""The request-cost suite's files: its table, its plot, and where our time goes.

:mod:`bench.request_cost` measures; this module runs its grid and writes
``request_cost.md``, ``request_cost.png`` and ``request_cost_profile.md`` (cProfile of the
GCS case at 300 remembered resources and 10 pushes, our functions only). The ratios are
the result: absolute times hold for this machine and this moment only.

Run: ``python -m bench.request_cost_report [--quick]``.
"""

from __future__ import annotations

import argparse
import cProfile
import math
import pstats
import statistics
import warnings
from collections.abc import Sequence
from pathlib import Path

from firehose_digest.request_record import PushScope

from .cookie_size import session_connector_cookie
from .report import (
    GENERATED,
    RESULTS_DIR,
    machine,
    markdown_table,
    new_figure,
    save_figure,
    write,
)
from .request_cost import LADDER, Result, client_for, measure, measure_each

__all__ = [
    "FULL_GRID",
    "QUICK_GRID",
    "main",
    "profile_summary",
    "run",
    "variants",
    "write_results",
]

FULL_GRID = [(r, p) for r in (0, 100, 300, 1000) for p in (1, 10, 30)]
QUICK_GRID = [(300, 10)]
LABELS = {
    "gcs": "DigestConnector, GCS",
    "bloom": "DigestConnector, Bloom",
    "session": "SessionConnector",
    "flask-firehose": "Flask-Firehose 0.2.3",
    "by-hand": "the same Link header, written by hand",
    "switched-off": "Firehose with `FIREHOSE_ENABLED = False`",
    "in-memory": "Firehose, with a set in memory as its connector",
}
#: What each step of the ladder adds to the row it builds on.
LADDER_ADDS = {
    "by-hand": "for reference, no extension: the same header added the usual way, by an "
    "`after_request` hook; Werkzeug scans a value for newlines when it is added and on "
    "each copy of the headers (three scans through the test client, two under a server)",
    "switched-off": "the extension's floor: its WSGI wrapper and its `after_request` hook, "
    "which return at once, and the page's ten `push()` calls, which look up their cached "
    "link and return the url (no header)",
    "in-memory": "the extension at work: ten resources collected, ten memberships in a "
    "Python set, the Link value assembled and added with `Vary: Cookie` as the response "
    "starts (so scanned once, by the test client)",
    "gcs": "the digest: the cookie's cached digest found by the `Cookie` header, ten "
    "memberships answered by that digest's cached answers",
    "bloom": "the same, over a Bloom filter",
}
#: The row each step of the ladder adds to (Bloom is the alternative to GCS).
BUILDS_ON = {
    "by-hand": None,
    "switched-off": None,
    "in-memory": "switched-off",
    "gcs": "in-memory",
    "bloom": "in-memory",
}
PROFILED = ("gcs", 300, 10)
#: The request-cost target of the digest encodings at PROFILED's size (issue #3).
TARGET = 1.10
PROFILE_REQUESTS = 2000
PROFILE_TOP = 15
_PACKAGE_DIR = "firehose_digest"


def variants() -> list[str]:
    """What is compared: ours, and Flask-Firehose when it is installed."""
    names = ["gcs", "bloom", "session"]
    try:
        import flask_firehose  # type: ignore[import-untyped]  # noqa: F401
    except ImportError:
        return names
    return [*names, "flask-firehose"]


def holds(name: str, remembered: int) -> bool:
    """Whether the variant can hold ``remembered`` urls: SessionConnector keeps Flask's
    session within a 4093-byte cookie (Werkzeug's most), which 500 of these urls pass
    (``cookie_size.md``)."""
    return name != "session" or remembered == 0 or session_connector_cookie(remembered)[1]


#: A cell of a variant that cannot hold that many urls.
CANNOT_HOLD = "n/a ‡"


def cookie_sizes(names: Sequence[str], remembered: Sequence[int]) -> dict[tuple[str, int], int]:
    """Characters of the cookies each variant's client holds after priming (name=value)."""
    sizes = {}
    for n in sorted(set(remembered)):
        for name in names:
            if not holds(name, n):
                continue
            client = client_for(name, n, 10)
            cookies = (client._cookies or {}).values()
            sizes[name, n] = sum(len(c.key) + 1 + len(c.value) for c in cookies)
    return sizes


def write_results(
    results: list[Result],
    rounds: int,
    requests: int,
    sizes: dict[tuple[str, int], int],
    together: list[Result],
) -> str:
    """Write ``request_cost.md`` and ``request_cost.png``; return the markdown."""
    names = list(dict.fromkeys(r.variant for r in results))
    grid = list(dict.fromkeys((r.remembered, r.pushes) for r in results))
    by_key = {(r.variant, r.remembered, r.pushes): r for r in results}
    rows = []
    for remembered, pushes in grid:
        measured = [by_key.get((name, remembered, pushes)) for name in names]
        cells = [CANNOT_HOLD if r is None else f"{r.ratio:.3f}" for r in measured]
        bare = statistics.median(r.bare_us for r in measured if r is not None)
        rows.append([remembered, pushes, *cells, f"{bare:.0f}"])
    headers = ["remembered", "pushes", *(LABELS[name] for name in names), "bare µs"]
    size_rows = [
        [n, *(sizes.get((name, n), CANNOT_HOLD) for name in names)]
        for n in sorted({remembered for remembered, _ in grid})
    ]
    text = (
        GENERATED + "# Request cost\n\n"
        "Time of a request to `/page` with the extension, as a ratio to the same Flask app "
        "without it (`bench/request_cost.py`): Flask test client, interleaved rounds, the "
        f"median of {rounds} per-round ratios of {requests} requests each. The client holds "
        "*remembered* resources (pushed earlier) and the page pushes *pushes* of them, all "
        "already held: a return visit, every link written `nopush` (Flask-Firehose leaves "
        "them out), checked on each variant before it is timed. Each variant's bare twin "
        "is sent the same cookies, so the test client's work on them cancels out, but does "
        "not decode them (its session cookie has another name): only the server's work "
        "differs. Each variant is measured alone with its twin, one after the other.\n\n"
        + markdown_table(headers, rows)
        + f"\n{CANNOT_HOLD}: `SessionConnector` keeps no more urls than fit a 4093-byte "
        "cookie (Werkzeug's most, under what a browser keeps).\n"
        + f"\n*bare µs*: one bare request, {machine()}, on a shared machine: "
        "machine-specific, for scale only; the ratios are the result.\n\n"
        + _verdict(by_key)
        + "## With every variant resident at once\n\n"
        "The same measure at 300 remembered and 10 pushes, but with all the variants' apps "
        "alive in the process and their pairs taken in turn within each round: more of each "
        "request's memory is cold, which costs the apps that touch more the most.\n\n"
        + markdown_table(
            ["remembered", "pushes", *(LABELS[r.variant] for r in together)],
            [[*PROFILED[1:], *(f"{r.ratio:.3f}" for r in together)]],
        )
        + "\n"
        "## Cookies the client sends (name=value, characters)\n\n"
        + markdown_table(["remembered", *(LABELS[name] for name in names)], size_rows)
        + "\nOver 4096, a browser would drop the cookie, and nginx with default buffers "
        "answers 502 well before (see `cookie_size.md`).\n"
    )
    write("request_cost.md", text)
    _plot(results, names, grid)
    return text


def _verdict(by_key: dict[tuple[str, int, int], Result]) -> str:
    """Whether the digest encodings meet TARGET at PROFILED's size, in this run."""
    _, remembered, pushes = PROFILED
    parts = []
    for name in ("gcs", "bloom"):
        result = by_key.get((name, remembered, pushes))
        if result is not None:
            verdict = "meets" if result.ratio <= TARGET else "misses"
            parts.append(f"{LABELS[name]} **{result.ratio:.3f}** ({verdict} it)")
    if not parts:
        return ""
    return (
        f"Target at {remembered} remembered and {pushes} pushes: at most {TARGET:.2f}x. "
        f"This run: {', '.join(parts)}.\n\n"
    )


def _plot(results: list[Result], names: list[str], grid: list[tuple[int, int]]) -> None:
    pushes_values = list(dict.fromkeys(pushes for _, pushes in grid))
    remembered_values = list(dict.fromkeys(remembered for remembered, _ in grid))
    by_key = {(r.variant, r.remembered, r.pushes): r.ratio for r in results}
    figure = new_figure(columns=len(pushes_values), width=4.6, height=4.4, sharey=True)
    for axes, pushes in zip(figure.axes, pushes_values, strict=True):
        x = range(len(remembered_values))
        for index, name in enumerate(names):
            y = [
                by_key.get((name, remembered, pushes), math.nan)
                for remembered in remembered_values
            ]
            axes.plot(x, y, marker="o", color=f"C{index}", label=LABELS[name])
        axes.axhline(1, color="k", linewidth=1)
        axes.set_xticks(list(x), [str(r) for r in remembered_values])
        axes.set_xlabel("remembered resources")
        axes.set_title(f"{pushes} push{'es' if pushes != 1 else ''} per page")
        axes.set_ylim(bottom=0.9)
    figure.axes[0].set_ylabel("request time / bare app")
    figure.legend(*figure.axes[0].get_legend_handles_labels(), loc="outside lower center", ncols=4)
    save_figure(figure, "request_cost.png")


def ladder(rounds: int, requests: int) -> list[Result]:
    """The 300/10 case taken apart: the header alone, then the extension, then the digest."""
    _, remembered, pushes = PROFILED
    return measure_each([*LADDER, "gcs", "bloom"], remembered, pushes, rounds, requests)


def ladder_markdown(steps: list[Result], rounds: int, requests: int) -> str:
    ratios = {step.variant: step.ratio for step in steps}
    rows = []
    for step in steps:
        base = BUILDS_ON[step.variant]
        added = step.ratio - (ratios[base] if base else 1.0)
        rows.append(
            [LABELS[step.variant], LADDER_ADDS[step.variant], f"{step.ratio:.3f}", f"{added:+.3f}"]
        )
    return (
        "## The cost, step by step\n\n"
        f"Each row against its own bare twin, interleaved in one run ({rounds} rounds of "
        f"{requests} requests, medians), with 300 remembered and 10 pushes; *step* is what "
        "the row adds to the one it builds on: the header by hand and the switched-off row "
        "to the bare app, the in-memory row to the switched-off one, GCS and Bloom both to "
        "the in-memory row.\n\n"
        + markdown_table(["what runs", "adds", "x bare", "step"], rows)
        + "\n"
    )


def profile_summary(requests: int = PROFILE_REQUESTS, ladder_text: str = "") -> str:
    """cProfile the GCS 300/10 case; write ``request_cost_profile.md`` (and the raw ``.prof``).

    ``ladder_text``, the step-by-step table, goes first.
    """
    variant, remembered, pushes = PROFILED
    client = client_for(variant, remembered, pushes)
    for _ in range(requests // 10):
        client.get("/page")  # warm up: the decoded-cookie cache, Flask's first request
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(requests):
        client.get("/page")
    profiler.disable()
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    raw = RESULTS_DIR / "request_cost_gcs_300_10.prof"
    profiler.dump_stats(raw)
    stats = pstats.Stats(profiler)
    entries = stats.stats  # type: ignore[attr-defined]
    total = stats.total_tt  # type: ignore[attr-defined]

    def is_ours(func: tuple[str, int, str]) -> bool:
        return _PACKAGE_DIR in Path(func[0]).parts

    # The WSGI wrapper around Flask's wsgi_app: all of the app's time is inside it. Found
    # by its code, not by a file name, which a move of the class would leave behind.
    wrapper = PushScope.__call__.__code__
    wrapper_key = (wrapper.co_filename, wrapper.co_firstlineno, wrapper.co_name)

    def is_wrapper(func: tuple[str, int, str]) -> bool:
        return func == wrapper_key

    ours = {func: entry for func, entry in entries.items() if is_ours(func)}
    own_total = sum(tottime for _, _, tottime, _, _ in ours.values())
    # Time in our code including what it calls (mmh3, re, itsdangerous...): the cumulative
    # time of every call into our code from outside it, but only the wrapper's own time.
    entered = sum(
        entry[2] if is_wrapper(func) else edge[3]
        for func, entry in ours.items()
        for caller, edge in entry[4].items()
        if not is_ours(caller)
    )
    app = sum(entry[3] for func, entry in ours.items() if is_wrapper(func))
    top = sorted(ours.items(), key=lambda item: item[1][3], reverse=True)[:PROFILE_TOP]
    per = 1e6 / requests
    rows = [
        [
            f"`{Path(filename).name}:{line} {function}`",
            f"{calls / requests:g}",
            f"{tottime * per:.1f}",
            f"{cumtime * per:.1f}",
        ]
        for (filename, line, function), (_, calls, tottime, cumtime, _) in top
    ]
    text = (
        GENERATED
        + "# Where our time goes (300 remembered, 10 pushes)\n\n"
        + ladder_text
        + "## Inside the extension (GCS)\n\n"
        f"cProfile of {requests} return visits to `/page` through the Flask test client, "
        "`firehose_digest`'s functions by cumulative time. cProfile inflates small "
        f"functions; read the shares, not the microseconds ({machine()}).\n\n"
        f"- In `firehose_digest`, with the library calls it makes: **{entered / app:.0%}** of "
        f"the app's time (our WSGI wrapper's call, which holds Flask's `wsgi_app`: "
        f"{entered * per:.0f} of {app * per:.0f} µs per request under the profiler).\n"
        f"- In `firehose_digest`'s own lines: {own_total / app:.0%} of the app's time.\n"
        f"- The app is {app / total:.0%} of the profiled time; the test client is most "
        "of the rest.\n\n"
        + markdown_table(["function", "calls/request", "own µs/request", "cum. µs/request"], rows)
        + f"\nRaw profile: `{raw.name}` (not committed; `python -m pstats` reads it).\n"
    )
    write("request_cost_profile.md", text)
    return text


def run(
    quick: bool = False, rounds: int | None = None, requests: int | None = None
) -> list[Result]:
    """Measure the grid (only 300/10 when ``quick``), write the files, profile GCS 300/10."""
    rounds = rounds or (7 if quick else 15)
    requests = requests or (100 if quick else 200)
    grid = QUICK_GRID if quick else FULL_GRID
    names = variants()
    with warnings.catch_warnings():
        # Werkzeug warns of the session cookies over 4093 bytes; the table shows them.
        warnings.filterwarnings("ignore", message=".*cookie is too large", category=UserWarning)
        results = [
            result
            for remembered, pushes in grid
            for result in measure_each(
                [name for name in names if holds(name, remembered)],
                remembered,
                pushes,
                rounds,
                requests,
            )
        ]
        together = measure(names, *PROFILED[1:], rounds, requests)
        sizes = cookie_sizes(names, [remembered for remembered, _ in grid])
        steps = ladder(rounds, requests)
    write_results(results, rounds, requests, sizes, together)
    profile_summary(
        PROFILE_REQUESTS // 4 if quick else PROFILE_REQUESTS,
        ladder_markdown(steps, rounds, requests),
    )
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick",
        action="store_true",
        help="only 300 remembered and 10 pushes, 7 rounds of 100, a quarter of the profile",
    )
    parser.add_argument("--rounds", type=int)
    parser.add_argument("--requests", type=int)
    args = parser.parse_args()
    # The table, the step-by-step ladder, the plot and the profile go to bench/results/.
    print(f"{'variant':16}{'remembered':>11}{'pushes':>8}{'ratio':>8}{'bare µs':>9}{'µs':>8}")
    for r in run(args.quick, args.rounds, args.requests):
        print(
            f"{r.variant:16}{r.remembered:>11}{r.pushes:>8}{r.ratio:>8.3f}"
            f"{r.bare_us:>9.1f}{r.variant_us:>8.1f}"
        )


if __name__ == "__main__":
    main()
