"""How a webhook request is signed, and which target addresses a webhook may reach.

Signature: `X-GridWarden-Signature: sha256=<hex HMAC-SHA256(secret, timestamp + "." + body)>`, with
`X-GridWarden-Timestamp` (Unix seconds). Signing the timestamp with the body lets a receiver refuse
replays of an old request (compare it with its clock) and never trust an unsigned time.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import secrets
import socket
from urllib.parse import urlsplit

from core.errors import InvalidInput

SECRET_PREFIX = "whsec_"


def new_secret() -> str:
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def signature(*, secret: str, timestamp: int, body: bytes) -> str:
    digest = hmac.new(secret.encode(), str(timestamp).encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def _url_problem(url: str) -> str | None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        return "must be an http or https URL"
    if not parts.hostname:
        return "has no host"
    if parts.username or parts.password:
        return "must not carry credentials (the signature authenticates the sender)"
    return None


def _private(address: str) -> bool:
    ip = ipaddress.ip_address(address)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return not ip.is_global or ip.is_multicast


def target_problem(url: str, *, allow_private: bool) -> str | None:
    """Why a webhook may not be sent to `url` (None when it may). Every address the host resolves
    to must be public unless `allow_private`: otherwise a subscription could make the server call
    internal services (SSRF). Checked when the subscription is made and again before each request
    (the name may resolve elsewhere later)."""
    if problem := _url_problem(url):
        return problem
    if allow_private:
        return None  # any address may be reached: nothing to resolve
    host = urlsplit(url).hostname or ""
    try:
        infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError):
        return f"host {host!r} does not resolve"
    if any(_private(str(info[4][0])) for info in infos):
        return (f"host {host!r} resolves to a loopback, private, link-local or reserved address; "
                "webhooks go only to public addresses")
    return None


def check_target(url: str, *, allow_private: bool) -> None:
    if problem := target_problem(url, allow_private=allow_private):
        raise InvalidInput(f"The webhook URL {problem}.", errors=[{"field": "url", "message": problem}])
