"""A connector for Redis, written by a newcomer from docs/connectors.md alone.

"The protocol" and "A connector of your own" are the path: ``open(app, request)`` returns
a container answering ``key in held`` (here one that also carries the client's id, read
back in ``save()`` after ``assert isinstance(held, Held)``), and ``save(app, response,
held, pushed, reused)`` writes what changed: a Redis ``SADD``, a union, so a client's
parallel requests lose nothing. A dict of sets stands for Redis, answering as redis-py
does with ``decode_responses=True`` (str, not bytes); one that fails stands for a server
gone away.
"""

from __future__ import annotations

import secrets
from collections import UserString
from collections.abc import Container, Iterator
from dataclasses import dataclass

import pytest
from flask import Flask, Request, Response, request, session

from firehose_digest import Connector, Firehose, push

DAY = 24 * 3600


class FakeRedis:
    """The three commands the connector uses, as redis-py answers them (decoded)."""

    def __init__(self) -> None:
        self.sets: dict[str, set[str]] = {}
        self.ttl: dict[str, int] = {}

    def smembers(self, name: str) -> set[str]:
        return set(self.sets.get(name, ()))

    def sadd(self, name: str, *values: str) -> int:
        held = self.sets.setdefault(name, set())
        added = set(values) - held
        held.update(values)
        return len(added)

    def expire(self, name: str, seconds: int) -> bool:
        self.ttl[name] = seconds
        return name in self.sets


class GoneRedis(FakeRedis):
    """A Redis server that does not answer."""

    def smembers(self, name: str) -> set[str]:
        raise ConnectionError("Error 111 connecting to localhost:6379. Connection refused.")

    def sadd(self, name: str, *values: str) -> int:
        raise ConnectionError("Error 111 connecting to localhost:6379. Connection refused.")


class BytesRedis(FakeRedis):
    """redis-py made without ``decode_responses=True``: members come back as bytes."""

    def smembers(self, name: str) -> set[bytes]:  # type: ignore[override]
        return {value.encode() for value in self.sets.get(name, ())}


@dataclass(frozen=True)
class Held:
    """What one client holds, and its id (None before its first push)."""

    sid: str | None
    keys: frozenset[str]

    def __contains__(self, key: object) -> bool:
        return key in self.keys


class RedisConnector:
    cookie_name = "h2-sid"

    def __init__(self, redis: FakeRedis, ttl: int = 30 * DAY) -> None:
        self.redis = redis
        self.ttl = ttl

    def open(self, app: Flask, request: Request) -> Held:
        sid = request.cookies.get(self.cookie_name)
        if sid is None:
            return Held(None, frozenset())  # a new client: None would push nothing
        return Held(sid, frozenset(self.redis.smembers(f"held:{sid}")))

    def save(
        self,
        app: Flask,
        response: Response,
        held: Container[str],
        pushed: tuple[str, ...],
        reused: tuple[str, ...],
    ) -> None:
        assert isinstance(held, Held)
        sid = held.sid or secrets.token_urlsafe(16)
        if pushed:
            self.redis.sadd(f"held:{sid}", *pushed)
        self.redis.expire(f"held:{sid}", self.ttl)  # a client in use is kept
        if held.sid is None:
            response.set_cookie(
                self.cookie_name, sid, max_age=self.ttl, httponly=True, samesite="Lax"
            )


def site(redis: FakeRedis, kind: type[RedisConnector] = RedisConnector, **config: object) -> Flask:
    app = Flask(__name__)
    app.config.update(config)
    connector: Connector = kind(redis)  # the protocol, as a type checker reads it
    Firehose(app, connector=connector)

    @app.route("/")
    def index() -> str:
        push("/static/app.css", as_="style")
        push("/static/app.js", as_="script", version="2")
        return "index"

    @app.route("/about")
    def about() -> str:
        push("/static/app.css", as_="style")
        push("/static/about.css", as_="style")
        return "about"

    @app.route("/cdn")
    def cdn() -> str:
        push("https://fonts.example", rel="preconnect")
        push("https://cdn.example/lib.js", as_="script")
        push("/static/app.css", as_="style")
        return "cdn"

    @app.route("/user")
    def user() -> str:
        return request.cookies.get(RedisConnector.cookie_name, "")

    return app


CSS = "</static/app.css>; rel=preload; as=style"
JS = "</static/app.js>; rel=preload; as=script"


def test_a_redis_connector_written_from_the_docs_pushes_each_file_once() -> None:
    redis = FakeRedis()
    client = site(redis).test_client()

    first = client.get("/")
    assert first.headers["Link"] == f"{CSS}, {JS}"
    assert first.headers["Vary"] == "Cookie"
    sid = first.headers["Set-Cookie"].partition(";")[0].removeprefix("h2-sid=")
    # No SECRET_KEY: nothing is signed, the id is random and the store is the server's.
    assert redis.sets == {f"held:{sid}": {"/static/app.css", "/static/app.js\n2"}}
    assert redis.ttl == {f"held:{sid}": 30 * DAY}

    again = client.get("/")
    assert again.headers["Link"] == f"{CSS}; nopush, {JS}; nopush"
    assert again.headers["Vary"] == "Cookie"
    assert "Set-Cookie" not in again.headers

    about = client.get("/about")
    assert about.headers["Link"] == (f"{CSS}; nopush, </static/about.css>; rel=preload; as=style")
    assert redis.sets[f"held:{sid}"] == {
        "/static/app.css",
        "/static/app.js\n2",
        "/static/about.css",
    }


def test_a_client_the_store_forgot_is_pushed_again_under_its_id() -> None:
    """Its set expired: open() reads it empty, so the page is pushed again and saved
    under the id the client sent, with no new cookie."""
    redis = FakeRedis()
    client = site(redis).test_client()
    assert client.get("/user").data == b""  # a page that pushes nothing sets no id
    sid = client.get("/").headers["Set-Cookie"].partition(";")[0].removeprefix("h2-sid=")
    del redis.sets[f"held:{sid}"]

    again = client.get("/")
    assert again.headers["Link"] == f"{CSS}, {JS}"
    assert "Set-Cookie" not in again.headers
    assert redis.sets == {f"held:{sid}": {"/static/app.css", "/static/app.js\n2"}}


@pytest.mark.parametrize("early_hints", [False, True], ids=["plain", "early hints"])
def test_a_redis_server_gone_costs_the_page_nothing(
    early_hints: bool, caplog: pytest.LogCaptureFixture
) -> None:
    """docs/connectors.md: a connector that raises is logged, and the page is served with
    its links, all nopush; with 103s on, open() is asked before the second page's view,
    and once only."""
    sent: list[object] = []
    server = {"wsgi.early_hints": sent.append, "HTTP_ACCEPT": "text/html"}
    client = site(GoneRedis(), FIREHOSE_EARLY_HINTS=early_hints).test_client()
    client.set_cookie(RedisConnector.cookie_name, "known")
    for _ in range(2):  # the second page's 103 is planned from what the first taught
        response = client.get("/", environ_base=server)
        assert response.status_code == 200
        assert response.headers["Link"] == f"{CSS}; nopush, {JS}; nopush"
    assert caplog.text.count("open() failed") == 2  # asked once per request
    # A 103 carries only what the response will push and record: here, nothing.
    assert sent == []


class NoStoreConnector(RedisConnector):
    """One that can remember nothing for this client now: ``open()`` answers None."""

    def open(self, app: Flask, request: Request) -> None:  # type: ignore[override]
        return None


def test_an_open_returning_none_keeps_the_links_and_sends_no_103() -> None:
    """docs/connectors.md: an ``open()`` that returns None leaves the page its links, all
    nopush, records nothing, and with 103s on, sends none: a 103 offers only what will be
    recorded."""
    redis = FakeRedis()
    sent: list[object] = []
    server = {"wsgi.early_hints": sent.append, "HTTP_ACCEPT": "text/html"}
    client = site(redis, NoStoreConnector, FIREHOSE_EARLY_HINTS=True).test_client()
    for _ in range(2):  # the second page's 103 is planned from what the first taught
        response = client.get("/", environ_base=server)
        assert response.headers["Link"] == f"{CSS}; nopush, {JS}; nopush"
    assert sent == []
    assert redis.sets == {}


@pytest.mark.parametrize("store", ["gone", "none"])
@pytest.mark.parametrize("front", [True, False], ids=["behind a front", "own HTTP/2"])
def test_an_open_that_can_record_nothing_is_hinted_nothing_a_front_would_push(
    store: str, front: bool
) -> None:
    """docs/connectors.md: with 103s on, a request whose ``open()`` raises or returns None
    is hinted nothing a front would push, as a 103 offers for push only what will be
    recorded; its 103 still carries what no front pushes and nothing records, as every
    client's does: a preconnect, and over the app's own HTTP/2 a link to another origin."""
    sent: list[object] = []
    server = {"wsgi.early_hints": sent.append, "HTTP_ACCEPT": "text/html"}
    if not front:
        server["SERVER_PROTOCOL"] = "HTTP/2.0"
    if store == "gone":
        app = site(GoneRedis(), FIREHOSE_EARLY_HINTS=True)
    else:
        app = site(FakeRedis(), NoStoreConnector, FIREHOSE_EARLY_HINTS=True)
    client = app.test_client()
    client.set_cookie(RedisConnector.cookie_name, "known")
    for _ in range(2):  # the second page's 103 is planned from what the first taught
        response = client.get("/cdn", environ_overrides=server)
        assert response.headers["Link"] == (
            "<https://fonts.example>; rel=preconnect, "
            "<https://cdn.example/lib.js>; rel=preload; as=script; nopush, "
            f"{CSS}; nopush"
        )
    hinted = "<https://fonts.example>; rel=preconnect"
    if not front:
        hinted += ", <https://cdn.example/lib.js>; rel=preload; as=script"
    assert sent == [[("Link", hinted)]]


def test_a_redis_answering_bytes_holds_no_key() -> None:
    """docs/connectors.md: keys are str, and a Redis client made without
    ``decode_responses=True`` answers bytes, so every file is pushed on every visit."""
    client = site(BytesRedis()).test_client()
    client.get("/")
    assert client.get("/").headers["Link"] == f"{CSS}, {JS}"


class SetReplyConnector:
    """``open()`` returns redis-py's ``SMEMBERS`` reply as it is, a set; ``save()`` adds
    the pushed keys with ``SADD``. One client, one key."""

    def __init__(self, redis: FakeRedis) -> None:
        self.redis = redis

    def open(self, app: Flask, request: Request) -> set[str]:
        return self.redis.smembers("held")

    def save(
        self,
        app: Flask,
        response: Response,
        held: Container[str],
        pushed: tuple[str, ...],
        reused: tuple[str, ...],
    ) -> None:
        if pushed:
            self.redis.sadd("held", *pushed)


class SetReplyPushed:
    """The same, written for Flask-Firehose: ``get_pushed()`` and ``set_pushed(items)``."""

    def __init__(self, redis: FakeRedis) -> None:
        self.redis = redis

    def get_pushed(self) -> set[str]:
        return self.redis.smembers("held")

    def set_pushed(self, items: set[str]) -> None:
        self.redis.sadd("held", *items)


class RowsPushed(SetReplyPushed):
    """One over a database: ``get_pushed()`` returns the rows a query fetched, tuples
    (SQLAlchemy's ``fetchall()``), not the urls in them."""

    def get_pushed(self) -> list[tuple[str]]:  # type: ignore[override]
        return [(key,) for key in self.redis.sets.get("held", ())]


class GeneratorPushed(SetReplyPushed):
    """One whose ``get_pushed()`` yields the members of the reply, one by one."""

    def get_pushed(self) -> Iterator[str]:  # type: ignore[override]
        yield from self.redis.smembers("held")


@pytest.mark.parametrize(
    ("kind", "said"),
    [
        (SetReplyConnector, "open() returned a set of bytes"),
        (SetReplyPushed, "get_pushed() returned a set of bytes"),
        (RowsPushed, "get_pushed() returned a list of tuple"),
        (GeneratorPushed, "get_pushed() returned a frozenset of bytes"),
    ],
    ids=["open", "get_pushed", "rows", "get_pushed-generator"],
)
def test_a_store_reply_holding_no_str_key_is_an_error_not_a_push_on_every_visit(
    kind: type[SetReplyConnector | SetReplyPushed], said: str, caplog: pytest.LogCaptureFixture
) -> None:
    """docs/connectors.md: keys are str. A set of bytes (redis-py's ``SMEMBERS`` without
    ``decode_responses=True``) or a list of rows holds none of them: returned as it is, it
    is an error, as if ``open()`` had raised, logged with what to do, and the page keeps
    its links, all nopush; not every file pushed again on every visit, silently."""
    redis = BytesRedis()
    app = Flask(__name__)
    app.config["SECRET_KEY"] = "test"
    Firehose(app, connector=kind(redis))

    @app.route("/")
    def index() -> str:
        push("/static/app.css", as_="style")
        return "index"

    client = app.test_client()
    assert client.get("/").headers["Link"] == CSS  # the store held nothing yet
    assert redis.sets == {"held": {"/static/app.css"}}
    again = client.get("/")
    assert again.headers["Link"] == f"{CSS}; nopush"
    assert said in caplog.text
    assert ("decode_responses=True" in caplog.text) == ("bytes" in said)
    assert redis.sets == {"held": {"/static/app.css"}}


class StrayPushed(SetReplyPushed):
    """One whose store's reply holds a stray value first, before the keys: a NULL row's
    None, or bytes a client made without ``decode_responses=True`` once wrote."""

    def __init__(self, redis: FakeRedis, stray: object) -> None:
        super().__init__(redis)
        self.stray = stray

    def get_pushed(self) -> list[object]:  # type: ignore[override]
        return [self.stray, *self.redis.sets.get("held", ())]

    def set_pushed(self, items: set[str]) -> None:
        self.redis.sadd("held", *(key for key in items if isinstance(key, str)))


@pytest.mark.parametrize("stray", [None, b"/static/old.css"], ids=["None", "bytes"])
def test_a_store_reply_holding_a_str_key_among_others_is_used_as_it_is(
    stray: object, caplog: pytest.LogCaptureFixture
) -> None:
    """Only a reply of bytes or rows holding no str is refused: a stray value first,
    beside the keys or alone (a client holding nothing yet), costs nothing but itself."""
    redis = FakeRedis()
    app = Flask(__name__)
    Firehose(app, connector=StrayPushed(redis, stray))

    @app.route("/")
    def index() -> str:
        push("/static/app.css", as_="style")
        return "index"

    client = app.test_client()
    if stray is None:
        assert client.get("/").headers["Link"] == CSS
    else:  # bytes alone: refused, until a str key is stored beside them
        assert client.get("/").headers["Link"] == f"{CSS}; nopush"
        redis.sets["held"] = {"/static/app.css"}
        caplog.clear()
    assert client.get("/").headers["Link"] == f"{CSS}; nopush"
    assert redis.sets == {"held": {"/static/app.css"}}
    assert caplog.text == ""


class StrLikeConnector(SetReplyConnector):
    """One whose store's client answers its members as ``UserString``s: not str, but
    each equal to, and hashed as, the key it holds, so ``key in held`` finds them; after
    ``stray`` (bytes an older client wrote), once it holds any."""

    def __init__(self, redis: FakeRedis, stray: tuple[bytes, ...]) -> None:
        super().__init__(redis)
        self.stray = stray

    def open(self, app: Flask, request: Request) -> list[object]:  # type: ignore[override]
        keys = [UserString(key) for key in sorted(self.redis.smembers("held"))]
        return [*self.stray, *keys] if keys else []


@pytest.mark.parametrize("stray", [(), (b"/static/old.css",)], ids=["alone", "after-bytes"])
def test_a_store_reply_of_str_like_keys_is_used_as_it_is(
    stray: tuple[bytes, ...], caplog: pytest.LogCaptureFixture
) -> None:
    """``UserString`` keys answer ``in`` as str keys do: they are keys, and the reply is
    not refused as holding none (rows), which left every link nopush, unrecorded."""
    redis = FakeRedis()
    app = Flask(__name__)
    Firehose(app, connector=StrLikeConnector(redis, stray))
    pushes = ["/static/app.css"]

    @app.route("/")
    def index() -> str:
        push(pushes[0], as_="style")
        for url in pushes[1:]:
            push(url, as_="script")
        return "index"

    client = app.test_client()
    assert client.get("/").headers["Link"] == CSS
    pushes.append("/static/app.js")
    assert client.get("/").headers["Link"] == f"{CSS}; nopush, {JS}"
    assert redis.sets == {"held": {"/static/app.css", "/static/app.js"}}
    assert caplog.text == ""


class UserConnector(RedisConnector):
    """Keyed by the signed-in user's id in Flask's session; a visitor signed in to nothing
    holds nothing. ``save()`` writes as ``write`` says: ``"carried"`` stores what ``open()``
    found under the id it found it for, ``"union"`` adds the pushed keys under the id the
    session has now, ``"reread"`` stores ``held`` and the pushed keys under that id."""

    def __init__(self, redis: FakeRedis, write: str) -> None:
        super().__init__(redis)
        self.write = write
        self.opened_for: list[str | None] = []  # the user each open() found

    def open(self, app: Flask, request: Request) -> Held:
        user = session.get("user")
        self.opened_for.append(user)
        if user is None:
            return Held(None, frozenset())
        return Held(user, frozenset(self.redis.smembers(f"held:{user}")))

    def save(
        self,
        app: Flask,
        response: Response,
        held: Container[str],
        pushed: tuple[str, ...],
        reused: tuple[str, ...],
    ) -> None:
        assert isinstance(held, Held)
        user = held.sid if self.write == "carried" else session.get("user")
        if user is None or not pushed:
            return
        if self.write == "reread":
            self.redis.sets[f"held:{user}"] = set(held.keys | frozenset(pushed))
        else:
            self.redis.sadd(f"held:{user}", *pushed)


@pytest.mark.parametrize("write", ["carried", "union", "reread"])
def test_a_user_keyed_open_asked_before_a_sign_in_finds_the_user_the_request_came_with(
    write: str,
) -> None:
    """docs/connectors.md: with 103s on, ``open()`` is asked before the view, so on a page
    that signs a user in it finds no user; written under the id it found them for, or
    added as a union, the user's keys stay; stored with ``held`` under the id read again,
    they are lost."""
    redis = FakeRedis()
    redis.sets["held:bob"] = {"/static/app.js\n2", "/static/about.css"}
    app = Flask(__name__)
    app.config.update(SECRET_KEY="test", FIREHOSE_EARLY_HINTS=True)
    connector = UserConnector(redis, write)
    Firehose(app, connector=connector)

    @app.route("/sign-in")
    def sign_in() -> str:
        session["user"] = request.cookies["user"]
        push("/static/app.css", as_="style")
        return "signed in"

    server = {"wsgi.early_hints": lambda headers: None, "HTTP_ACCEPT": "text/html"}
    for user in ("alice", "bob"):  # alice's page teaches the 103 that bob's is planned from
        client = app.test_client()
        client.set_cookie("user", user)
        client.get("/sign-in", environ_base=server)
    assert connector.opened_for == ["alice", None]
    bobs = redis.sets["held:bob"]
    if write == "reread":
        assert bobs == {"/static/app.css"}
    else:
        assert bobs >= {"/static/app.js\n2", "/static/about.css"}
