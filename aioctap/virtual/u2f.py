"""CTAP1/U2F over CTAPHID_MSG (FIDO U2F Raw Message Formats): register, authenticate, version.

Key handles are sealed the same way as CTAP2 credential IDs (bound to the application parameter),
so a U2F registration is usable from CTAP2 with the appid extension and vice versa.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from typing import Protocol

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from ..ctap import STATUS
from ..ctap1 import APDU, ApduError, Ctap1
from .state import AuthenticatorState

__all__ = ["U2fAuthenticator", "command_name", "handle", "parse_apdu"]


class U2fAuthenticator(Protocol):
    """What U2F needs of the authenticator (:class:`~aioctap.virtual.VirtualAuthenticator` is one)."""

    state: AuthenticatorState

    def attestation_private_key(self) -> ec.EllipticCurvePrivateKey:
        """The batch attestation key, which also signs U2F registrations."""
        ...

    async def user_presence(self, set_status: Callable[[STATUS], None]) -> bool | None:
        """Ask for a touch: True if given, False if refused, None if no answer came in time."""
        ...


_INS = frozenset(Ctap1.INS)


def parse_apdu(apdu: bytes) -> tuple[int, int, int, int, bytes]:
    """(cla, ins, p1, p2, data) of a short or extended-length command APDU; ApduError(WRONG_LENGTH) if malformed."""
    if len(apdu) < 4:
        raise ApduError(APDU.WRONG_LENGTH)
    cla, ins, p1, p2 = apdu[:4]
    body = apdu[4:]
    if not body:
        return cla, ins, p1, p2, b""
    if body[0] == 0 and len(body) >= 3:  # extended length
        (lc,) = struct.unpack_from(">H", body, 1)
        data = body[3 : 3 + lc]
        rest = len(body) - 3 - lc
        if len(data) != lc or rest not in (0, 2):
            raise ApduError(APDU.WRONG_LENGTH)
        return cla, ins, p1, p2, data
    if len(body) == 1:  # Le only
        return cla, ins, p1, p2, b""
    lc = body[0]
    data = body[1 : 1 + lc]
    if len(data) != lc or len(body) - 1 - lc not in (0, 1):
        raise ApduError(APDU.WRONG_LENGTH)
    return cla, ins, p1, p2, data


def command_name(apdu: bytes) -> str:
    """The U2F command an APDU carries, for the log."""
    if len(apdu) < 2:
        return "malformed"
    return Ctap1.INS(apdu[1]).name.lower() if apdu[1] in _INS else "unknown"


def _sw(sw: int) -> bytes:
    return struct.pack(">H", sw)


async def handle(auth: U2fAuthenticator, apdu: bytes, set_status: Callable[[STATUS], None]) -> bytes:
    """Run one U2F request APDU (register, authenticate or version) and return the response APDU.

    Errors come back as a status word (FIDO U2F Raw Message Formats), never as an exception.
    """
    try:
        cla, ins, p1, _p2, data = parse_apdu(apdu)
        if cla != 0:
            raise ApduError(APDU.CLA_NOT_SUPPORTED)
        if ins == Ctap1.INS.VERSION:
            return b"U2F_V2" + _sw(APDU.OK)
        if ins in (Ctap1.INS.REGISTER, Ctap1.INS.AUTHENTICATE) and auth.state.always_uv:
            raise ApduError(APDU.INS_NOT_SUPPORTED)  # alwaysUv: U2F cannot verify the user, so it is disabled
        if ins == Ctap1.INS.REGISTER:
            return await _register(auth, data, set_status)
        if ins == Ctap1.INS.AUTHENTICATE:
            return await _authenticate(auth, p1, data, set_status)
        raise ApduError(APDU.INS_NOT_SUPPORTED)
    except ApduError as e:
        return _sw(e.code)


async def _register(auth: U2fAuthenticator, data: bytes, set_status: Callable[[STATUS], None]) -> bytes:
    if len(data) != 64:
        raise ApduError(APDU.WRONG_LENGTH)
    challenge, app = data[:32], data[32:]
    if not await auth.user_presence(set_status):  # refused or timed out
        raise ApduError(APDU.USE_NOT_SATISFIED)
    handle_, key = auth.state.new_credential(-7, app)
    public = (
        key.private_key()
        .public_key()
        .public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    )
    to_sign = b"\x00" + app + challenge + handle_ + public
    signature = auth.attestation_private_key().sign(to_sign, ec.ECDSA(hashes.SHA256()))
    body = b"\x05" + public + bytes([len(handle_)]) + handle_ + auth.state.attestation_cert + signature
    return body + _sw(APDU.OK)


async def _authenticate(auth: U2fAuthenticator, p1: int, data: bytes, set_status: Callable[[STATUS], None]) -> bytes:
    if len(data) < 65 or len(data) != 65 + data[64]:
        raise ApduError(APDU.WRONG_LENGTH)
    challenge, app, handle_ = data[:32], data[32:64], data[65:]
    key = auth.state.open_credential(handle_, app)
    if key is None or key.alg != -7 or key.cred_protect == 3:
        raise ApduError(APDU.WRONG_DATA)  # not ours, not P-256, or needs user verification U2F cannot give
    if p1 == 0x07:  # check-only
        raise ApduError(APDU.USE_NOT_SATISFIED)
    if p1 == 0x03:  # enforce-user-presence-and-sign
        if not await auth.user_presence(set_status):
            raise ApduError(APDU.USE_NOT_SATISFIED)
        presence = 1
    elif p1 == 0x08:  # dont-enforce-user-presence-and-sign
        presence = 0
    else:
        raise ApduError(APDU.WRONG_DATA)
    counter = auth.state.next_sign_count()
    signed = app + bytes([presence]) + struct.pack(">I", counter) + challenge
    return bytes([presence]) + struct.pack(">I", counter) + key.sign(signed) + _sw(APDU.OK)
