"""Push and preload static resources from Flask, remembering what each client holds.

A signed cache-digest cookie (a Golomb-coded set or a Bloom filter of the pushed urls)
tells which resources a client already has, so nothing is pushed twice and the server
keeps nothing per client.

To follow one request through the code, read docs/how-it-works.md, "One request, in
order" first: it names the function each step runs.

Reading the code, ``init_app`` first, then in the order a request meets it:

- The Flask adapter: :mod:`.extension` (``Firehose`` and the request path, its steps in
  its docstring) and :mod:`.request_record` (the WSGI wrapper, the request's record it
  makes, and the claim of it); at ``init_app``, :mod:`.settings` (every ``FIREHOSE_*`` key) and
  :mod:`.init_checks` (what ``init_app`` checks: the config's keys, the connector); then
  :mod:`.cookie_fields` (an HTTP/2 ``Cookie`` an ASGI wrapper joined with "," joined
  again, as the request comes in), :mod:`.browser` (what a request and its response are
  to a browser: Fetch Metadata, frames, downloads), :mod:`.early_hints` (sending a 103
  through the server), :mod:`.connectors` (the connector protocol and the connectors),
  :mod:`.cookie_scope` (the cookie's scope, read through Flask's session interface on
  each request, and the cookie values a request sent), :mod:`.held_digests` (the decoded
  digests a process keeps), :mod:`.secret_key` (whether ``SECRET_KEY`` signs),
  :mod:`.app_session` (the app's Flask session, as the session connectors keep their
  keys in it), :mod:`.static` (static files pushed by content: versioned urls, their
  elements, their caching).
- The pure core, which imports neither Flask nor Werkzeug (tests/test_layout.py keeps it
  so): :mod:`.collect` (what ``push()`` gathers), :mod:`.links` (``Link`` values and the
  plan of what to push), :mod:`.hints` (103 Early Hints), :mod:`.digests` (the Golomb-coded
  set and the Bloom filter), :mod:`.codec` (the signed cookie value), :mod:`.sizes` (the
  bytes each bounded cache counts), :mod:`.locks` (the caches' locks, taken across a
  fork).
- The CLI, :mod:`.__main__`: ``firehose-digest plan`` and ``inspect``, which reads what an
  operator pastes with :mod:`.pasted`, a HAR file's headers with :mod:`.har`.
"""

from .codec import DigestCodec as DigestCodec
from .connectors import Connector as Connector
from .connectors import DigestConnector as DigestConnector
from .connectors import PushedSetConnector as PushedSetConnector
from .connectors import SessionConnector as SessionConnector
from .digests import AgingDigest as AgingDigest
from .digests import BloomDigest as BloomDigest
from .digests import DigestError as DigestError
from .digests import GCSDigest as GCSDigest
from .digests import load_digest as load_digest
from .extension import Firehose as Firehose
from .extension import push as push
from .links import format_link as format_link
from .static import push_static as push_static
from .static import static_tag as static_tag

#: What README.md documents: the extension, and what a connector or a tool of your own uses.
__all__ = [
    "AgingDigest",
    "BloomDigest",
    "Connector",
    "DigestCodec",
    "DigestConnector",
    "DigestError",
    "Firehose",
    "GCSDigest",
    "PushedSetConnector",
    "SessionConnector",
    "format_link",
    "load_digest",
    "push",
    "push_static",
    "static_tag",
]

__version__ = "0.1.0.dev0"
