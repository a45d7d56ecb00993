"""python-fido2's ``fido2.attestation`` API over aioctap's attestation verifiers (:mod:`aioctap.server.attestation`).

``Attestation.for_type(fmt)()`` gives the verifier of one statement format; ``verify(statement, auth_data,
client_data_hash)`` returns an :class:`AttestationResult` (python-fido2's :class:`AttestationType` and DER trust
path) or raises python-fido2's exceptions. Every check is aioctap's
(:func:`aioctap.server.attestation.verify_attestation`, WebAuthn L3 §8); this module only translates names,
results and errors. aioctap's errors map
onto python-fido2's: a malformed statement or a certificate that breaks its format's rules is :class:`InvalidData`,
a signature that does not verify :class:`InvalidSignature`, a chain that reaches no trusted root
:class:`UntrustedAttestation`, an unknown format :class:`UnsupportedType`. Each is also an
:class:`aioctap.server.errors.AttestationError`.

Stricter than python-fido2 (README "Coming from python-fido2"): certificates are checked for validity at the time
of verification (``now=``, default the current time) with RFC 5280 path validation, and a tpm statement needs
``ver`` "2.0" (WebAuthn L3 §8.3).

An :class:`AttestationVerifier` is callable as ``verify_attestation(attestation_object, client_data_hash)``, the
hook of :class:`aioctap.server.Fido2Server` (as in python-fido2).
"""

from __future__ import annotations

import abc
import datetime
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import IntEnum, unique
from typing import ClassVar

from cryptography.hazmat.primitives.serialization import Encoding

from ..server.attestation import AttestationType as _ServerType
from ..server.attestation import verify_attestation as _verify_attestation
from ..server.attestation._common import load_der, verify_chain
from ..server.errors import (
    AttestationError,
    AttestationSignatureError,
    MalformedAttestationError,
    UnsupportedAttestationFormatError,
    UntrustedAttestationError,
)
from ..webauthn import AttestationObject, AuthenticatorData

__all__ = [
    "AndroidKeyAttestation",
    "AndroidSafetynetAttestation",
    "AppleAttestation",
    "Attestation",
    "AttestationResult",
    "AttestationType",
    "AttestationVerifier",
    "FidoU2FAttestation",
    "InvalidAttestation",
    "InvalidData",
    "InvalidSignature",
    "NoneAttestation",
    "PackedAttestation",
    "TpmAttestation",
    "UnsupportedAttestation",
    "UnsupportedType",
    "UntrustedAttestation",
    "verify_x509_chain",
]


class InvalidAttestation(AttestationError):
    """Base exception for attestation errors (python-fido2's name; also aioctap's AttestationError)."""


class InvalidData(InvalidAttestation):
    """The attestation statement is malformed, or a certificate breaks its format's requirements."""


class InvalidSignature(InvalidAttestation):
    """A signature of the attestation (the statement's, or one up the certificate chain) does not verify."""


class UntrustedAttestation(InvalidAttestation):
    """The attestation's certificate chain does not lead to a trusted root."""


class UnsupportedType(InvalidAttestation):
    """The attestation statement format is not supported (``fmt``; ``auth_data`` is the registration's)."""

    def __init__(self, auth_data: AuthenticatorData | object, fmt: str | None = None) -> None:
        super().__init__(
            f'Attestation format "{fmt}" is not supported' if fmt else "This attestation format is not supported!"
        )
        self.auth_data = auth_data
        self.fmt = fmt


@unique
class AttestationType(IntEnum):
    """Attestation types (WebAuthn L3 §6.5.4), python-fido2's integer values."""

    BASIC = 1
    SELF = 2
    ATT_CA = 3
    ANON_CA = 4
    NONE = 0


@dataclass
class AttestationResult:
    """The result of verifying an attestation statement: its type and trust path (DER certificates, leaf first)."""

    attestation_type: AttestationType
    trust_path: list[bytes] = field(default_factory=list)


def _now(now: datetime.datetime | None) -> datetime.datetime:
    when = now or datetime.datetime.now(datetime.UTC)
    return when if when.tzinfo is not None else when.replace(tzinfo=datetime.UTC)


def _translate(e: AttestationError, auth_data: object, fmt: str) -> InvalidAttestation:
    """python-fido2's exception for one of aioctap's attestation errors."""
    if isinstance(e, UnsupportedAttestationFormatError):
        return UnsupportedType(auth_data, fmt)
    if isinstance(e, UntrustedAttestationError):
        return UntrustedAttestation(str(e))
    if isinstance(e, AttestationSignatureError):
        return InvalidSignature(str(e))
    return InvalidData(str(e))


def verify_x509_chain(chain: Sequence[bytes], *, now: datetime.datetime | None = None) -> None:
    """Verify a chain of DER certificates, leaf first: each is signed by the next, and the path is valid at ``now``.

    aioctap's RFC 5280 path validation (the one its attestation formats use) with the last certificate as the
    anchor: :class:`InvalidSignature` if the path does not verify (a signature, a validity
    period, a CA constraint), :class:`InvalidData` if a certificate does not parse.
    """
    if not chain:
        raise InvalidData("empty certificate chain")
    try:
        certs = [load_der(der, "certificate chain") for der in chain]
        verify_chain(certs, [], _now(now))
    except MalformedAttestationError as e:
        raise InvalidData(str(e)) from e
    except AttestationError as e:
        raise InvalidSignature(str(e)) from e


class Attestation(abc.ABC):
    """The verifier of one attestation statement format (``FORMAT``), python-fido2's base class."""

    FORMAT: ClassVar[str | None] = None
    _formats: ClassVar[dict[str, type[Attestation]]] = {}

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        if cls.FORMAT is not None:
            Attestation._formats.setdefault(cls.FORMAT, cls)

    @abc.abstractmethod
    def verify(
        self,
        statement: Mapping[str, object],
        auth_data: AuthenticatorData,
        client_data_hash: bytes,
        *,
        now: datetime.datetime | None = None,
    ) -> AttestationResult:
        """Verify the attestation statement (certificates checked at ``now``, default the current time)."""

    @staticmethod
    def for_type(fmt: str) -> type[Attestation]:
        """The Attestation class of format ``fmt``; an :class:`UnsupportedAttestation` class for an unknown one."""
        known = Attestation._formats.get(fmt)
        if known is not None:
            return known

        class TypedUnsupportedAttestation(UnsupportedAttestation):
            def __init__(self) -> None:
                super().__init__(fmt)

        return TypedUnsupportedAttestation


class UnsupportedAttestation(Attestation):
    """The verifier of a format aioctap does not implement: ``verify`` raises :class:`UnsupportedType`."""

    def __init__(self, fmt: str | None = None) -> None:
        self.fmt = fmt

    def verify(
        self,
        statement: Mapping[str, object],
        auth_data: AuthenticatorData,
        client_data_hash: bytes,
        *,
        now: datetime.datetime | None = None,
    ) -> AttestationResult:
        """Raise :class:`UnsupportedType`."""
        raise UnsupportedType(auth_data, self.fmt)


class _FormatAttestation(Attestation):
    """A format verified by :func:`aioctap.server.attestation.verify_attestation`."""

    FORMAT: ClassVar[str | None] = None

    def verify(
        self,
        statement: Mapping[str, object],
        auth_data: AuthenticatorData,
        client_data_hash: bytes,
        *,
        now: datetime.datetime | None = None,
    ) -> AttestationResult:
        """Verify the statement with aioctap's verifier of this format (WebAuthn L3 §8); certificates at ``now``."""
        fmt = self.FORMAT or ""
        try:
            res = _verify_attestation(fmt, statement, auth_data, client_data_hash, now=_now(now))
        except InvalidAttestation:
            raise
        except AttestationError as e:
            raise _translate(e, auth_data, fmt) from e
        path = [c.public_bytes(Encoding.DER) for c in res.trust_path]
        return AttestationResult(AttestationType[_ServerType(res.type).name], path)


class NoneAttestation(_FormatAttestation):
    """The "none" format (WebAuthn L3 §8.7): the statement must be empty."""

    FORMAT = "none"


class PackedAttestation(_FormatAttestation):
    """The "packed" format (WebAuthn L3 §8.2)."""

    FORMAT = "packed"


class TpmAttestation(_FormatAttestation):
    """The "tpm" format (WebAuthn L3 §8.3)."""

    FORMAT = "tpm"


class AndroidKeyAttestation(_FormatAttestation):
    """The "android-key" format (WebAuthn L3 §8.4; python-fido2 has no verifier for it)."""

    FORMAT = "android-key"


class AndroidSafetynetAttestation(_FormatAttestation):
    """The "android-safetynet" format (WebAuthn L3 §8.5)."""

    FORMAT = "android-safetynet"


class FidoU2FAttestation(_FormatAttestation):
    """The "fido-u2f" format (WebAuthn L3 §8.6)."""

    FORMAT = "fido-u2f"


class AppleAttestation(_FormatAttestation):
    """The "apple" format (WebAuthn L3 §8.8)."""

    FORMAT = "apple"


def _default_attestations() -> list[Attestation]:
    return [cls() for fmt, cls in Attestation._formats.items() if fmt != "none"]


def _der(value: object, what: str) -> bytes:
    """``value`` (a subclass's answer) as DER bytes; anything but bytes-like is :class:`UntrustedAttestation`."""
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value)
    raise UntrustedAttestation(f"{what} is a {type(value).__name__}, not DER bytes")


class AttestationVerifier(abc.ABC):
    """Verifies attestation against trusted roots: override :meth:`ca_lookup` to give the root of a trust path.

    An instance is callable as ``verifier(attestation_object, client_data_hash)``, what
    ``Fido2Server(rp, attestation=..., verify_attestation=verifier)`` calls.
    """

    def __init__(self, attestation_types: Sequence[Attestation] | None = None) -> None:
        self._attestation_types = list(attestation_types or _default_attestations())

    @abc.abstractmethod
    def ca_lookup(self, attestation_result: AttestationResult, auth_data: AuthenticatorData) -> bytes | None:
        """The DER root certificate to verify ``attestation_result``'s trust path against, or None (untrusted)."""

    def verify_attestation(
        self,
        attestation_object: AttestationObject,
        client_data_hash: bytes,
        *,
        now: datetime.datetime | None = None,
    ) -> None:
        """Verify the attestation statement and that its trust path leads to :meth:`ca_lookup`'s root.

        :class:`UnsupportedType` for a format none of the attestation types handles (the caller may accept the
        registration anyway), :class:`UntrustedAttestation` when no root is found or the path does not reach it.
        """
        verifier: Attestation = UnsupportedAttestation(attestation_object.fmt)
        for at in self._attestation_types:
            if getattr(at, "FORMAT", None) == attestation_object.fmt:
                verifier = at
                break
        when = _now(now)
        args = (attestation_object.att_stmt, attestation_object.auth_data, client_data_hash)
        if isinstance(verifier, _FormatAttestation | UnsupportedAttestation):
            result = verifier.verify(*args, now=when)
        else:  # a python-fido2 style Attestation subclass: verify(statement, auth_data, client_data_hash)
            result = verifier.verify(*args)
            # its trust path as DER bytes before any ca_lookup reads it (MdsAttestationVerifier's loads them)
            result.trust_path = [_der(der, "a trust path certificate") for der in result.trust_path]
        ca = self.ca_lookup(result, attestation_object.auth_data)
        if not ca:
            raise UntrustedAttestation("No root found for Authenticator")
        try:
            certs = [load_der(der, "trust path") for der in result.trust_path]
            root = load_der(_der(ca, "ca_lookup's root"), "root certificate")
            if certs and not verify_chain(certs, [root], when):
                raise UntrustedAttestation("the trust path does not lead to the root")
            if not certs:
                raise UntrustedAttestation("the attestation has no trust path to verify against the root")
        except AttestationError as e:
            raise (e if isinstance(e, InvalidAttestation) else UntrustedAttestation(str(e))) from e

    def __call__(self, attestation_object: AttestationObject, client_data_hash: bytes) -> None:
        """Verify (as :meth:`verify_attestation`): an instance is a ``Fido2Server`` ``verify_attestation`` hook."""
        self.verify_attestation(attestation_object, client_data_hash)
