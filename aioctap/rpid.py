"""RP ID validation (WebAuthn L3 §5.1.3 step 8, HTML's "registrable domain suffix"): python-fido2's ``fido2.rpid``."""

from __future__ import annotations

import functools
import ipaddress
from urllib.parse import urlsplit

from publicsuffixlist import PublicSuffixList

__all__ = ["verify_rp_id"]


@functools.cache
def _public_suffix_list() -> PublicSuffixList:
    """The public suffix list (ICANN and private sections, as browsers apply it), loaded on first use."""
    return PublicSuffixList()


def _ip_address(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(host.removeprefix("[").removesuffix("]"))
    except ValueError:
        return None


def _secure_context(scheme: str, host: str) -> bool:
    """HTML's potentially trustworthy origin: https, or http on localhost, *.localhost or a loopback address."""
    if scheme == "https":
        return True
    if scheme != "http":
        return False
    if host == "localhost" or host.endswith(".localhost"):
        return True
    ip = _ip_address(host)
    return ip is not None and ip.is_loopback


def verify_rp_id(rp_id: str, origin: str) -> bool:
    """Whether *rp_id* may be used from *origin* (WebAuthn L3 §5.1.3 step 8, §5.1.4.1 step 8).

    The origin must be a secure context, and the RP ID must be "a registrable domain suffix of or equal to" its
    host (HTML): the host itself, or, for a domain host, a dot-suffix of it that is not a public suffix (``com``,
    ``co.uk``, ``github.io``). An IP address only ever matches itself. ``localhost`` is an RP ID for its
    subdomains too (``http://app.localhost``; as in python-fido2 and browsers: the PSL's default rule would make it a
    public suffix, but RFC 6761 reserves those names for loopback).
    """
    try:
        parts = urlsplit(origin)
        host = (parts.hostname or "").lower()
    except ValueError:
        return False
    rp_id = rp_id.lower()
    if not host or not rp_id or not _secure_context(parts.scheme, host):
        return False
    host_ip = _ip_address(host)
    rp_ip = _ip_address(rp_id)
    if host_ip is not None or rp_ip is not None:
        return host_ip is not None and host_ip == rp_ip
    if host == rp_id:
        return True
    if not host.endswith("." + rp_id):
        return False
    if rp_id == "localhost":  # RFC 6761 §6.3: every *.localhost name is this machine's loopback, not a public suffix's
        return True
    psl = _public_suffix_list()
    if psl.is_public(rp_id):
        return False
    # HTML: nor may the RP ID be a dot-suffix of the host's own public suffix
    host_suffix = psl.publicsuffix(host)
    return not (isinstance(host_suffix, str) and (host_suffix == rp_id or host_suffix.endswith("." + rp_id)))
