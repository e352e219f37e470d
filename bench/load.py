"""Load: h2load through nginx (HTTP/2), the example site with the extension and without.

Two gunicorns serve the example site from one set of static files: ``SITE_TRACKING=digest``
(firehose_digest, its signed ``h2-digest`` cookie) and ``SITE_TRACKING=none`` (the same
``Link`` headers written by hand, nothing tracked). Each sits behind its own nginx 1.22
(``http2_push_preload on``, default buffers, as in :mod:`tests.integration.rig`). ``h2load`` drives
each front in turn, alternating A B B A so drift cancels, for a bounded time; the backend's
CPU time is read from ``/proc`` around each run.

Every request carries the digest cookie a browser holds after a browse, so the extension
does its real work. Two workloads, h2load cycling over ``/browse/50``..``/browse/69``:

- ``return visits``: the cookie of a 70-page browse holds every resource of those pages:
  all ``nopush``, no cookie written (the steady state of a returning browser);
- ``half new``: the cookie of a 60-page browse; pages 60-69 bring new resources, so half
  the requests copy, update, encode and sign the digest. h2load sends the same cookie every
  time (a browser would send the new one), so this is the worst case, not a browse.

h2load does not accept pushes, so what is compared is the application behind the proxy.
Checked as it is measured: through each nginx, a held page comes back all ``nopush`` from
the digest site and pushed whole from the other; every request must succeed with a 2xx;
neither gunicorn may log a traceback.

Run: ``python -m bench.load [--duration 5] [--rounds 2]``; under two minutes on 2 cores.
Writes ``bench/results/load.md``.
"""

from __future__ import annotations

import argparse
import http.client
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from contextlib import ExitStack
from dataclasses import dataclass, replace
from pathlib import Path

from examples.site import write_assets
from tests.integration.rig import (
    SITE_APP,
    Browser,
    Gunicorn,
    Nginx,
    executable,
    make_certificate,
    site_env,
)

from .report import machine, markdown_table, write

__all__ = ["WORKLOADS", "Run", "Workload", "main", "parse_h2load"]

ASSETS = 300
SECRET_KEY = "bench load secret"
DIGEST_SETTINGS = {"FIREHOSE_CAPACITY": 300, "FIREHOSE_FP_RATE": 0.01}
#: The pages h2load cycles over.
LOADED = range(50, 70)
TARGET_RATIO = 0.9
VARIANTS = ("digest", "none")


@dataclass(frozen=True)
class Workload:
    name: str
    #: The pages viewed, one after another carrying the cookie, before it is taken.
    browsed: range


WORKLOADS = (Workload("return visits", range(70)), Workload("half new", range(60)))


@dataclass(frozen=True)
class Run:
    """One h2load run: what it reported, and the CPU the backend spent meanwhile."""

    workload: str
    variant: str
    seconds: float
    requests_per_second: float
    done: int
    succeeded: int
    failed: int
    errored: int
    timeout: int
    status_2xx: int
    status_other: int
    backend_cpu_seconds: float = 0.0

    @property
    def cpu_ms_per_request(self) -> float:
        return 1000 * self.backend_cpu_seconds / max(1, self.done)

    @property
    def unsuccessful(self) -> int:
        return self.failed + self.errored + self.timeout + self.status_other


_FINISHED = re.compile(r"finished in ([\d.]+)s, ([\d.]+) req/s")
_REQUESTS = re.compile(
    r"requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded, (\d+) failed, "
    r"(\d+) errored, (\d+) timeout"
)
_STATUS = re.compile(r"status codes: (\d+) 2xx, (\d+) 3xx, (\d+) 4xx, (\d+) 5xx")


def parse_h2load(workload: str, variant: str, output: str) -> Run:
    """The figures of h2load's summary; ValueError if it has none (it failed to run)."""
    finished, requests, status = (
        pattern.search(output) for pattern in (_FINISHED, _REQUESTS, _STATUS)
    )
    if finished is None or requests is None or status is None:
        raise ValueError(f"h2load printed no summary:\n{output}")
    _, _, done, succeeded, failed, errored, timeout = (int(n) for n in requests.groups())
    ok, redirect, client_error, server_error = (int(n) for n in status.groups())
    return Run(
        workload=workload,
        variant=variant,
        seconds=float(finished.group(1)),
        requests_per_second=float(finished.group(2)),
        done=done,
        succeeded=succeeded,
        failed=failed,
        errored=errored,
        timeout=timeout,
        status_2xx=ok,
        status_other=redirect + client_error + server_error,
    )


def browse_cookie(port: int, pages: range) -> str:
    """View ``pages`` straight from gunicorn like a browser; return its digest cookie."""
    cookie = ""
    for page in pages:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        try:
            headers = {"Cookie": f"h2-digest={cookie}"} if cookie else {}
            connection.request("GET", f"/browse/{page}", headers=headers)
            response = connection.getresponse()
            response.read()
            if response.status != 200:
                raise RuntimeError(f"/browse/{page} answered {response.status}")
            for header in response.headers.get_all("Set-Cookie") or []:
                name, _, rest = header.partition("=")
                if name == "h2-digest":
                    cookie = rest.split(";", 1)[0]
        finally:
            connection.close()
    return cookie


def check_front(front: Nginx, variant: str, cookie: str) -> None:
    """A held page through nginx: all nopush and nothing pushed (digest), all pushed (none)."""
    browser = Browser(front.origin)
    browser.cookies["h2-digest"] = cookie
    view = browser.view(f"/browse/{LOADED[0]}")
    if view.status != 200 or len(view.declared) != 10:
        raise RuntimeError(f"{variant}: {view}")
    held = variant == "digest"
    if (len(view.nopush), len(view.pushed)) != ((10, 0) if held else (0, 10)):
        raise RuntimeError(f"{variant}: {len(view.nopush)} nopush, {len(view.pushed)} pushed")


def backend_cpu_seconds(port: int) -> float:
    """User + system CPU of the gunicorn bound to ``port``: its arbiter and its workers.

    Found by their command line (workers are forks of the arbiter, so they share it); read
    only. CPU time, unlike requests per second, hardly moves when other work shares the
    machine, so it is the steadier figure on a busy one.
    """
    bind = f"127.0.0.1:{port}".encode()
    ticks = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if bind not in (entry / "cmdline").read_bytes().split(b"\0"):
                continue
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:  # it exited meanwhile
            continue
        ticks += int(fields[11]) + int(fields[12])  # utime, stime (fields 14, 15 of stat)
    return ticks / os.sysconf("SC_CLK_TCK")


def h2load_argv(front: Nginx, cookie: str, args: argparse.Namespace) -> list[str]:
    urls = [f"{front.origin}/browse/{page}" for page in LOADED]
    return [
        "h2load", "-c", str(args.clients), "-m", str(args.streams), "-t", "1",
        "-H", f"cookie: h2-digest={cookie}", *urls,
    ]  # fmt: skip


def warm_up(front: Nginx, cookie: str, args: argparse.Namespace) -> None:
    """Untimed requests first: imports, template compilation, caches."""
    argv = [*h2load_argv(front, cookie, args), "-n", str(args.warm_up_requests)]
    subprocess.run(argv, capture_output=True, check=True, timeout=60)


def h2load(
    front: Nginx,
    backend: Gunicorn,
    workload: str,
    variant: str,
    cookie: str,
    args: argparse.Namespace,
) -> Run:
    argv = [*h2load_argv(front, cookie, args), "-D", str(args.duration)]
    cpu_before = backend_cpu_seconds(backend.port)
    done = subprocess.run(argv, capture_output=True, text=True, timeout=args.duration + 30)
    cpu = backend_cpu_seconds(backend.port) - cpu_before
    return replace(
        parse_h2load(workload, variant, done.stdout + done.stderr), backend_cpu_seconds=cpu
    )


def pair_ratios(runs: list[Run]) -> list[float]:
    """digest / none req/s for each pair of adjacent runs (A B, B A, ...): drift cancels."""
    ratios = []
    for first, second in zip(runs[::2], runs[1::2], strict=True):
        by_variant = {run.variant: run.requests_per_second for run in (first, second)}
        ratios.append(by_variant["digest"] / by_variant["none"])
    return ratios


@dataclass(frozen=True)
class Summary:
    workload: Workload
    cookie_length: int
    requests_per_second: dict[str, float]
    cpu_ms_per_request: dict[str, float]
    pair_ratios: list[float]

    @property
    def ratio(self) -> float:
        """digest / none requests per second: the median of the adjacent pairs."""
        return statistics.median(self.pair_ratios)

    @property
    def cpu_ratio(self) -> float:
        """Throughput at equal CPU: none's CPU per request over digest's."""
        return self.cpu_ms_per_request["none"] / self.cpu_ms_per_request["digest"]


def summarise(workload: Workload, cookie: str, runs: list[Run]) -> Summary:
    def median_of(variant: str, figure: str) -> float:
        return statistics.median(
            float(getattr(run, figure)) for run in runs if run.variant == variant
        )

    return Summary(
        workload,
        len(cookie),
        {variant: median_of(variant, "requests_per_second") for variant in VARIANTS},
        {variant: median_of(variant, "cpu_ms_per_request") for variant in VARIANTS},
        pair_ratios(runs),
    )


def report(runs: list[Run], summaries: list[Summary], args: argparse.Namespace, load: str) -> str:
    def verdict(value: float) -> str:
        return "meets" if value >= TARGET_RATIO else "misses"

    lines = [
        "<!-- Generated by `python -m bench.load`: do not edit. -->",
        "# Load through nginx: with the extension and without",
        "",
        f"`h2load -c {args.clients} -m {args.streams} -D {args.duration}` through nginx 1.22 "
        f"(HTTP/2, TLS) to the example site under gunicorn ({args.workers} sync workers), "
        f"cycling over `/browse/{LOADED[0]}`..`/browse/{LOADED[-1]}` with the `h2-digest` "
        "cookie of a browse on every request. `digest` is `SITE_TRACKING=digest`, `none` the "
        "same site writing its `Link` headers by hand. Runs alternate A B B A, after "
        f"{args.warm_up_requests} untimed requests each. {machine()}; load average {load}.",
        "",
    ]
    for summary in summaries:
        name = summary.workload.name
        rps, cpu = summary.requests_per_second, summary.cpu_ms_per_request
        unsuccessful = sum(run.unsuccessful for run in runs if run.workload == name)
        lines += [
            f"## {name}: cookie of a {len(summary.workload.browsed)}-page browse "
            f"({summary.cookie_length} characters)",
            "",
            f"- requests/s, medians: digest **{rps['digest']:.1f}**, none "
            f"**{rps['none']:.1f}**; ratio digest / none **{summary.ratio:.3f}** (median of "
            f"the adjacent pairs: {', '.join(f'{r:.2f}' for r in summary.pair_ratios)}): "
            f"{verdict(summary.ratio)} the target {TARGET_RATIO}",
            f"- backend CPU per request, medians: digest **{cpu['digest']:.2f} ms**, none "
            f"**{cpu['none']:.2f} ms**; throughput at equal CPU, digest / none, "
            f"**{summary.cpu_ratio:.3f}**: {verdict(summary.cpu_ratio)} the target "
            f"{TARGET_RATIO}",
            f"- failed or non-2xx requests: **{unsuccessful}**",
            "",
        ]
    rows = [
        [
            f"{number}. {run.workload}, {run.variant}",
            f"{run.requests_per_second:.1f}",
            f"{run.cpu_ms_per_request:.2f}",
            run.done,
            run.succeeded,
            run.unsuccessful,
        ]
        for number, run in enumerate(runs, start=1)
    ]
    lines += [
        "## Runs",
        "",
        markdown_table(
            ["run", "req/s", "backend CPU ms/request", "done", "succeeded", "failed or non-2xx"],
            rows,
        ),
        "Requests per second swing with whatever else the machine runs (the load average "
        "above); the backend's CPU time per request moves much less, so on a shared machine "
        "it is the figure to trust. `half new` is a worst case: h2load sends the same cookie "
        "every time, so every request to pages 60-69 updates and signs a digest that a "
        "browser would have updated once.",
    ]
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.load", description=__doc__)
    parser.add_argument("--duration", type=int, default=5, help="seconds per run (<= 20)")
    parser.add_argument("--rounds", type=int, default=2, help="A B B A rounds (<= 3)")
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--streams", type=int, default=4, help="h2load -m")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn sync workers")
    parser.add_argument("--warm-up-requests", type=int, default=1000)
    args = parser.parse_args(argv)
    if not 1 <= args.duration <= 20 or not 1 <= args.rounds <= 3:
        parser.error("--duration must be 1..20 seconds and --rounds 1..3: keep it bounded")
    missing = [tool for tool in ("nginx", "h2load", "nghttp", "openssl") if not executable(tool)]
    if missing:
        print(
            f"bench.load: {', '.join(missing)} not on PATH nor in /usr/sbin (make servers)",
            file=sys.stderr,
        )
        return 2

    started = time.monotonic()
    load_before = os.getloadavg()[0]
    runs: list[Run] = []
    summaries: list[Summary] = []
    with tempfile.TemporaryDirectory(prefix="firehose-load-") as tmp, ExitStack() as stack:
        workdir = Path(tmp)
        static = workdir / "static"
        write_assets(static, ASSETS)
        certificate = make_certificate(workdir / "cert")
        fronts: dict[str, Nginx] = {}
        backends: dict[str, Gunicorn] = {}
        for variant in VARIANTS:
            env = site_env(
                SECRET_KEY=SECRET_KEY,
                SITE_ASSETS=ASSETS,
                SITE_STATIC_DIR=static,
                SITE_TRACKING=variant,
                **DIGEST_SETTINGS,
            )
            workers = args.workers
            backend = Gunicorn(SITE_APP, workdir / f"gunicorn-{variant}", env, workers=workers)
            backends[variant] = stack.enter_context(backend)
            front = Nginx([backend.port], static, certificate, workdir / f"nginx-{variant}")
            fronts[variant] = stack.enter_context(front)

        for workload in WORKLOADS:
            cookie = browse_cookie(backends["digest"].port, workload.browsed)
            for variant, front in fronts.items():
                check_front(front, variant, cookie)
                warm_up(front, cookie, args)
            measured = []
            for _ in range(args.rounds):
                for variant in (*VARIANTS, *reversed(VARIANTS)):
                    run = h2load(
                        fronts[variant], backends[variant], workload.name, variant, cookie, args
                    )
                    measured.append(run)
                    print(
                        f"{workload.name}, {variant}: {run.requests_per_second:.1f} req/s, "
                        f"{run.done} done, {run.cpu_ms_per_request:.2f} ms CPU/request",
                        flush=True,
                    )
            runs += measured
            summaries.append(summarise(workload, cookie, measured))
        for variant, backend in backends.items():
            if "Traceback" in backend.log():
                raise RuntimeError(f"{variant}: gunicorn logged an error:\n{backend.log()}")

    load = f"{load_before:.1f} before, {os.getloadavg()[0]:.1f} after"
    text = report(runs, summaries, args, load)
    path = write("load.md", text)
    print(text)
    print(f"written to {path} in {time.monotonic() - started:.0f} s")
    return 1 if any(run.unsuccessful for run in runs) else 0


if __name__ == "__main__":
    sys.exit(main())
