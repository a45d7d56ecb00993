"""Authenticator side of authenticatorClientPIN (CTAP 2.1 §6.5) and pinUvAuthToken checks."""

from __future__ import annotations

import hashlib
import hmac
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric import ec

from ..cose import EcdhEsHkdf256
from ..ctap import STATUS
from ..ctap2.model import PERMISSION, ClientPinCmd
from ..ctap2.model import ClientPinRequest as P
from ..ctap2.model import ClientPinResult as R
from ..ctap2.pin import PinProtocol, PinProtocolError, PinProtocolV1, PinProtocolV2
from .common import ERR, FingerprintSensor, checked, fail, opt_param, req_param
from .state import AuthenticatorState

__all__ = ["PinState"]

TOKEN_LIFETIME = 600.0  # maximum usage time period of a pinUvAuthToken (seconds)
INITIAL_USAGE_LIMIT = 30.0  # a token not used within this (USB's default) stops being usable
USER_PRESENT_LIMIT = 30.0  # how long a token obtained with built-in UV stands for a touch


_ALL_PERMISSIONS = sum(p.value for p in PERMISSION)  # the bits this authenticator knows


@dataclass
class _Token:
    value: bytes
    permissions: int
    rp_id: str | None
    issued: float
    user_present: bool = False
    used: bool = False

    def __repr__(self) -> str:
        return f"_Token(permissions=0x{self.permissions:02x}, rp_id={self.rp_id!r})"


class PinState:
    """The volatile PIN/UV state of one power-up: key agreement key, token, failure counter."""

    PROTOCOLS: dict[int, PinProtocol] = {1: PinProtocolV1(), 2: PinProtocolV2()}

    def __init__(self, state: AuthenticatorState, clock: Callable[[], float], sensor: FingerprintSensor) -> None:
        self.state = state
        self.clock = clock
        self.sensor = sensor
        self.power_cycle()

    def power_cycle(self) -> None:
        """Start a new power-up: a fresh key agreement key, no token, the failure counters at 0."""
        self._key = ec.generate_private_key(ec.SECP256R1())
        self.token: _Token | None = None
        self.consecutive_failures = 0

    def __repr__(self) -> str:
        return f"PinState(token={'set' if self.token else 'none'}, failures={self.consecutive_failures})"

    @property
    def key_agreement_key(self) -> ec.EllipticCurvePrivateKey:
        """The authenticator's key agreement key of this power-up (regenerated after a wrong PIN)."""
        return self._key

    def protocol(self, version: object) -> PinProtocol:
        """The PIN/UV auth protocol ``version`` names (CTAP 2.1 §6.5.6, §6.5.7).

        Raises CTAP2_ERR_CBOR_UNEXPECTED_TYPE for a non-integer, CTAP1_ERR_INVALID_PARAMETER for an
        unsupported version.
        """
        proto = self.PROTOCOLS.get(checked(version, int))
        if proto is None:
            raise fail(ERR.INVALID_PARAMETER)
        return proto

    def shared_secret(self, proto: PinProtocol, key_agreement: Mapping[int, object]) -> bytes:
        """``proto``'s shared secret with the platform's ``key_agreement`` key; INVALID_PARAMETER if it is not one."""
        try:
            return proto.ecdh(self._key, dict(key_agreement))
        except PinProtocolError:
            raise fail(ERR.INVALID_PARAMETER) from None

    # -- token use by other commands ----------------------------------------------------------

    def verify_token(
        self, protocol_version: object, param: bytes, message: bytes, permission: PERMISSION, rp_id: str | None = None
    ) -> None:
        """Check a pinUvAuthParam made with the current token: HMAC, permission, RP ID, expiry (§6.5.5.7)."""
        proto = self.protocol(protocol_version)
        token = self.token
        if token is None:
            raise fail(ERR.PIN_AUTH_INVALID)
        age = self.clock() - token.issued
        if age > TOKEN_LIFETIME or (age > INITIAL_USAGE_LIMIT and not token.used):
            self.token = None  # stopUsingPinUvAuthToken
            raise fail(ERR.PIN_TOKEN_EXPIRED)
        if not hmac.compare_digest(proto.authenticate(token.value, message), param):
            raise fail(ERR.PIN_AUTH_INVALID)
        if not token.permissions & permission:
            raise fail(ERR.PIN_AUTH_INVALID)
        if rp_id is not None:
            if token.rp_id is None:
                token.rp_id = rp_id  # the first use binds a token without an RP ID
            elif token.rp_id != rp_id:
                raise fail(ERR.PIN_AUTH_INVALID)
        token.used = True

    def verify_persistent_token(self, protocol_version: object, param: bytes, message: bytes) -> bool:
        """Whether ``param`` authenticates ``message`` under the persistentPinUvAuthToken (CTAP 2.2, pcmr); it
        does not expire and survives power cycles, so there is nothing else to check here."""
        token = self.state.persistent_token
        if token is None:
            return False
        return hmac.compare_digest(self.protocol(protocol_version).authenticate(token, message), param)

    @staticmethod
    def _check_permissions(permissions: int, rp_id: str | None, refused: int = 0) -> None:
        """The checks of a token request's permissions (§6.5.5.7.2, §6.5.5.7.3); ``refused``: the permissions
        this way of getting a token cannot give."""
        if permissions == 0:
            raise fail(ERR.INVALID_PARAMETER)
        if permissions & ~_ALL_PERMISSIONS or permissions & refused:  # (two tests: ~int | IntFlag drops unknown bits)
            raise fail(ERR.UNAUTHORIZED_PERMISSION)
        pcmr = PERMISSION.PERSISTENT_CREDENTIAL_MGMT
        if permissions & pcmr and permissions != pcmr:
            raise fail(ERR.UNAUTHORIZED_PERMISSION)  # pcmr is asked for alone: it names another token
        if permissions & (PERMISSION.MAKE_CREDENTIAL | PERMISSION.GET_ASSERTION) and rp_id is None:
            raise fail(ERR.MISSING_PARAMETER)

    def _issue_token(
        self, proto: PinProtocol, shared: bytes, permissions: int, rp_id: str | None, user_present: bool = False
    ) -> dict[int, object]:
        """The response with a new pinUvAuthToken, or with the persistentPinUvAuthToken (pcmr alone; the RP ID is
        ignored, the pinUvAuthToken stays): made at its first request, the same value until the PIN changes or a
        reset, so every platform holding it keeps reading (CTAP 2.2 §6.5.5.7)."""
        if permissions == PERMISSION.PERSISTENT_CREDENTIAL_MGMT:
            if self.state.persistent_token is None:
                self.state.persistent_token = os.urandom(32)
            return {R.PIN_UV_TOKEN: proto.encrypt(shared, self.state.persistent_token)}
        self.token = _Token(os.urandom(32), permissions, rp_id, self.clock(), user_present)
        return {R.PIN_UV_TOKEN: proto.encrypt(shared, self.token.value)}

    def token_user_present(self) -> bool:
        """getUserPresentFlagValue(): does the token still stand for a touch (built-in UV just happened)?"""
        token = self.token
        return token is not None and token.user_present and self.clock() - token.issued <= USER_PRESENT_LIMIT

    def token_rp_id(self) -> str | None:
        """The RP ID the current pinUvAuthToken is bound to, or None (no token, or not bound yet)."""
        return self.token.rp_id if self.token else None

    def clear_permissions_except_lbw(self) -> None:
        """After a touch in makeCredential/getAssertion: clearUserPresentFlag(), clearUserVerifiedFlag() and
        clearPinUvAuthTokenPermissionsExceptLbw() (only largeBlobWrite stays usable)."""
        if self.token is not None:
            self.token.permissions &= PERMISSION.LARGE_BLOB_WRITE
            self.token.user_present = False

    # -- the command ----------------------------------------------------------------------------

    async def handle(self, params: Mapping[int, object], set_status: Callable[[STATUS], None]) -> dict[int, object]:
        """authenticatorClientPIN (CTAP 2.1 §6.5.5): run the subcommand in ``params`` and return the response map."""
        sub = req_param(params, P.SUB_COMMAND, int)
        if sub == ClientPinCmd.GET_PIN_RETRIES:
            # §6.5.5.2 says nothing of a PIN never set; YubiKeys answer PIN_NOT_SET, and so does this
            # authenticator (python-fido2's tests/device test_set_and_reset expects it of every key)
            if self.state.pin_hash is None:
                raise fail(ERR.PIN_NOT_SET)
            return {R.PIN_RETRIES: self.state.pin_retries, R.POWER_CYCLE_STATE: self.consecutive_failures >= 3}
        if sub == ClientPinCmd.GET_UV_RETRIES:
            return {R.UV_RETRIES: self.state.uv_retries}
        proto = self.protocol(req_param(params, P.PIN_UV_AUTH_PROTOCOL, int))
        if sub == ClientPinCmd.GET_KEY_AGREEMENT:
            return {R.KEY_AGREEMENT: dict(EcdhEsHkdf256.from_cryptography_key(self._key.public_key()))}
        if sub in (ClientPinCmd.SET_PIN, ClientPinCmd.CHANGE_PIN):
            return self._set_pin(proto, params, change=sub == ClientPinCmd.CHANGE_PIN)
        if sub in (ClientPinCmd.GET_TOKEN_USING_PIN_LEGACY, ClientPinCmd.GET_TOKEN_USING_PIN):
            return self._get_token_with_pin(proto, params, legacy=sub == ClientPinCmd.GET_TOKEN_USING_PIN_LEGACY)
        if sub == ClientPinCmd.GET_TOKEN_USING_UV:
            return await self._get_token_with_uv(proto, params, set_status)
        raise fail(ERR.INVALID_SUBCOMMAND)

    def _check_new_pin(self, proto: PinProtocol, shared: bytes, new_pin_enc: bytes) -> bytes:
        expected = 64 if proto.VERSION == 1 else 80
        if len(new_pin_enc) != expected:
            raise fail(ERR.INVALID_PARAMETER)
        try:
            padded = proto.decrypt(shared, new_pin_enc)
        except PinProtocolError:
            raise fail(ERR.PIN_AUTH_INVALID) from None
        pin = padded.rstrip(b"\0")
        if len(padded) != 64 or b"\0" in pin:
            raise fail(ERR.PIN_POLICY_VIOLATION)
        try:
            code_points = len(pin.decode("utf-8"))
        except UnicodeDecodeError:
            raise fail(ERR.PIN_POLICY_VIOLATION) from None
        if code_points < self.state.min_pin_length or len(pin) > 63:
            raise fail(ERR.PIN_POLICY_VIOLATION)
        return pin

    def _set_pin(self, proto: PinProtocol, params: Mapping[int, object], change: bool) -> dict[int, object]:
        """setPIN (§6.5.5.5), or changePIN (§6.5.5.6): the same steps, with the current PIN's pinHashEnc."""
        key_agreement = req_param(params, P.KEY_AGREEMENT, dict)
        param = req_param(params, P.PIN_UV_AUTH_PARAM, bytes)
        new_pin_enc = req_param(params, P.NEW_PIN_ENC, bytes)
        pin_hash_enc = req_param(params, P.PIN_HASH_ENC, bytes) if change else b""
        if change:
            self._pin_preconditions()
        elif self.state.pin_hash is not None:
            raise fail(ERR.NOT_ALLOWED)
        shared = self.shared_secret(proto, key_agreement)
        if not proto.verify(shared, new_pin_enc + pin_hash_enc, param):
            raise fail(ERR.PIN_AUTH_INVALID)
        if change:
            self._verify_pin_hash(proto, shared, pin_hash_enc)
        pin = self._check_new_pin(proto, shared, new_pin_enc)
        # (no PIN is set before setPIN, so only changePIN can meet this)
        if self.state.force_pin_change and hashlib.sha256(pin).digest()[:16] == self.state.pin_hash:
            raise fail(ERR.PIN_POLICY_VIOLATION)
        self.state.pin_hash = hashlib.sha256(pin).digest()[:16]
        self.state.pin_code_points = len(pin.decode("utf-8"))
        self.state.pin_retries = 8
        self.state.force_pin_change = False
        self.state.persistent_token = None  # a new PIN ends the persistent token (CTAP 2.2)
        self.state.uv_count_since_pin = 0  # the PIN was just entered
        if change:
            self.token = None
        return {}

    def _verify_pin_hash(self, proto: PinProtocol, shared: bytes, pin_hash_enc: bytes) -> None:
        """Decrement retries, compare, and on failure regenerate the key and count (§6.5.5.5 steps).

        A pinHashEnc that does not decrypt is a mismatch like a wrong PIN ("If an error results, or a
        mismatch is detected"): PIN_INVALID with the retry spent, not PIN_AUTH_INVALID.
        """
        assert self.state.pin_hash is not None
        self.state.pin_retries -= 1
        try:
            pin_hash = proto.decrypt(shared, pin_hash_enc)
        except PinProtocolError:
            pin_hash = b""
        if not hmac.compare_digest(pin_hash, self.state.pin_hash):
            self._key = ec.generate_private_key(ec.SECP256R1())
            self.consecutive_failures += 1
            if self.state.pin_retries <= 0:
                raise fail(ERR.PIN_BLOCKED)
            if self.consecutive_failures >= 3:
                raise fail(ERR.PIN_AUTH_BLOCKED)
            raise fail(ERR.PIN_INVALID)
        self.state.pin_retries = 8
        self.consecutive_failures = 0
        self.state.uv_count_since_pin = 0  # a PIN entry (CTAP 2.2 uvCountSinceLastPinEntry counts from here)

    def _pin_preconditions(self) -> None:
        if self.state.pin_hash is None:
            raise fail(ERR.PIN_NOT_SET)
        if self.state.pin_retries <= 0:
            raise fail(ERR.PIN_BLOCKED)
        if self.consecutive_failures >= 3:
            raise fail(ERR.PIN_AUTH_BLOCKED)

    def _get_token_with_pin(self, proto: PinProtocol, params: Mapping[int, object], legacy: bool) -> dict[int, object]:
        key_agreement = req_param(params, P.KEY_AGREEMENT, dict)
        pin_hash_enc = req_param(params, P.PIN_HASH_ENC, bytes)
        permissions = opt_param(params, P.PERMISSIONS, int)
        rp_id = opt_param(params, P.RP_ID, str)
        if legacy:
            if permissions is not None or rp_id is not None:
                raise fail(ERR.INVALID_PARAMETER)
            permissions = PERMISSION.MAKE_CREDENTIAL | PERMISSION.GET_ASSERTION
        else:
            if permissions is None:
                raise fail(ERR.MISSING_PARAMETER)
            self._check_permissions(permissions, rp_id)
        self._pin_preconditions()
        shared = self.shared_secret(proto, key_agreement)
        self._verify_pin_hash(proto, shared, pin_hash_enc)
        if self.state.force_pin_change:
            # getPinToken (§6.5.5.7.1): PIN_INVALID; getPinUvAuthTokenUsingPinWithPermissions (§6.5.5.7.2):
            # PIN_POLICY_VIOLATION. Either way the PIN was right: its retries are restored above
            raise fail(ERR.PIN_INVALID if legacy else ERR.PIN_POLICY_VIOLATION)
        return self._issue_token(proto, shared, permissions, rp_id)

    async def _get_token_with_uv(
        self, proto: PinProtocol, params: Mapping[int, object], set_status: Callable[[STATUS], None]
    ) -> dict[int, object]:
        key_agreement = req_param(params, P.KEY_AGREEMENT, dict)
        permissions = req_param(params, P.PERMISSIONS, int)
        rp_id = opt_param(params, P.RP_ID, str)
        # no uvBioEnroll / uvAcfg: bioEnrollment and authenticatorConfig permissions need the PIN
        self._check_permissions(permissions, rp_id, refused=PERMISSION.BIO_ENROLL | PERMISSION.AUTHENTICATOR_CFG)
        if not self.state.templates:
            raise fail(ERR.NOT_ALLOWED)
        shared = self.shared_secret(proto, key_agreement)
        await self.verify_user(set_status)
        return self._issue_token(proto, shared, permissions, rp_id, user_present=True)

    async def verify_user(self, set_status: Callable[[STATUS], None]) -> None:
        """Built-in UV with a fingerprint: UV_BLOCKED when out of retries, UV_INVALID on a mismatch."""
        if self.state.uv_retries <= 0:
            raise fail(ERR.UV_BLOCKED)
        matched = await self.sensor.match(set_status)
        if matched is None:
            raise fail(ERR.USER_ACTION_TIMEOUT)  # no touch: not a failed attempt
        self.state.uv_count_since_pin += 1  # an attempt, matched or not (getInfo uvCountSinceLastPinEntry)
        if matched:
            self.state.uv_retries = 8
            return
        self.state.uv_retries -= 1
        if self.state.uv_retries <= 0:
            raise fail(ERR.UV_BLOCKED)
        raise fail(ERR.UV_INVALID)
