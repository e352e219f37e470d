"""Tuning tools: ``python -m firehose_digest plan`` and ``python -m firehose_digest inspect``.

``plan`` fills a digest of each encoding to capacity with random keys and prints what a
configuration costs: bits per entry, the signed cookie, the information limit, and the
false-positive rate measured on fresh keys. ``inspect`` verifies a cookie with the app's
secret key and says what it holds.
"""

from __future__ import annotations

import argparse
import math
import os
import secrets
import sys
import time
from collections.abc import Sequence

from itsdangerous import BadData
from itsdangerous.encoding import base64_decode

from .codec import DEFAULT_SALT, DigestCodec, salt_for
from .digests import AgingDigest, BloomDigest, DigestError, load_digest
from .settings import DEFAULTS, ENCODINGS

DEFAULT_MAX_AGE: int = DEFAULTS["FIREHOSE_MAX_AGE"]


def plan(capacity: int, fp_rate: float, probes: int, out: list[str]) -> None:
    """Measure each encoding at ``capacity`` keys and ``fp_rate``."""
    limit_bits = math.log2(1 / fp_rate)
    out.append(
        f"capacity {capacity}, target false-positive rate {fp_rate:g}: information limit "
        f"{limit_bits:.2f} bits/entry = {math.ceil(capacity * limit_bits / 8)} bytes"
    )
    out.append(
        f"{'encoding':9}{'bits/entry':>11}{'digest B':>10}{'cookie B':>10}{'x limit':>9}"
        f"{'2-gen cookie B':>16}{'measured FPR':>14}"
    )
    codec = DigestCodec([secrets.token_bytes(16)], DEFAULT_SALT, DEFAULT_MAX_AGE)
    for name, kind in ENCODINGS.items():
        one = AgingDigest(kind, capacity, fp_rate)
        two = AgingDigest(kind, capacity, fp_rate)
        for i in range(capacity):
            one.add(f"/static/r{i}.css")
        for i in range(2 * capacity):
            two.add(f"/static/r{i}.css")
        # One full generation, as the cookie is when the client has seen `capacity` keys
        # (a Bloom filter may rotate a little early: its count is an estimate).
        single = 3 + len(one.current.to_bytes())
        bits = 8 * len(one.current.to_bytes()) / capacity
        misses = sum(f"/fresh/{i}" in one for i in range(probes))
        out.append(
            f"{name:9}{bits:>11.2f}{single:>10}"
            f"{len(codec.dumps(bytes(single))):>10}{bits / limit_bits:>9.2f}"
            f"{len(codec.dumps(two.to_bytes())):>16}{misses / probes:>14.4%}"
        )
    out.append(
        "bits/entry: one generation, header included; digest B: with headers; cookie B: "
        "signed, as sent; 2-gen: both generations full, the most the cookie ever grows to"
    )


def inspect(value: str, secret_keys: Sequence[str], salt: str, max_age: int) -> list[str]:
    """Describe a cookie value: whether it verifies, and the digest it carries."""
    out: list[str] = []
    payload: bytes | None = None
    if secret_keys:
        try:
            payload, issued_at = DigestCodec(secret_keys, salt, max_age).loads(value)
            out.append(f"valid: signed {int(time.time()) - issued_at} s ago")
        except DigestError as e:
            out.append(f"NOT valid: {e}")
    else:
        out.append("NOT verified: no secret key (--secret-key or FLASK_SECRET_KEY)")
    if payload is None:
        try:
            payload = base64_decode(value.split(".", 1)[0])
        except BadData as e:
            out.append(f"payload: not base64url ({e})")
            return out
        out.append("(showing the unverified payload)")
    try:
        digest = load_digest(payload)
    except DigestError as e:
        out.append(f"payload of {len(payload)} bytes is not a digest: {e}")
        return out
    out.append(f"payload: {len(payload)} bytes")
    generations = (
        [("current", digest.current), ("previous", digest.previous)]
        if isinstance(digest, AgingDigest)
        else [("digest", digest)]
    )
    for label, generation in generations:
        out.append(
            f"{label}: {type(generation).__name__}, capacity {generation.capacity}, "
            f"false-positive rate {generation.fp_rate:.4g} at capacity, "
            f"{len(generation)} entries"
            + (" (estimated)" if isinstance(generation, BloomDigest) else "")
        )
    return out


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m firehose_digest", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    plan_cmd = commands.add_parser("plan", help="size and false-positive rate per encoding")
    plan_cmd.add_argument("--capacity", type=int, default=300)
    plan_cmd.add_argument("--fp-rate", type=float, default=0.01)
    plan_cmd.add_argument("--probes", type=int, default=100_000, help="fresh keys to test")
    inspect_cmd = commands.add_parser("inspect", help="verify and describe a digest cookie")
    inspect_cmd.add_argument("cookie", help="the cookie's value")
    inspect_cmd.add_argument(
        "--secret-key",
        action="append",
        help="SECRET_KEY (repeat, oldest first, for SECRET_KEY_FALLBACKS); "
        "default: $FLASK_SECRET_KEY",
    )
    inspect_cmd.add_argument("--digest-version", default="", help="FIREHOSE_DIGEST_VERSION")
    inspect_cmd.add_argument("--max-age", type=int, default=DEFAULT_MAX_AGE)
    args = parser.parse_args(argv)

    if args.command == "plan":
        out: list[str] = []
        try:
            plan(args.capacity, args.fp_rate, args.probes, out)
        except ValueError as e:
            parser.error(str(e))
        print("\n".join(out))
        return 0
    keys = args.secret_key or [key for key in [os.environ.get("FLASK_SECRET_KEY")] if key]
    print("\n".join(inspect(args.cookie, keys, salt_for(args.digest_version), args.max_age)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
