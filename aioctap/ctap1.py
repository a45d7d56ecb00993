"""Async CTAP1/U2F over CTAPHID_MSG (FIDO U2F Raw Message Formats), python-fido2's ``fido2.ctap1`` names."""

from __future__ import annotations

import struct
from dataclasses import FrozenInstanceError, dataclass
from enum import IntEnum, unique
from typing import overload

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

from .ctap import CtapDevice
from .hid.protocol import CTAPHID
from .utils import websafe_decode, websafe_encode

__all__ = [
    "APDU",
    "ApduError",
    "ClaNotSupportedError",
    "Ctap1",
    "InsNotSupportedError",
    "RegistrationData",
    "SignatureData",
    "U2fResponseError",
    "UseNotSatisfiedError",
    "WrongDataError",
    "WrongLengthError",
]


@unique
class APDU(IntEnum):
    """Status words."""

    OK = 0x9000
    USE_NOT_SATISFIED = 0x6985
    WRONG_DATA = 0x6A80
    WRONG_LENGTH = 0x6700
    INS_NOT_SUPPORTED = 0x6D00
    CLA_NOT_SUPPORTED = 0x6E00


class ApduError(Exception):
    """A U2F command failed with status word ``code``.

    :meth:`send_apdu <Ctap1.send_apdu>` raises the subclass for the known status words
    (:class:`UseNotSatisfiedError`, :class:`WrongDataError`, ...), all catchable as ``ApduError``.
    """

    def __init__(self, code: int, data: bytes = b"") -> None:
        self.code = code
        self.data = data
        try:
            name = APDU(code).name
        except ValueError:
            name = "UNKNOWN"
        super().__init__(f"APDU error: 0x{code:04X} {name}")

    @staticmethod
    def for_status(code: int, data: bytes = b"") -> ApduError:
        """The typed error for a status word (plain :class:`ApduError` for unknown ones)."""
        return _APDU_ERRORS.get(code, ApduError)(code, data)


class UseNotSatisfiedError(ApduError):
    """0x6985: test of user presence required (touch the key), or for check-only: the key handle is ours."""


class WrongDataError(ApduError):
    """0x6A80: the key handle was not created by this authenticator for this application, or bad data."""


class WrongLengthError(ApduError):
    """0x6700: the request has the wrong length."""


class InsNotSupportedError(ApduError):
    """0x6D00: the instruction is not supported."""


class ClaNotSupportedError(ApduError):
    """0x6E00: the class byte is not supported."""


_APDU_ERRORS: dict[int, type[ApduError]] = {
    APDU.USE_NOT_SATISFIED: UseNotSatisfiedError,
    APDU.WRONG_DATA: WrongDataError,
    APDU.WRONG_LENGTH: WrongLengthError,
    APDU.INS_NOT_SUPPORTED: InsNotSupportedError,
    APDU.CLA_NOT_SUPPORTED: ClaNotSupportedError,
}


class U2fResponseError(ValueError):
    """A U2F response is malformed."""


_REGISTRATION_MEMBERS = ("public_key", "key_handle", "certificate", "signature")


def _parse_registration(data: bytes) -> tuple[bytes, bytes, bytes, bytes]:
    """(public key, key handle, certificate, signature) of a U2F registration response message."""
    if len(data) < 67 or data[0] != 0x05:
        raise U2fResponseError("U2F registration response must start with 0x05 and hold a 65-byte key")
    public_key = data[1:66]
    kh_len = data[66]
    if len(data) < 67 + kh_len + 4:
        raise U2fResponseError("U2F registration response is truncated")
    key_handle = data[67 : 67 + kh_len]
    rest = data[67 + kh_len :]
    if rest[0] != 0x30:
        raise U2fResponseError("attestation certificate is not DER")
    if rest[1] & 0x80:
        n = rest[1] & 0x7F
        if n == 0 or n > 3 or len(rest) < 2 + n:
            raise U2fResponseError("attestation certificate has an invalid DER length")
        cert_len = 2 + n + int.from_bytes(rest[2 : 2 + n], "big")
    else:
        cert_len = 2 + rest[1]
    if len(rest) <= cert_len:
        raise U2fResponseError("U2F registration response has no signature")
    return public_key, key_handle, rest[:cert_len], rest[cert_len:]


class RegistrationData(bytes):
    """U2F registration response: public key, key handle, attestation certificate, signature.

    As python-fido2's, the response message's bytes: ``RegistrationData(data)`` parses them (bad bytes raise
    :class:`U2fResponseError`, a ``ValueError``); ``RegistrationData(public_key, key_handle, certificate, signature)``
    builds them from the members. Immutable; equal when the bytes are.
    """

    public_key: bytes
    key_handle: bytes
    certificate: bytes
    signature: bytes

    @overload
    def __new__(cls, data: bytes, /) -> RegistrationData: ...
    @overload
    def __new__(
        cls, public_key: bytes, key_handle: bytes, certificate: bytes, signature: bytes
    ) -> RegistrationData: ...
    def __new__(
        cls,
        public_key: bytes,
        key_handle: bytes | None = None,
        certificate: bytes | None = None,
        signature: bytes | None = None,
    ) -> RegistrationData:
        if key_handle is None and certificate is None and signature is None:
            if not isinstance(public_key, bytes | bytearray | memoryview):  # bytes(n) would make n zero bytes
                raise U2fResponseError(f"U2F registration response must be bytes, got {type(public_key).__name__}")
            data = bytes(public_key)
            members = _parse_registration(data)
        elif key_handle is None or certificate is None or signature is None:
            raise TypeError("RegistrationData takes the response bytes or all four members")
        else:
            if len(key_handle) > 255:
                raise U2fResponseError("a U2F key handle is at most 255 bytes")
            members = (bytes(public_key), bytes(key_handle), bytes(certificate), bytes(signature))
            data = b"\x05" + members[0] + bytes([len(key_handle)]) + members[1] + members[2] + members[3]
        self = super().__new__(cls, data)
        for name, value in zip(_REGISTRATION_MEMBERS, members, strict=True):
            object.__setattr__(self, name, value)
        return self

    def __setattr__(self, name: str, value: object) -> None:
        raise FrozenInstanceError(f"cannot assign to field {name!r}")

    def __delattr__(self, name: str) -> None:
        raise FrozenInstanceError(f"cannot delete field {name!r}")

    def __getnewargs__(self) -> tuple[bytes, bytes, bytes, bytes]:  # type: ignore[override]
        # copy and pickle rebuild from the members (they need not parse back: a test's certificate may not be DER)
        return self.public_key, self.key_handle, self.certificate, self.signature

    def __repr__(self) -> str:
        members = ", ".join(f"{name}={getattr(self, name)!r}" for name in _REGISTRATION_MEMBERS)
        return f"RegistrationData({members})"

    @classmethod
    def from_bytes(cls, data: bytes) -> RegistrationData:
        """Parse a U2F registration response message (FIDO U2F Raw Message Formats §4.3); bad bytes raise
        U2fResponseError."""
        return cls(data)

    @property
    def b64(self) -> str:
        """The response bytes, websafe base64 (python-fido2's ``RegistrationData.b64``)."""
        return websafe_encode(self)

    @classmethod
    def from_b64(cls, data: str) -> RegistrationData:
        """Parse websafe base64 response bytes (python-fido2's ``RegistrationData.from_b64``); bad base64 or bytes
        raise :class:`U2fResponseError`."""
        try:
            raw = websafe_decode(data)
        except ValueError as e:  # WebAuthnDataError: not base64url, not ASCII, not a string
            raise U2fResponseError(f"U2F registration response is not websafe base64: {e}") from None
        return cls(raw)

    def verify(self, app_param: bytes, client_param: bytes) -> None:
        """Check the attestation signature: ``InvalidSignature``, or :class:`U2fResponseError` for a bad certificate."""
        try:
            key = x509.load_der_x509_certificate(self.certificate).public_key()
        except (ValueError, x509.InvalidVersion, UnsupportedAlgorithm) as e:  # neither is a ValueError
            raise U2fResponseError(f"attestation certificate is not a valid DER X.509 certificate: {e}") from None
        if not isinstance(key, ec.EllipticCurvePublicKey):
            raise InvalidSignature("U2F attestation key must be EC")
        message = b"\x00" + app_param + client_param + self.key_handle + self.public_key
        key.verify(self.signature, message, ec.ECDSA(hashes.SHA256()))


@dataclass(frozen=True)
class SignatureData:
    """U2F authentication response: user presence, counter, signature."""

    user_presence: int
    counter: int
    signature: bytes
    raw: bytes

    @classmethod
    def from_bytes(cls, data: bytes) -> SignatureData:
        """Parse a U2F authentication response message (FIDO U2F Raw Message Formats §5.4); bad bytes raise
        U2fResponseError."""
        if len(data) < 6:
            raise U2fResponseError("U2F authentication response too short")
        up, counter = struct.unpack_from(">BI", data)
        return cls(up, counter, data[5:], data)

    def verify(self, app_param: bytes, client_param: bytes, public_key: bytes) -> None:
        """Check the signature with the raw P-256 key: ``InvalidSignature`` or :class:`U2fResponseError`."""
        try:
            key = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), public_key)
        except ValueError:
            raise U2fResponseError("U2F public key is not a valid P-256 point") from None
        message = app_param + self.raw[:5] + client_param
        key.verify(self.signature, message, ec.ECDSA(hashes.SHA256()))


class Ctap1:
    """U2F commands over a CTAP device."""

    @unique
    class INS(IntEnum):
        """U2F instruction codes (FIDO U2F Raw Message Formats §4-§6)."""

        REGISTER = 0x01
        AUTHENTICATE = 0x02
        VERSION = 0x03

    def __init__(self, device: CtapDevice) -> None:
        self.device = device

    async def send_apdu(self, cla: int = 0, ins: int = 0, p1: int = 0, p2: int = 0, data: bytes = b"") -> bytes:
        """Send an extended-length APDU; status words other than 0x9000 raise :class:`ApduError`."""
        # extended length, Lc always present (as python-fido2 sends it, also for no data), Le = 0x0000
        apdu = struct.pack(">BBBBBH", cla, ins, p1, p2, 0, len(data)) + data + b"\x00\x00"
        response = await self.device.call(CTAPHID.MSG, apdu)
        if len(response) < 2:
            raise U2fResponseError("U2F response shorter than a status word")
        (status,) = struct.unpack(">H", response[-2:])
        if status != APDU.OK:
            raise ApduError.for_status(status, response[:-2])
        return response[:-2]

    async def get_version(self) -> str:
        """U2F_VERSION: the protocol version string (``"U2F_V2"``)."""
        return (await self.send_apdu(ins=Ctap1.INS.VERSION)).decode("ascii", "replace")

    async def register(self, client_param: bytes, app_param: bytes) -> RegistrationData:
        """U2F_REGISTER: create a key pair for ``app_param`` (needs a touch; raises ApduError until touched)."""
        return RegistrationData(await self.send_apdu(ins=Ctap1.INS.REGISTER, data=client_param + app_param))

    async def authenticate(
        self, client_param: bytes, app_param: bytes, key_handle: bytes, check_only: bool = False
    ) -> SignatureData:
        """U2F_AUTHENTICATE: sign with ``key_handle`` (``check_only``: only ask whether it is this device's)."""
        data = client_param + app_param + bytes([len(key_handle)]) + key_handle
        p1 = 0x07 if check_only else 0x03
        return SignatureData.from_bytes(await self.send_apdu(ins=Ctap1.INS.AUTHENTICATE, p1=p1, data=data))
