"""LinkPlanner: plan_links with each page's plans kept, never a different answer."""

from __future__ import annotations

import functools
import sys
import threading
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from firehose_digest import links
from firehose_digest.collect import make_resource
from firehose_digest.links import LinkPlanner, Resource, plan_links
from tests.helpers import run_in_threads

#: Path-absolute, absolute, untracked and screen-chosen resources: every branch plan_links
#: has; and one with a nonce, whose pages are planned and not kept.
POOL = [make_resource(f"/a{i}.css", (), "style", None, ()) for i in range(12)] + [
    make_resource("https://cdn.example/x.js", (), "script", None, ()),
    make_resource("/p.js", ("nopush",), "script", None, ()),
    make_resource("/font.woff2", ("crossorigin",), "font", None, (("rel", "preload prefetch"),)),
    make_resource("/narrow.png", (), "image", None, (("media", "(max-width: 600px)"),)),
    make_resource("/policed.js", (), "script", None, (("nonce", "n0nce1"),)),
]


@settings(max_examples=300, deadline=None)
@given(
    pages=st.lists(st.lists(st.sampled_from(POOL), unique=True, max_size=14), min_size=1),
    visits=st.lists(
        st.tuples(
            st.integers(0, 20),
            st.one_of(st.none(), st.sets(st.sampled_from([r.key for r in POOL]))),
            st.booleans(),
            st.booleans(),
        ),
        max_size=30,
    ),
    max_pushes=st.integers(0, 12),
    budget=st.sampled_from([0, 40, 120, 400, 1900]),
    omit_held=st.booleans(),
)
def test_planner_answers_as_plan_links(
    pages: list[list[Resource]],
    visits: list[tuple[int, set[str] | None, bool, bool]],
    max_pushes: int,
    budget: int,
    omit_held: bool,
) -> None:
    planner = LinkPlanner(max_pushes=max_pushes, budget=budget, omit_held=omit_held)
    for index, held, may_push, browser in visits:
        page = pages[index % len(pages)]
        expected = plan_links(
            page,
            held,
            may_push=may_push,
            max_pushes=max_pushes,
            budget=budget,
            omit_held=omit_held,
            browser=browser,
        )
        assert planner.plan(page, held, may_push, browser=browser) == expected


@settings(max_examples=300, deadline=None)
@given(
    page=st.lists(st.sampled_from(POOL), unique=True, max_size=14),
    held=st.sets(st.sampled_from([r.key for r in POOL])),
    data=st.data(),
    max_pushes=st.integers(0, 12),
    budget=st.sampled_from([0, 120, 400, 1900]),
    may_push=st.booleans(),
)
def test_a_103s_keys_and_the_responses_pushes_stay_within_max_pushes(
    page: list[Resource],
    held: set[str],
    data: st.DataObject,
    max_pushes: int,
    budget: int,
    may_push: bool,
) -> None:
    """Whatever a 103 offered (at most max_pushes keys the client lacks, linked or not by
    this response), the response pushes every one of them it links and may push, and the
    two push at most max_pushes keys between them."""
    lacking = [r.key for r in POOL if r.tracked and r.pushable and r.key not in held]
    offered = (
        data.draw(st.lists(st.sampled_from(lacking), unique=True, max_size=max_pushes))
        if lacking
        else []
    )
    plan = plan_links(
        page, held, may_push=may_push, max_pushes=max_pushes, budget=budget, offered=offered
    )
    assert len(set(plan.pushed) | set(offered)) <= max_pushes
    linked = plan.value.split(", ") if plan.value else []
    for resource in page:
        if resource.key in offered and may_push and resource.nopush_link in linked:
            raise AssertionError(f"{resource.key}: a 103 pushed it, the response wrote nopush")
        if resource.key in offered and may_push and resource.link in linked:
            assert resource.key in plan.pushed
    assert plan_links(
        page, held, may_push=may_push, max_pushes=max_pushes, budget=budget
    ) == plan_links(
        page, held, may_push=may_push, max_pushes=max_pushes, budget=budget, offered=()
    )


@settings(max_examples=300, deadline=None)
@given(
    page=st.lists(st.sampled_from(POOL), unique=True, max_size=14),
    helds=st.lists(st.sets(st.sampled_from([r.key for r in POOL])), max_size=6),
    data=st.data(),
    max_pushes=st.integers(0, 12),
    budget=st.sampled_from([0, 40, 120, 400, 1900]),
    may_push=st.booleans(),
    omit_held=st.booleans(),
)
def test_a_plan_that_does_not_vary_is_every_clients(
    page: list[Resource],
    helds: list[set[str]],
    data: st.DataObject,
    max_pushes: int,
    budget: int,
    may_push: bool,
    omit_held: bool,
) -> None:
    """Without ``Vary: Cookie`` a shared cache hands one client's ``Link`` to every
    other: a plan that says it does not vary is the same for every holder, none too."""
    pushable = [r.key for r in POOL if r.tracked and r.pushable]
    offered = data.draw(st.lists(st.sampled_from(pushable), unique=True, max_size=max_pushes))
    everything = {r.key for r in POOL}
    plans = [
        plan_links(
            page,
            held,
            may_push=may_push,
            max_pushes=max_pushes,
            budget=budget,
            omit_held=omit_held,
            offered=offered,
        )
        for held in [None, set(), everything, *helds]
    ]
    assert len({plan.varies for plan in plans}) == 1
    if not plans[0].varies:
        assert len({plan.value for plan in plans}) == 1


@pytest.mark.parametrize("omit_held", [False, True], ids=["nopush", "omit"])
def test_a_link_no_client_is_offered_varies_only_under_omit(omit_held: bool) -> None:
    """As plan_links' docstring says: a tracked link offered to no client (here a HEAD's,
    ``may_push=False``) is ``nopush`` for everyone, so its page varies not; under
    ``omit_held`` a holder gets it left out, so the page varies."""
    resource = POOL[0]
    plans = [
        plan_links(
            [resource], held, may_push=False, max_pushes=10, budget=1900, omit_held=omit_held
        )
        for held in (set(), {resource.key})
    ]
    assert [plan.varies for plan in plans] == [omit_held, omit_held]
    assert plans[0].value == resource.nopush_link
    assert plans[1].value == (None if omit_held else resource.nopush_link)


def test_a_holder_changed_in_place_is_planned_again() -> None:
    """The plan is kept under the client's answers, not under the container."""
    page = POOL[:3]
    held: set[str] = set()
    planner = LinkPlanner(max_pushes=10, budget=1900, omit_held=False)
    first = planner.plan(page, held, True)
    assert first.pushed == tuple(r.key for r in page)
    held.update(first.pushed)  # set_pushed() may add to the very set get_pushed() gave
    again = planner.plan(page, held, True)
    assert again.pushed == () and again.reused == first.pushed
    assert again.value == ", ".join(r.nopush_link for r in page)


def _one_page_bytes(planner: LinkPlanner) -> int:
    planner.plan(POOL[:1], set(), True)
    return planner._bytes


def test_plans_are_kept_up_to_their_bound_then_dropped(monkeypatch: pytest.MonkeyPatch) -> None:
    """Exactly at PLANS_BYTES everything is kept; one byte past it, all is dropped."""
    size = _one_page_bytes(LinkPlanner(max_pushes=10, budget=1900, omit_held=False))
    pages = [(make_resource(f"/b{i}.css", (), "style", None, ()),) for i in range(4)]
    sizes = []
    for page in pages:
        probe = LinkPlanner(max_pushes=10, budget=1900, omit_held=False)
        probe.plan(page, set(), True)
        sizes.append(probe._bytes)
    assert len(set(sizes)) == 1 and sizes[0] == size  # each such page costs the same

    monkeypatch.setattr(links, "PLANS_BYTES", 3 * size)
    planner = LinkPlanner(max_pushes=10, budget=1900, omit_held=False)
    for page in pages[:3]:
        planner.plan(page, set(), True)
    assert planner._bytes == 3 * size and len(planner._pages) == 3  # exactly at the bound
    planner.plan(pages[3], set(), True)  # one page past it
    assert len(planner._pages) == 1 and planner._bytes == size
    # What was dropped is planned again, the same.
    assert planner.plan(pages[0], set(), True) == plan_links(
        pages[0], set(), may_push=True, max_pushes=10, budget=1900
    )


def test_each_way_a_page_is_held_keeps_its_plan_beside_the_others() -> None:
    """Clients hold a page in several ways: each way's plan is kept beside the others, so
    a returning client of either gets its plan back, and the page is counted once, with
    its first plan (a count of plans dropped would empty the planner before its bound)."""
    page = POOL[:3]
    one_held = {page[0].key}
    planner = LinkPlanner(max_pushes=10, budget=1900, omit_held=False)
    first = planner.plan(page, set(), True)
    page_and_first = planner._bytes
    second = planner.plan(page, one_held, True)
    assert planner.plan(page, set(), True) is first
    assert planner.plan(page, one_held, True) is second
    second_key = ((True, False, False), True, False)
    assert planner._bytes == page_and_first + links._plan_size(second_key, second)


def test_kept_plans_are_immutable() -> None:
    """Every request of a page shares its plan: the keys come as tuples."""
    plan = LinkPlanner(max_pushes=10, budget=1900, omit_held=False).plan(POOL[:2], set(), True)
    assert isinstance(plan.pushed, tuple) and isinstance(plan.reused, tuple)


def test_a_largest_plan_is_counted_at_least_its_value() -> None:
    page = POOL[:12]
    planner = LinkPlanner(max_pushes=10, budget=1900, omit_held=False)
    plan = planner.plan(page, set(), True)
    assert plan.value is not None and planner._bytes > sys.getsizeof(plan.value)


def test_one_page_held_every_way_stays_within_the_bound(monkeypatch: pytest.MonkeyPatch) -> None:
    """A page whose clients hold it in every one of 2**8 ways: the page that fills the
    plans drops its own older plans too, so they never outgrow the bound."""
    page = POOL[:8]
    keys = [r.key for r in page]
    subsets = [{k for i, k in enumerate(keys) if mask >> i & 1} for mask in range(256)]
    probe = LinkPlanner(max_pushes=10, budget=1900, omit_held=False)
    for held in subsets:
        probe.plan(page, held, True)
    unbounded = probe._bytes
    monkeypatch.setattr(links, "PLANS_BYTES", unbounded // 4)
    planner = LinkPlanner(max_pushes=10, budget=1900, omit_held=False)
    most = 0
    for held in subsets * 2:
        plan = planner.plan(page, held, True)
        assert plan == plan_links(page, held, may_push=True, max_pushes=10, budget=1900)
        assert planner._bytes <= links.PLANS_BYTES
        most = max(most, sum(len(plans) for _, plans in planner._pages.values()))
    assert 0 < most < 256 // 2  # about a quarter of the ways fit at a time


def test_a_plan_is_made_from_the_answers_it_is_kept_under() -> None:
    """A holder that answers otherwise when asked again (a store another request just
    wrote to) cannot leave a plan under answers it was not made from."""

    class Changing:
        def __init__(self) -> None:
            self.asked = 0

        def __contains__(self, key: object) -> bool:
            self.asked += 1
            return self.asked > 1  # not held the first time, held after

    page = POOL[:1]
    planner = LinkPlanner(max_pushes=10, budget=1900, omit_held=False)
    first = planner.plan(page, Changing(), True)
    assert first.pushed == (page[0].key,)  # made from the answer it is kept under
    # The next client who does not hold it gets the same, rightly.
    assert planner.plan(page, set(), True) == plan_links(
        page, set(), may_push=True, max_pushes=10, budget=1900
    )


def test_a_page_larger_than_the_bound_is_planned_but_not_kept(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    size = _one_page_bytes(LinkPlanner(max_pushes=10, budget=1900, omit_held=False))
    planner = LinkPlanner(max_pushes=10, budget=1900, omit_held=False)
    planner.plan(POOL[1:2], set(), True)  # a small page, kept
    monkeypatch.setattr(links, "PLANS_BYTES", size)  # exactly one small page fits
    kept = dict(planner._pages)
    plan = planner.plan(POOL[:12], set(), True)
    assert plan == plan_links(POOL[:12], set(), may_push=True, max_pushes=10, budget=1900)
    assert planner._pages == kept and planner._bytes == size  # nothing dropped for it


@pytest.mark.parametrize(
    ("flags", "params"),
    [((), (("nonce", "n0nce1"),)), (("NONCE=n0nce1",), ())],
    ids=["nonce=", "Flask-Firehose's flag"],
)
def test_a_page_linking_a_nonce_is_planned_and_not_kept(
    flags: tuple[str, ...], params: tuple[tuple[str, str], ...]
) -> None:
    """A nonce is new on every response (CSP3), so a page whose link carries one is never
    planned again: kept, each response's took a page's room, and, the bound reached, the
    pages of every other response went with them."""
    policed = make_resource("/a.js", flags, "script", None, params)
    assert policed.per_request
    planner = LinkPlanner(max_pushes=10, budget=1900, omit_held=False)
    planner.plan(POOL[:2], set(), True)
    kept, kept_bytes = dict(planner._pages), planner._bytes
    page = [*POOL[:2], policed]
    for held in (set(), {"/a.js"}):
        plan = planner.plan(page, held, True)
        assert plan == plan_links(page, held, may_push=True, max_pushes=10, budget=1900)
    assert planner._pages == kept and planner._bytes == kept_bytes


def test_a_page_exactly_the_bound_on_its_own_is_kept_in_place_of_the_rest(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Past the bound all is dropped; a page that then fills it exactly is kept, and its
    plan is reused (only one larger than the bound on its own is planned every time)."""
    size = _one_page_bytes(LinkPlanner(max_pushes=10, budget=1900, omit_held=False))
    planner = LinkPlanner(max_pushes=10, budget=1900, omit_held=False)
    planner.plan(POOL[1:2], set(), True)  # a page as large, kept
    monkeypatch.setattr(links, "PLANS_BYTES", size)
    first = planner.plan(POOL[2:3], set(), True)
    assert list(planner._pages) == [tuple(POOL[2:3])] and planner._bytes == size
    assert planner.plan(POOL[2:3], set(), True) is first


def test_a_plan_two_threads_made_at_once_is_counted_once() -> None:
    """Two requests of a page new to the planner, for clients holding the same of it, both
    miss its plan and both keep it; the second to keep it must not count it again, or the
    count passes what the plans hold and the planner empties before its bound."""
    both_missed = threading.Barrier(2, timeout=10)

    class Together(LinkPlanner):
        def plan_uncached(self, *args: Any, **kwargs: Any) -> links.LinkPlan:
            both_missed.wait()
            return super().plan_uncached(*args, **kwargs)

    page = POOL[:3]
    planner = Together(max_pushes=10, budget=1900, omit_held=False)
    run_in_threads(*[functools.partial(planner.plan, page, set(), True)] * 2, interleave=False)
    alone = LinkPlanner(max_pushes=10, budget=1900, omit_held=False)
    alone.plan(page, set(), True)
    assert planner._bytes == alone._bytes


def test_a_known_page_that_fills_the_plans_is_counted_again_once_they_are_dropped(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A new plan of a page already kept, past the bound, drops every plan, the page's
    own too: the page is kept again with that plan alone, and counted as a page first
    kept with it (not as a plan added to a page counted already)."""
    page = POOL[:3]
    one_held = {page[0].key}  # its plan writes a nopush: the larger of the two
    probe = LinkPlanner(max_pushes=10, budget=1900, omit_held=False)
    probe.plan(page, one_held, True)
    larger = probe._bytes
    alone = LinkPlanner(max_pushes=10, budget=1900, omit_held=False)
    alone.plan(page, set(), True)
    assert alone._bytes < larger
    monkeypatch.setattr(links, "PLANS_BYTES", larger)  # the first plan fills it exactly
    planner = LinkPlanner(max_pushes=10, budget=1900, omit_held=False)
    planner.plan(page, one_held, True)
    assert planner._bytes == larger
    plan = planner.plan(page, set(), True)  # another way of holding it: past the bound
    assert plan == plan_links(page, set(), may_push=True, max_pushes=10, budget=1900)
    assert list(planner._pages[tuple(page)][1]) == [((False, False, False), True, False)]
    assert planner._bytes == alone._bytes
