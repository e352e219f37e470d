"""Moving a Flask-Firehose 0.2.3 app to firehose_digest, behind nginx.

The app is :mod:`tests.integration.migration_app`: written as Flask-Firehose's README
writes one, its import switched to firehose_digest and nothing else changed (or its
connector switched as docs/connectors.md suggests). The client is the rig's ``nghttp``
browser, one cookie jar.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.integration.rig import Browser, Gunicorn, site_env

from .launcher import BROWSE, Launcher

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("flask_firehose_installed")]

MIGRATION_APP = "tests.integration.migration_app:create_app()"


def migration_site(
    servers: Launcher, workdir: Path, library: str, connector: str = "default"
) -> Gunicorn:
    """A gunicorn serving the migration app with ``library`` and ``connector``."""
    env = site_env(
        MIGRATION_LIBRARY=library,
        MIGRATION_CONNECTOR=connector,
        SITE_STATIC_DIR=servers.static_dir,
    )
    return servers.start(Gunicorn(MIGRATION_APP, workdir, env))


@pytest.mark.parametrize("connector", ["flask-firehose", "in-session"])
def test_a_flask_firehose_session_connector_kept_never_makes_nginx_answer_502(
    own_servers: Launcher, tmp_path: Path, connector: str
) -> None:
    """Flask-Firehose's own session connector, or connectors.md's ``PushedInSession``, kept
    as they are (the docs: they "work as they are"): their list in the session grows with
    every url pushed, and nothing in ``FIREHOSE_HEADER_BUDGET`` counts it. Flask-Firehose
    itself made nginx answer 502 from about the 94th view of this browse
    (test_anchors.py); with firehose_digest the held links stay in the header as
    ``nopush``, so with the same connector the 502s began about 15 views sooner, and never
    stopped. What ``set_pushed`` writes to Flask's cookie session is now kept within the
    budget, as SessionConnector's list is.
    """
    site = migration_site(own_servers, tmp_path / "site", "firehose_digest", connector)
    front = own_servers.nginx([site])

    figures = Browser(front.origin, tracking_cookie="session").browse(["/", *BROWSE])

    assert figures.errors == 0, f"the first view that failed: {figures.first_error_view}"
    assert "upstream sent too big header" not in front.log()
