"""The request-cost benchmarks check every response as they time it: run for a round, here,
each app and each variant must still answer what it is measured answering.

``make bench`` is not part of ``make test`` (it takes minutes); these run its two request
suites for a round or two of two requests, so a change that leaves an app or a variant
answering otherwise (a 500 when a cache is switched off as ``bench/caches.py`` does) fails
here, not at the next ``make bench``. What they time is not asserted.
"""

from __future__ import annotations

import logging

import pytest

from bench import caches, server_cost


def test_each_cache_switched_off_still_answers_as_shipped(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.WARNING):
        ratios = caches.measure(rounds=1, calls=2)
    assert set(ratios) == set(caches.VARIANTS)
    # A step that failed and fell back (a holder that raised) may still answer as checked.
    assert caplog.records == []


def test_each_app_of_the_server_cost_suite_answers_as_checked(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.WARNING):
        costs = server_cost.measure(rounds=2, calls=2)  # two rounds: their quartiles
    assert [cost.app for cost in costs] == list(server_cost.APPS)
    assert caplog.records == []
