"""Limits, each at its edge and one past it: the ones a mutation run found no test on.

A bound whose test moves with its constant stands on nothing; these name the number.
"""

from __future__ import annotations

from dataclasses import asdict

import pytest
from werkzeug.http import dump_cookie

from firehose_digest import links as links_module
from firehose_digest.codec import DEFAULT_SALT, DigestCodec
from firehose_digest.collect import make_resource
from firehose_digest.digests import encoded_size_bound
from firehose_digest.links import LinkPlanner, Resource, plan_links
from firehose_digest.settings import (
    CookieAttributes,
    Settings,
    _headers_size,
    check_digest_fits,
    load,
)

COOKIE = CookieAttributes(
    path="/", domain=None, secure=False, httponly=False, samesite=None, partitioned=False
)


def set_cookie_length(settings: Settings, cookie: CookieAttributes) -> int:
    """The longest Set-Cookie the digest can make: both generations full, signed."""
    payload = encoded_size_bound(settings.kind, settings.capacity, settings.fp_rate)
    signed = DigestCodec(["k"], DEFAULT_SALT, settings.max_age).dumps(bytes(payload))
    line = dump_cookie(
        settings.cookie_name, signed, max_age=settings.max_age, max_size=0, **asdict(cookie)
    )
    return len(line)


def cookie_of_length(total: int) -> tuple[Settings, CookieAttributes]:
    """Settings and a cookie Path that make the longest Set-Cookie exactly ``total`` bytes,
    with a header budget that is no limit."""
    for capacity in range(10, 2000):
        settings = load(
            {
                "FIREHOSE_CAPACITY": capacity,
                "FIREHOSE_HEADER_BUDGET": 1 << 20,
                "FIREHOSE_LINK_BUDGET": 0,
            }
        )
        shortest = set_cookie_length(settings, COOKIE)
        if total - 1000 <= shortest <= total:
            cookie = CookieAttributes(**{**asdict(COOKIE), "path": "/" + "p" * (total - shortest)})
            assert set_cookie_length(settings, cookie) == total
            return settings, cookie
    raise AssertionError(f"no capacity makes a cookie of {total} bytes")


def test_a_cookie_of_4093_bytes_is_kept_and_of_4094_refused() -> None:
    """Werkzeug warns past 4093 bytes, and browsers keep 4096 with the name: one past,
    a digest browsers may drop would push everything on every visit."""
    check_digest_fits(*cookie_of_length(4093))
    with pytest.raises(ValueError, match="FIREHOSE_CAPACITY"):
        check_digest_fits(*cookie_of_length(4094))


def test_headers_exactly_as_long_as_the_budget_fit() -> None:
    size = _headers_size(load({}), COOKIE, 300)
    check_digest_fits(load({"FIREHOSE_HEADER_BUDGET": size}), COOKIE)
    with pytest.raises(ValueError, match="FIREHOSE_HEADER_BUDGET"):
        check_digest_fits(load({"FIREHOSE_HEADER_BUDGET": size - 1}), COOKIE)


@pytest.mark.parametrize(
    ("key", "low", "high"),
    [
        ("FIREHOSE_HEADER_BUDGET", 0, 1 << 20),
        ("FIREHOSE_EARLY_HINTS_CACHE", 1, 1 << 20),
        ("FIREHOSE_MAX_AGE", 1, 400 * 24 * 3600),
    ],
)
def test_an_int_setting_takes_its_bounds_and_refuses_one_past(
    key: str, low: int, high: int
) -> None:
    no_links = {"FIREHOSE_LINK_BUDGET": 0}
    for taken in (low, high):
        load({**no_links, key: taken})
    for refused in (low - 1, high + 1):
        with pytest.raises(ValueError, match=key):
            load({**no_links, key: refused})


def test_a_connector_capacity_of_one_is_taken_and_zero_refused() -> None:
    settings = load({"FIREHOSE_MAX_PUSHES": 1})
    assert settings.with_digest(1, None, None).capacity == 1
    with pytest.raises(ValueError, match="FIREHOSE_CAPACITY"):
        settings.with_digest(0, None, None)


def style(url: str) -> Resource:
    return make_resource(url, (), "style", None, ())


def test_a_key_a_103_offered_is_pushed_only_if_pushable() -> None:
    """plan_early_hints offers pushable keys only; plan_links does not take it on trust."""
    cdn = style("https://cdn.example/a.css")
    assert not cdn.pushable
    plan = plan_links([cdn], set(), may_push=True, max_pushes=1, budget=4096, offered={cdn.key})
    assert (plan.value, plan.pushed) == (cdn.nopush_link, ())


def test_a_page_is_planned_once_for_the_same_answers() -> None:
    planner = LinkPlanner(max_pushes=10, budget=4096, omit_held=False)
    page = [style("/a.css"), style("/b.css")]
    first = planner.plan(page, {"/a.css"}, True)
    assert planner.plan(page, {"/a.css"}, True) is first
    assert planner.plan(page, {"/b.css"}, True) is not first


def test_the_kept_plans_count_their_page_however_they_were_emptied(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    planner = LinkPlanner(max_pushes=10, budget=4096, omit_held=False)
    page = (style("/a.css"), style("/b.css"))
    page_size = links_module._page_size(page, links_module._tracked_keys(page))
    planner.plan(page, set(), True)
    assert planner._bytes > page_size
    # A second plan of the page passes the bound: all is emptied, and the page, kept
    # again, is counted again.
    monkeypatch.setattr(links_module, "PLANS_BYTES", planner._bytes + 10)
    planner.plan(page, {"/a.css"}, True)
    assert len(planner._pages) == 1
    assert planner._bytes > page_size
