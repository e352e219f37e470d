"""The headline figures of a ``python -m bench`` run, one row per scheme.

Written to ``bench/results/summary.md``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .hostile import TARGET as TARGET_HOSTILE
from .report import GENERATED, machine, markdown_table

__all__ = ["Run", "summary_markdown"]

#: The headline case: the default configuration, and what the integration browse uses.
REMEMBERED = 300
FP_RATE = 0.01
PUSHES = 10
#: SessionConnector's default max_items.
SESSION_DEFAULT = 100


@dataclass
class Run:
    """What each suite returned, by suite name, and how long each took."""

    results: dict[str, Any] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)
    quick: bool = False


# Scheme -> (cookie_size attribute, request_cost variant, fpr curve, e2e browse prefix);
# server_cost and memory name the digest variants as request_cost does.
_SCHEMES = {
    "firehose_digest, GCS (default)": ("gcs", "gcs", "GCS", "firehose_digest (GCS), nginx"),
    "firehose_digest, Bloom": ("bloom", "bloom", "Bloom", "firehose_digest (Bloom)"),
    "firehose_digest, SessionConnector": ("session", "session", None, "SessionConnector"),
    "Flask-Firehose 0.2.3": ("flask_firehose", "flask-firehose", None, "Flask-Firehose"),
    "h2o CASPER (in the proxy)": ("casper", None, "CASPER", "CASPER"),
}


def _cookie(run: Run, attribute: str) -> str:
    rows = run.results.get("cookie_size")
    if rows is None:
        return "not run"
    row = next(r for r in rows if r.n == REMEMBERED and r.fp_rate == FP_RATE)
    value = getattr(row, attribute)
    if value is None:
        return "n/a"
    if hasattr(value, "one_generation"):
        return f"{value.one_generation} (up to {value.most})"
    if attribute == "session":
        default = next(r for r in rows if r.n == SESSION_DEFAULT and r.fp_rate == FP_RATE)
        return f"{value} (its default keeps {SESSION_DEFAULT}: {default.session})"
    return str(value)


def _cost(run: Run, variant: str | None) -> str:
    results = run.results.get("request_cost")
    if results is None:
        return "not run"
    if variant is None:
        return "— (in the proxy)"
    for result in results:
        if (result.variant, result.remembered, result.pushes) == (variant, REMEMBERED, PUSHES):
            return f"{result.ratio:.3f}x"
    return "n/a"


def _server_cost(run: Run, variant: str | None) -> str:
    costs = run.results.get("server_cost")
    if costs is None:
        return "not run"
    if variant is None:
        return "— (in the proxy)"
    cost = next((c for c in costs if c.app == variant), None)
    if cost is None:
        return "not measured"
    return f"**{cost.per_by_hand:.3f}x** ({cost.per_bare:.2f}x bare)"


def _memory(run: Run, variant: str | None) -> str:
    growths = run.results.get("memory")
    if growths is None:
        return "not run"
    # Its first case of the variant's encoding: GCS's is the default, not the adversarial.
    growth = next((g for g in growths if g.case.encoding == variant), None)
    if growth is None or growth.case.capacity != REMEMBERED:
        return "not measured"
    return f"{growth.rss / 2**20:.1f} MiB RSS ({growth.traced / 2**20:.1f} traced)"


def _fpr(run: Run, curve_name: str | None, fill: int) -> str:
    curves = run.results.get("fpr")
    if curves is None:
        return "not run"
    if curve_name is None:
        return "0 (exact)"
    curve = next(c for c in curves if c.name == curve_name)
    return f"{curve.rate_at(fill):.2%}"


def _browse(run: Run, prefix: str) -> str:
    outcomes = run.results.get("e2e")
    if outcomes is None:
        return "not run"
    outcome = next(o for o in outcomes if o.browse.name.startswith(prefix))
    f = outcome.figures
    if f is None:
        return f"skipped ({outcome.skipped})"
    errors = f"{f.errors} errors" + (
        f" (from view {f.first_error_view})" if f.first_error_view else ""
    )
    return f"{f.pushes} / {f.redundant} / {f.missed}, {errors}"


def _hostile(run: Run) -> str:
    worst = run.results.get("hostile")
    if worst is None:
        return "not run"
    return ", ".join(f"{row.encoding} {row.worst_ratio:.2f}x" for row in worst)


def summary_markdown(run: Run) -> str:
    """The headline table, with links to each suite's files."""
    rows = [
        [
            scheme,
            _cookie(run, cookie),
            _server_cost(run, variant),
            _cost(run, variant),
            _memory(run, variant),
            _fpr(run, curve, REMEMBERED),
            _fpr(run, curve, 10 * REMEMBERED),
            _browse(run, browse),
        ]
        for scheme, (cookie, variant, curve, browse) in _SCHEMES.items()
    ]
    headers = [
        "scheme",
        f"cookie, {REMEMBERED} urls, p = {FP_RATE:.0%} ([chars](cookie_size.md))",
        f"request cost, {REMEMBERED} held, {PUSHES} pushes, server-side "
        "([x by hand](server_cost.md))",
        "through the test client ([x bare app](request_cost.md))",
        "server memory, distinct return visits ([growth](memory.md))",
        f"false positives at {REMEMBERED} urls ([fpr](fpr.md))",
        f"at {10 * REMEMBERED} urls",
        "100-view browse: pushes / redundant / missed ([e2e](e2e.md))",
    ]
    timing = ", ".join(f"{name} {seconds:.0f} s" for name, seconds in run.seconds.items())
    return (
        GENERATED
        + "# How it compares\n\n"
        + markdown_table(headers, rows)
        + "\nCookie: the value's characters, capacity 300, one generation (up to: both "
        "generations full, after 600 urls); Flask-Firehose and SessionConnector hold the "
        "exact list, CASPER 13-bit keys (its rate is n/8192, not p). Request cost, the "
        "headline: a return visit's time through the app's WSGI callable relative to the "
        "same Flask app writing the same `Link` and `Vary` by hand (the floor of any "
        "`push()` API; the target is 1.05x), and to the bare app; beside it the same "
        "visit through Flask's test client relative to the bare app, whose cookie jar "
        "adds its own cost; each measured in one run. Server memory: the process's growth "
        "over 1,500 distinct clients' return visits (in --quick, 300). False "
        "positives: measured on urls never added, with the aging scheme at capacity 300 "
        "(CASPER never forgets, so its rate keeps growing). Browse: 100 page views over "
        "300 resources behind nginx 1.22 or h2o 2.2 (see e2e.md for which).\n\n"
        "Hostile cookies ([hostile.md](hostile.md)): what the extension spends on the "
        "worst header of the test suite's corpus, as a ratio to what it spends on a first "
        f"visit: {_hostile(run)} (the target is at most {TARGET_HOSTILE:g}x).\n\n"
        f"Run{' (--quick)' if run.quick else ''}: {timing}; {machine()}.\n"
    )
