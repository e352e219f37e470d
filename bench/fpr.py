"""False-positive rate over fill: both encodings with the aging scheme, and CASPER.

An :class:`~firehose_digest.AgingDigest` (capacity 300, p = 1%, the defaults) takes distinct
fingerprinted urls from 0 to 10 x capacity. At each step the digest goes through its bytes
(as the cookie carries it) and is probed with urls never added: the measured false-positive
rate, against the target p and about 2p with both generations full. h2o's CASPER set
takes the same urls; its rate grows as n / 2^13 and it never forgets.

Checked as it is measured, at every step:

- no false negatives among the keys the generations hold (since the previous generation
  began): a filter's promise;
- after every add, the ``capacity`` most recently added keys are all held. Both encodings
  count their keys exactly and must pass; a miss is counted and reported, not hidden.

Run: ``python -m bench.fpr [--quick]``.
"""

from __future__ import annotations

import argparse
import math
import re
from dataclasses import dataclass, field

from firehose_digest import AgingDigest, BloomDigest, GCSDigest
from firehose_digest.settings import DEFAULTS

from . import casper
from .cookie_size import adding
from .report import GENERATED, markdown_table, new_figure, save_figure, write
from .request_cost import asset_url

__all__ = ["Curve", "run"]

CAPACITY: int = DEFAULTS["FIREHOSE_CAPACITY"]
FP_RATE: float = DEFAULTS["FIREHOSE_FP_RATE"]
MAX_FILL = 10
#: Measurements per capacity of fill.
STEPS_PER_CAPACITY = 10
PROBES = 20_000
QUICK_PROBES = 5_000
#: Fill levels (x capacity) shown in the table.
TABLE_FILLS = (0.5, 1, 1.5, 2, 3, 5, 10)
KINDS: dict[str, type[BloomDigest] | type[GCSDigest]] = {"GCS": GCSDigest, "Bloom": BloomDigest}


@dataclass
class Curve:
    """One scheme's measured false-positive rate at each fill."""

    name: str
    fills: list[int] = field(default_factory=list)
    rates: list[float] = field(default_factory=list)
    #: Keys added (of all, each checked) after which some of the ``capacity`` most recent
    #: keys were not found, and the most missing at once (AgingDigest only).
    steps_missing_recent: int = 0
    most_missing_recent: int = 0

    def rate_at(self, fill: int) -> float:
        return self.rates[self.fills.index(fill)]


def _probes(count: int) -> list[str]:
    """Urls never added: same shape as the keys, another directory."""
    return [asset_url(i).replace("/assets/", "/probes/") for i in range(count)]


def measure_aging(name: str, keys: list[str], probes: list[str], step: int) -> Curve:
    """Fill an AgingDigest with ``keys``; every ``step`` keys, round-trip it and probe it."""
    digest = AgingDigest(KINDS[name], CAPACITY, FP_RATE)
    curve = Curve(name)
    for index, previous_from in adding(digest, keys):
        added = index + 1
        recent = sum(key not in digest for key in keys[max(0, added - CAPACITY) : added])
        if recent:
            if name == "GCS":
                raise AssertionError(f"GCS forgot {recent} of the {CAPACITY} most recent keys")
            curve.steps_missing_recent += 1
            curve.most_missing_recent = max(curve.most_missing_recent, recent)
        if added % step:
            continue
        data = digest.to_bytes()
        sent = AgingDigest.from_bytes(data)  # what the cookie carries
        if sent.to_bytes() != data:
            raise AssertionError(f"{name}: the digest does not round-trip")
        held = [key for key in keys[previous_from:added] if key not in sent]
        if held:
            raise AssertionError(f"{name}: false negatives among held keys: {held[:3]}")
        curve.fills.append(added)
        curve.rates.append(sum(probe in sent for probe in probes) / len(probes))
    return curve


def measure_casper(keys: list[str], probes: list[str], step: int) -> Curve:
    """h2o's CASPER over the same keys: it never forgets, its keys are 13 bits."""
    curve = Curve("CASPER")
    held = casper.CasperSet()
    probe_keys = [casper.key(probe) for probe in probes]
    for index, key in enumerate(keys):
        held.add(key)
        added = index + 1
        if added % step:
            continue
        sent = casper.CasperSet.from_cookie_value(held.cookie_value())
        if not all(key in sent for key in keys[:added]):
            raise AssertionError("CASPER lost a key")
        occupied = set(sent.keys)
        curve.fills.append(added)
        curve.rates.append(sum(k in occupied for k in probe_keys) / len(probe_keys))
    return curve


def measure(quick: bool = False) -> list[Curve]:
    keys = [asset_url(i) for i in range(MAX_FILL * CAPACITY)]
    probes = _probes(QUICK_PROBES if quick else PROBES)
    step = CAPACITY // STEPS_PER_CAPACITY
    curves = [measure_aging(name, keys, probes, step) for name in KINDS]
    curves.append(measure_casper(keys, probes, step))
    return curves


def _casper_formula(n: int) -> float:
    return n / (1 << casper.CAPACITY_BITS)


def _casper_occupancy(n: int) -> float:
    """The expected share of the 2^13 keys that n random keys occupy: collisions included."""
    return 1 - math.exp(-n / (1 << casper.CAPACITY_BITS))


def write_results(curves: list[Curve], probes: int) -> str:
    """Write ``fpr.md`` and ``fpr.png``; return the markdown."""
    bound = 2 * FP_RATE
    by_name = {curve.name: curve for curve in curves}
    rows = []
    for fill in TABLE_FILLS:
        n = round(fill * CAPACITY)
        rows.append(
            [
                f"{fill:g}x ({n})",
                *(f"{by_name[name].rate_at(n):.2%}" for name in (*KINDS, "CASPER")),
                f"{_casper_formula(n):.2%}",
                f"{_casper_occupancy(n):.2%}",
            ]
        )
    headers = ["fill (keys)", "GCS", "Bloom", "CASPER", "CASPER n/2^13", "1 - e^(-n/2^13)"]
    recent = [
        f"- {name}: "
        + (
            "every one of the most recent keys held at every step"
            if not by_name[name].steps_missing_recent
            else f"after {by_name[name].steps_missing_recent} of {MAX_FILL * CAPACITY} adds it "
            f"missed some of the {CAPACITY} most recent keys (at most "
            f"{by_name[name].most_missing_recent}): it rotated early"
        )
        + "\n"
        for name in KINDS
    ]
    text = (
        GENERATED + "# False-positive rate over fill\n\n"
        f"`AgingDigest(capacity={CAPACITY}, fp_rate={FP_RATE:g})` of each encoding, filled "
        f"with distinct urls up to {MAX_FILL}x capacity; every {CAPACITY // STEPS_PER_CAPACITY} "
        f"urls it is round-tripped through its bytes and probed with {probes} urls never "
        f"added. Target p = {FP_RATE:.0%} per generation, about 2p = {bound:.0%} with both "
        "generations full (added here whatever the older generation answers, they are two "
        "independent filters: 1 - (1 - p)^2 on average). CASPER: h2o's 13-bit keys over the "
        "same urls, probed the same way.\n\n"
        + markdown_table(headers, rows)
        + "\nNo false negatives among the keys the generations hold, at any step "
        "(checked). The most recent capacity keys, checked after every add:\n\n" + "".join(recent)
    )
    write("fpr.md", text)
    _plot(curves, bound)
    return text


def _plot(curves: list[Curve], bound: float) -> None:
    figure = new_figure(width=7.5, height=4.8)
    axes = figure.axes[0]
    for curve, color in zip(curves, ("C0", "C1", "C2"), strict=True):
        x = [n / CAPACITY for n in curve.fills]
        axes.plot(x, curve.rates, color=color, label=f"{curve.name}, measured")
    casper_fills = curves[-1].fills
    axes.plot(
        [n / CAPACITY for n in casper_fills],
        [_casper_formula(n) for n in casper_fills],
        color="C2",
        linestyle=":",
        label="CASPER, n / 2^13",
    )
    axes.plot(
        [n / CAPACITY for n in casper_fills],
        [_casper_occupancy(n) for n in casper_fills],
        color="C2",
        linestyle="--",
        linewidth=1,
        label="CASPER, 1 - e^(-n / 2^13) (collisions)",
    )
    axes.axhline(FP_RATE, color="k", linestyle="--", linewidth=1, label=f"target p = {FP_RATE:g}")
    axes.axhline(bound, color="grey", linestyle="-.", linewidth=1, label="2p, both full")
    axes.set_yscale("log")
    axes.set_ylim(1e-3, 1)
    axes.set_xlabel(f"distinct urls added / capacity ({CAPACITY})")
    axes.set_ylabel("false-positive rate")
    axes.set_title("AgingDigest (two generations) vs CASPER")
    axes.legend(fontsize=8, loc="upper left")
    save_figure(figure, "fpr.png")


def run(quick: bool = False) -> list[Curve]:
    """Measure, check and write the suite's files; ``quick`` probes fewer urls."""
    curves = measure(quick)
    write_results(curves, QUICK_PROBES if quick else PROBES)
    return curves


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help=f"{QUICK_PROBES} probes per step")
    args = parser.parse_args()
    curves = measure(args.quick)
    text = write_results(curves, QUICK_PROBES if args.quick else PROBES)
    print(re.sub(r"<!--.*?-->\n", "", text))


if __name__ == "__main__":
    main()
