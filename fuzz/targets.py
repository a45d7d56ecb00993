"""Fuzz targets: every parser of untrusted bytes, with the typed errors it may raise.

A target is a function of one ``bytes`` argument. Raising one of its ``expected`` exception types
is a correct rejection; any other exception is a crash (a bug). Run with ``python fuzz/run.py``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Target:
    name: str
    func: Callable[[bytes], object]
    expected: tuple[type[BaseException], ...]


TARGETS: dict[str, Callable[[], Target]] = {}


def target(name: str) -> Callable[[Callable[[], Target]], Callable[[], Target]]:
    """Register a target factory (imports happen inside, under atheris' instrumentation)."""

    def deco(factory: Callable[[], Target]) -> Callable[[], Target]:
        TARGETS[name] = factory
        return factory

    return deco


@target("cbor")
def _cbor() -> Target:
    from aioctap import cbor

    def run(data: bytes) -> None:
        cbor.loads(data)
        cbor.loads(data, strict=False)

    return Target("cbor", run, (cbor.CborError,))


@target("cose")
def _cose() -> Target:
    from aioctap.cose import CoseError, CoseKey

    def run(data: bytes) -> None:
        key = CoseKey.from_bytes(data)
        key.verify(b"message", data[:64])

    return Target("cose", run, (CoseError,))


@target("authenticator_data")
def _auth_data() -> Target:
    from aioctap.webauthn import AuthenticatorData, WebAuthnDataError

    def run(data: bytes) -> None:
        AuthenticatorData(data)
        if len(data) > 33:
            # force the AT and ED flags so the attested credential and extension parsers run
            AuthenticatorData(data[:32] + bytes([data[32] | 0xC0]) + data[33:])

    return Target("authenticator_data", run, (WebAuthnDataError,))


@target("client_data")
def _client_data() -> Target:
    from aioctap.webauthn import CollectedClientData, WebAuthnDataError

    return Target("client_data", CollectedClientData, (WebAuthnDataError,))
