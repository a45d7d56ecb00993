"""Management commands of the software authenticator: credentialManagement (§6.8), bioEnrollment (§6.7),
largeBlobs (§6.10) and authenticatorConfig (§6.11)."""

from __future__ import annotations

import hashlib
import hmac
import os
import struct
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .. import cbor
from ..ctap import STATUS
from .client_pin import PERM
from .common import ERR, FEEDBACK, fail, opt_param, req_param
from .credentials import MAX_RESIDENT
from .state import ResidentCredential

if TYPE_CHECKING:
    from .engine import VirtualAuthenticator

__all__ = ["Management"]

MAX_TEMPLATES = 5
MAX_TEMPLATE_NAME = 32
VENDOR_WINK = 0x616F0001  # authenticatorConfig vendorPrototype: identify the authenticator (counts a wink)
VENDOR_COMMANDS = (VENDOR_WINK,)
# credentialManagement subcommands a persistent pinUvAuthToken (pcmr) may run: getCredsMetadata,
# enumerateRPsBegin, enumerateCredentialsBegin (the *Next* ones need no token)
READ_ONLY_SUBCOMMANDS = (0x01, 0x02, 0x04)


@dataclass
class _Enrollment:
    template_id: bytes
    remaining: int


def _capture_timeout(sub_params: Mapping[int, Any] | None) -> float | None:
    """enrollBegin / enrollCaptureNextSample timeoutMilliseconds (0x03), in seconds (None: the sensor's own)."""
    milliseconds: int | None = opt_param(sub_params or {}, 3, int)
    if milliseconds is None:
        return None
    if milliseconds < 0:
        raise fail(ERR.INVALID_PARAMETER)
    return milliseconds / 1000


class Management:
    """State and handlers of the management commands."""

    def __init__(self, auth: VirtualAuthenticator) -> None:
        self.auth = auth
        self._rps: list[tuple[dict[str, Any], bytes]] = []
        self._creds: list[ResidentCredential] = []
        self.power_cycle()

    def power_cycle(self) -> None:
        """Forget every enumeration, the enrollment in progress and the partial largeBlobs write."""
        self.end_enumerations()
        self._enrollment: _Enrollment | None = None
        self._blob_buffer: bytearray | None = None
        self._blob_expected_length = 0

    def end_enumerations(self) -> None:
        """Another command came: the enumerateRPs / enumerateCredentials state is gone."""
        if self._rps:
            self._rps = []
        if self._creds:
            self._creds = []

    # -- credentialManagement --------------------------------------------------------------------

    def credential_management(self, params: Mapping[int, Any]) -> dict[int, Any]:
        """authenticatorCredentialManagement (CTAP 2.1 §6.8): run the subcommand in ``params``."""
        state = self.auth.state
        sub = req_param(params, 1, int)
        sub_params = opt_param(params, 2, dict)
        if sub in (0x03, 0x05):  # the *Next* subcommands need no authentication
            return self._next_rp() if sub == 0x03 else self._next_cred()
        if sub not in range(1, 8):
            raise fail(ERR.INVALID_SUBCOMMAND)
        param = req_param(params, 4, bytes) if 4 in params else None
        if param is None:
            raise fail(ERR.PUAT_REQUIRED)
        message = bytes([sub]) + (cbor.dumps(sub_params) if sub_params is not None else b"")
        protocol = req_param(params, 3, int)
        if self.auth.pin.verify_persistent_token(protocol, param, message):
            # the persistentPinUvAuthToken (pcmr, CTAP 2.2): reading only, over every RP
            if sub not in READ_ONLY_SUBCOMMANDS:
                raise fail(ERR.PIN_AUTH_INVALID)
            bound = None
        else:
            self.auth.pin.verify_token(protocol, param, message, PERM.CM)
            bound = self.auth.pin.token_rp_id()
        if sub == 0x01:
            if bound is not None:
                raise fail(ERR.PIN_AUTH_INVALID)
            return {1: len(state.credentials), 2: MAX_RESIDENT - len(state.credentials)}
        if sub == 0x02:
            if bound is not None:
                raise fail(ERR.PIN_AUTH_INVALID)
            rps: dict[str, dict[str, Any]] = {}
            for c in state.credentials:
                rps.setdefault(c.rp_id, c.rp)
            if not rps:
                raise fail(ERR.NO_CREDENTIALS)
            self._rps = [(rp, hashlib.sha256(rp_id.encode()).digest()) for rp_id, rp in sorted(rps.items())]
            rp, h = self._rps.pop(0)
            return {3: rp, 4: h, 5: len(rps)}
        if sub_params is None:
            raise fail(ERR.MISSING_PARAMETER)
        if sub == 0x04:
            rp_hash = req_param(sub_params, 1, bytes)
            if bound is not None and hashlib.sha256(bound.encode()).digest() != rp_hash:
                raise fail(ERR.PIN_AUTH_INVALID)
            creds = sorted((c for c in state.credentials if c.rp_id_hash == rp_hash), key=lambda c: c.created)
            if not creds:
                raise fail(ERR.NO_CREDENTIALS)
            self._creds = creds[1:]
            response = self._cred_entry(creds[0])
            response[9] = len(creds)
            return response
        descriptor = req_param(sub_params, 2, dict)
        cred_id = descriptor.get("id")
        if not isinstance(cred_id, bytes):
            raise fail(ERR.CBOR_UNEXPECTED_TYPE)
        cred = state.find_resident(cred_id)
        if cred is None:
            raise fail(ERR.NO_CREDENTIALS)
        if bound is not None and bound != cred.rp_id:
            raise fail(ERR.PIN_AUTH_INVALID)
        if sub == 0x06:
            state.delete_resident(cred)
            return {}
        user = req_param(sub_params, 3, dict)
        if user.get("id") != cred.user.get("id"):
            raise fail(ERR.INVALID_PARAMETER)
        cred.user = {k: v for k, v in user.items() if k in ("id", "name", "displayName")}
        return {}

    def _cred_entry(self, c: ResidentCredential) -> dict[int, Any]:
        entry: dict[int, Any] = {
            6: c.user,
            7: {"type": "public-key", "id": c.credential_id},
            8: c.public_key,
            10: c.cred_protect,
            12: self.auth.state.third_party_payment(c.credential_id),  # thirdPartyPayment (CTAP 2.2 §6.8)
        }
        if c.large_blob_key:
            entry[11] = c.large_blob_key
        return entry

    def _next_rp(self) -> dict[int, Any]:
        if not self._rps:
            raise fail(ERR.NOT_ALLOWED)
        rp, h = self._rps.pop(0)
        return {3: rp, 4: h}

    def _next_cred(self) -> dict[int, Any]:
        if not self._creds:
            raise fail(ERR.NOT_ALLOWED)
        return self._cred_entry(self._creds.pop(0))

    # -- bioEnrollment --------------------------------------------------------------------------------

    async def bio_enrollment(self, params: Mapping[int, Any], set_status: Callable[[STATUS], None]) -> dict[int, Any]:
        """authenticatorBioEnrollment (CTAP 2.1 §6.7): run the subcommand in ``params`` on the simulated sensor."""
        state = self.auth.state
        if opt_param(params, 6, bool):
            return {1: 1}
        sub = opt_param(params, 2, int)
        modality = opt_param(params, 1, int)
        if sub is None:
            raise fail(ERR.MISSING_PARAMETER)
        if modality != 1:
            raise fail(ERR.INVALID_PARAMETER if modality is not None else ERR.MISSING_PARAMETER)
        if sub == 0x07:
            return {1: 1, 2: 1, 3: self.auth.sensor.samples_required, 8: MAX_TEMPLATE_NAME}
        sub_params = opt_param(params, 3, dict)
        if sub not in range(1, 7):
            raise fail(ERR.INVALID_SUBCOMMAND)
        if sub != 0x03:  # every subcommand but enrollCancel (and the sensor info above) is authenticated
            param = opt_param(params, 5, bytes)
            if param is None:
                raise fail(ERR.PUAT_REQUIRED)
            message = bytes([1, sub]) + (cbor.dumps(sub_params) if sub_params is not None else b"")
            self.auth.pin.verify_token(req_param(params, 4, int), param, message, PERM.BE)
        if sub == 0x01:
            timeout = _capture_timeout(sub_params)
            if len(state.templates) >= MAX_TEMPLATES:
                raise fail(ERR.FP_DATABASE_FULL)
            self._enrollment = _Enrollment(os.urandom(2), self.auth.sensor.samples_required)
            return await self._capture(set_status, first=True, timeout=timeout)
        if sub == 0x02:
            if self._enrollment is None:
                raise fail(ERR.NOT_ALLOWED)
            template_id = req_param(sub_params or {}, 1, bytes)
            timeout = _capture_timeout(sub_params)
            if template_id != self._enrollment.template_id:
                raise fail(ERR.INVALID_PARAMETER)
            return await self._capture(set_status, first=False, timeout=timeout)
        if sub == 0x03:
            self._enrollment = None
            return {}
        if sub == 0x04:
            if not state.templates:
                raise fail(ERR.INVALID_OPTION)
            # templateFriendlyName is optional (§6.7.6), but python-fido2's enumerate_enrollments
            # indexes it: an unnamed template reports "", as authenticators in the field do
            return {7: [{1: tid, 2: name} for tid, name in state.templates.items()]}
        template_id = req_param(sub_params or {}, 1, bytes)
        if template_id not in state.templates:
            raise fail(ERR.INVALID_OPTION)
        if sub == 0x05:
            name = req_param(sub_params or {}, 2, str)
            if len(name.encode()) > MAX_TEMPLATE_NAME:
                raise fail(ERR.INVALID_LENGTH)
            state.templates[template_id] = name
            return {}
        del state.templates[template_id]
        return {}

    async def _capture(
        self, set_status: Callable[[STATUS], None], first: bool, timeout: float | None
    ) -> dict[int, Any]:
        """One sample (§6.7.4): no touch within the timeout is USER_ACTION_TIMEOUT and ends the enrollment."""
        enrollment = self._enrollment
        assert enrollment is not None
        feedback = await self.auth.sensor.capture(set_status, timeout)
        if feedback is None:
            self._enrollment = None
            raise fail(ERR.USER_ACTION_TIMEOUT)
        if feedback == FEEDBACK.FP_GOOD:
            enrollment.remaining -= 1
        response: dict[int, Any] = {5: int(feedback), 6: enrollment.remaining}
        if first:
            response[4] = enrollment.template_id
        if enrollment.remaining == 0:
            self.auth.state.templates[enrollment.template_id] = ""
            self._enrollment = None
        return response

    # -- largeBlobs ---------------------------------------------------------------------------------

    def large_blobs(self, params: Mapping[int, Any]) -> dict[int, Any]:
        """authenticatorLargeBlobs (CTAP 2.1 §6.10): read a fragment, or write one of a new serialized array."""
        state = self.auth.state
        get = opt_param(params, 1, int)
        data = opt_param(params, 2, bytes)
        offset = req_param(params, 3, int)
        length = opt_param(params, 4, int)
        max_fragment = 7609 - 64
        if (get is None) == (data is None):
            raise fail(ERR.INVALID_PARAMETER)
        if get is not None:
            if length is not None:
                raise fail(ERR.INVALID_PARAMETER)
            if get > max_fragment or get < 0:
                raise fail(ERR.INVALID_LENGTH)
            if offset > len(state.large_blob_array) or offset < 0:
                raise fail(ERR.INVALID_PARAMETER)
            return {1: state.large_blob_array[offset : offset + get]}
        assert data is not None
        if len(data) > max_fragment:
            raise fail(ERR.INVALID_LENGTH)
        if offset == 0:
            if length is None:
                raise fail(ERR.INVALID_PARAMETER)
            if length > 4096:
                raise fail(ERR.LARGE_BLOB_STORAGE_FULL)
            if length < 17:
                raise fail(ERR.INVALID_PARAMETER)
            self._blob_buffer = bytearray()
            self._blob_expected_length = length
        elif length is not None:
            raise fail(ERR.INVALID_PARAMETER)
        if self._blob_buffer is None or offset != len(self._blob_buffer):
            raise fail(ERR.INVALID_SEQ)
        if self.auth.is_protected() or state.always_uv:
            param = opt_param(params, 5, bytes)
            if param is None:
                raise fail(ERR.PUAT_REQUIRED)
            message = b"\xff" * 32 + b"\x0c\x00" + struct.pack("<I", offset) + hashlib.sha256(data).digest()
            self.auth.pin.verify_token(req_param(params, 6, int), param, message, PERM.LBW)
        if len(self._blob_buffer) + len(data) > self._blob_expected_length:
            raise fail(ERR.INVALID_PARAMETER)
        self._blob_buffer += data
        if len(self._blob_buffer) == self._blob_expected_length:
            blob = bytes(self._blob_buffer)
            self._blob_buffer = None
            if not hmac.compare_digest(hashlib.sha256(blob[:-16]).digest()[:16], blob[-16:]):
                raise fail(ERR.INTEGRITY_FAILURE)
            state.large_blob_array = blob
        return {}

    # -- authenticatorConfig -------------------------------------------------------------------------

    def config(self, params: Mapping[int, Any]) -> dict[int, Any]:
        """authenticatorConfig (CTAP 2.1 §6.11).

        Subcommands: enableEnterpriseAttestation, toggleAlwaysUv, setMinPINLength, vendorPrototype.
        """
        state = self.auth.state
        sub = req_param(params, 1, int)
        sub_params = opt_param(params, 2, dict)
        if self.auth.is_protected() or state.always_uv:
            param = opt_param(params, 4, bytes)
            if param is None:
                raise fail(ERR.PUAT_REQUIRED)
            message = b"\xff" * 32 + b"\x0d" + bytes([sub & 0xFF]) + (cbor.dumps(sub_params) if sub_params else b"")
            self.auth.pin.verify_token(req_param(params, 3, int), param, message, PERM.ACFG)
        if sub == 0x01:
            if not self.auth.ep_supported:
                raise fail(ERR.INVALID_PARAMETER)
            state.ep_enabled = True
            return {}
        if sub == 0x02:
            state.always_uv = not state.always_uv
            return {}
        if sub == 0x03:
            sp = sub_params or {}
            new_len = opt_param(sp, 1, int)
            rp_ids = opt_param(sp, 2, list)
            force = opt_param(sp, 3, bool)
            if new_len is not None and new_len < state.min_pin_length:
                raise fail(ERR.PIN_POLICY_VIOLATION)
            if rp_ids is not None:
                if not all(isinstance(r, str) for r in rp_ids):
                    raise fail(ERR.CBOR_UNEXPECTED_TYPE)
                if len(rp_ids) > 4:
                    raise fail(ERR.PIN_POLICY_VIOLATION)
            if force and state.pin_hash is None:
                raise fail(ERR.PIN_NOT_SET)
            if new_len is not None and new_len > state.min_pin_length:
                state.min_pin_length = new_len
                if state.pin_hash is not None and state.pin_code_points < new_len:
                    state.force_pin_change = True
            if rp_ids is not None:
                state.min_pin_length_rp_ids = list(rp_ids)
            if force:
                state.force_pin_change = True
            return {}
        if sub == 0xFF:  # vendorPrototype
            if req_param(sub_params or {}, 1, int) not in VENDOR_COMMANDS:
                raise fail(ERR.INVALID_PARAMETER)
            self.auth.wink()
            return {}
        raise fail(ERR.INVALID_SUBCOMMAND)
