"""Management commands of the software authenticator: credentialManagement (§6.8), bioEnrollment (§6.7),
largeBlobs (§6.10) and authenticatorConfig (§6.11)."""

from __future__ import annotations

import hashlib
import hmac
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from ..ctap import STATUS
from ..ctap2.model import (
    FEEDBACK,
    LARGE_BLOBS_MESSAGE_OVERHEAD,
    PERMISSION,
    BioCmd,
    BioParam,
    BioResult,
    ConfigCmd,
    ConfigParam,
    CredMgmtCmd,
    CredMgmtParam,
    Modality,
    TemplateInfo,
    bio_enrollment_message,
    config_message,
    credential_management_message,
    large_blobs_message,
)
from ..ctap2.model import BioRequest as B
from ..ctap2.model import CredMgmtCmd as C
from ..ctap2.model import CredMgmtResult as R
from ..ctap2.model import LargeBlobsRequest as L
from ..ctap2.model import SubCommandRequest as S
from .client_pin import PinState
from .common import ERR, MAX_LARGE_BLOB, MAX_MSG_SIZE, FingerprintSensor, checked, fail, opt_param, req_param
from .credentials import MAX_RESIDENT
from .state import AuthenticatorState, ResidentCredential

__all__ = ["ManagedAuthenticator", "Management"]


class ManagedAuthenticator(Protocol):
    """What the management commands need of the authenticator (:class:`~aioctap.virtual.VirtualAuthenticator`)."""

    state: AuthenticatorState
    pin: PinState
    sensor: FingerprintSensor
    ep_supported: bool

    def is_protected(self) -> bool:
        """True when a PIN is set or built-in UV is enrolled (the pinUvAuthParam rules apply)."""
        ...

    def wink(self) -> None:
        """Show the user which authenticator this is (CTAPHID_WINK)."""
        ...


MAX_TEMPLATES = 5
MAX_TEMPLATE_NAME = 32
VENDOR_WINK = 0x616F0001  # authenticatorConfig vendorPrototype: identify the authenticator (counts a wink)
VENDOR_COMMANDS = (VENDOR_WINK,)
# credentialManagement subcommands a persistent pinUvAuthToken (pcmr) may run: getCredsMetadata,
# enumerateRPsBegin, enumerateCredentialsBegin (the *Next* ones need no token)
READ_ONLY_SUBCOMMANDS = (
    CredMgmtCmd.GET_CREDS_METADATA,
    CredMgmtCmd.ENUMERATE_RPS_BEGIN,
    CredMgmtCmd.ENUMERATE_CREDS_BEGIN,
)
_CRED_MGMT_SUBCOMMANDS = frozenset(C)
_BIO_SUBCOMMANDS = frozenset(BioCmd) - {BioCmd.GET_SENSOR_INFO}  # answered before the check


@dataclass
class _Enrollment:
    template_id: bytes
    remaining: int


def _capture_timeout(sub_params: Mapping[int, object] | None) -> float | None:
    """enrollBegin / enrollCaptureNextSample timeoutMilliseconds (0x03), in seconds (None: the sensor's own)."""
    milliseconds: int | None = opt_param(sub_params or {}, BioParam.TIMEOUT_MS, int)
    if milliseconds is None:
        return None
    if milliseconds < 0:
        raise fail(ERR.INVALID_PARAMETER)
    return milliseconds / 1000


class Management:
    """State and handlers of the management commands."""

    def __init__(self, auth: ManagedAuthenticator) -> None:
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

    def _pin_uv_auth(
        self, params: Mapping[int, object], request: type[S | B | L], message: Callable[..., bytes], *args: Any
    ) -> tuple[int, bytes, bytes]:
        """(pinUvAuthProtocol, pinUvAuthParam, the message it must authenticate: ``message(*args)``) of a request;
        PUAT_REQUIRED when it has no pinUvAuthParam."""
        param = opt_param(params, request.PIN_UV_AUTH_PARAM, bytes)
        if param is None:
            raise fail(ERR.PUAT_REQUIRED)
        authenticated = message(*args)
        return req_param(params, request.PIN_UV_AUTH_PROTOCOL, int), param, authenticated

    # -- credentialManagement --------------------------------------------------------------------

    def credential_management(self, params: Mapping[int, object]) -> dict[int, object]:
        """authenticatorCredentialManagement (CTAP 2.1 §6.8): run the subcommand in ``params``."""
        state = self.auth.state
        sub = req_param(params, S.SUB_COMMAND, int)
        sub_params = opt_param(params, S.SUB_COMMAND_PARAMS, dict)
        if sub in (C.ENUMERATE_RPS_NEXT, C.ENUMERATE_CREDS_NEXT):  # they need no authentication
            return self._next_rp() if sub == C.ENUMERATE_RPS_NEXT else self._next_cred()
        if sub not in _CRED_MGMT_SUBCOMMANDS:
            raise fail(ERR.INVALID_SUBCOMMAND)
        protocol, param, message = self._pin_uv_auth(params, S, credential_management_message, sub, sub_params)
        if self.auth.pin.verify_persistent_token(protocol, param, message):
            # the persistentPinUvAuthToken (pcmr, CTAP 2.2): reading only, over every RP
            if sub not in READ_ONLY_SUBCOMMANDS:
                raise fail(ERR.PIN_AUTH_INVALID)
            bound = None
        else:
            self.auth.pin.verify_token(protocol, param, message, PERMISSION.CREDENTIAL_MGMT)
            bound = self.auth.pin.token_rp_id()
        if sub in (C.GET_CREDS_METADATA, C.ENUMERATE_RPS_BEGIN) and bound is not None:
            raise fail(ERR.PIN_AUTH_INVALID)  # a token bound to an RP ID: only that RP's credentials
        if sub == C.GET_CREDS_METADATA:
            count = len(state.credentials)
            return {R.EXISTING_CRED_COUNT: count, R.MAX_REMAINING_COUNT: MAX_RESIDENT - count}
        if sub == C.ENUMERATE_RPS_BEGIN:
            rps: dict[str, dict[str, Any]] = {}
            for c in state.credentials:
                rps.setdefault(c.rp_id, c.rp)
            if not rps:
                raise fail(ERR.NO_CREDENTIALS)
            self._rps = [(rp, hashlib.sha256(rp_id.encode()).digest()) for rp_id, rp in sorted(rps.items())]
            return {**self._next_rp(), R.TOTAL_RPS: len(rps)}
        if sub_params is None:
            raise fail(ERR.MISSING_PARAMETER)
        if sub == C.ENUMERATE_CREDS_BEGIN:
            rp_hash = req_param(sub_params, CredMgmtParam.RP_ID_HASH, bytes)
            if bound is not None and hashlib.sha256(bound.encode()).digest() != rp_hash:
                raise fail(ERR.PIN_AUTH_INVALID)
            creds = sorted((c for c in state.credentials if c.rp_id_hash == rp_hash), key=lambda c: c.created)
            if not creds:
                raise fail(ERR.NO_CREDENTIALS)
            self._creds = creds[1:]
            return {**self._cred_entry(creds[0]), R.TOTAL_CREDENTIALS: len(creds)}
        descriptor = req_param(sub_params, CredMgmtParam.CREDENTIAL_ID, dict)
        cred_id = checked(descriptor.get("id"), bytes)
        cred = state.find_resident(cred_id)
        if cred is None:
            raise fail(ERR.NO_CREDENTIALS)
        if bound is not None and bound != cred.rp_id:
            raise fail(ERR.PIN_AUTH_INVALID)
        if sub == C.DELETE_CREDENTIAL:
            state.delete_resident(cred)
            return {}
        user = req_param(sub_params, CredMgmtParam.USER, dict)
        if user.get("id") != cred.user.get("id"):
            raise fail(ERR.INVALID_PARAMETER)
        cred.user = {k: v for k, v in user.items() if k in ("id", "name", "displayName")}
        return {}

    def _cred_entry(self, c: ResidentCredential) -> dict[int, object]:
        entry: dict[int, Any] = {
            R.USER: c.user,
            R.CREDENTIAL_ID: {"type": "public-key", "id": c.credential_id},
            R.PUBLIC_KEY: c.public_key,
            R.CRED_PROTECT: c.cred_protect,
            R.THIRD_PARTY_PAYMENT: self.auth.state.third_party_payment(c.credential_id),  # CTAP 2.2 §6.8
        }
        if c.large_blob_key:
            entry[R.LARGE_BLOB_KEY] = c.large_blob_key
        return entry

    def _next_rp(self) -> dict[int, object]:
        if not self._rps:
            raise fail(ERR.NOT_ALLOWED)
        rp, h = self._rps.pop(0)
        return {R.RP: rp, R.RP_ID_HASH: h}

    def _next_cred(self) -> dict[int, object]:
        if not self._creds:
            raise fail(ERR.NOT_ALLOWED)
        return self._cred_entry(self._creds.pop(0))

    # -- bioEnrollment --------------------------------------------------------------------------------

    async def bio_enrollment(
        self, params: Mapping[int, object], set_status: Callable[[STATUS], None]
    ) -> dict[int, object]:
        """authenticatorBioEnrollment (CTAP 2.1 §6.7): run the subcommand in ``params`` on the simulated sensor."""
        state = self.auth.state
        if opt_param(params, B.GET_MODALITY, bool):
            return {BioResult.MODALITY: int(Modality.FINGERPRINT)}
        sub = opt_param(params, B.SUB_COMMAND, int)
        modality = opt_param(params, B.MODALITY, int)
        if sub is None:
            raise fail(ERR.MISSING_PARAMETER)
        if modality != Modality.FINGERPRINT:
            raise fail(ERR.INVALID_PARAMETER if modality is not None else ERR.MISSING_PARAMETER)
        if sub == BioCmd.GET_SENSOR_INFO:
            return {
                BioResult.MODALITY: int(Modality.FINGERPRINT),
                BioResult.FINGERPRINT_KIND: 1,  # touch sensor
                BioResult.MAX_SAMPLES_REQUIRED: self.auth.sensor.samples_required,
                BioResult.MAX_TEMPLATE_FRIENDLY_NAME: MAX_TEMPLATE_NAME,
            }
        sub_params = opt_param(params, B.SUB_COMMAND_PARAMS, dict)
        if sub not in _BIO_SUBCOMMANDS:
            raise fail(ERR.INVALID_SUBCOMMAND)
        if sub != BioCmd.ENROLL_CANCEL:  # every subcommand but enrollCancel (and the sensor info) is authenticated
            authenticated = self._pin_uv_auth(params, B, bio_enrollment_message, modality, sub, sub_params)
            self.auth.pin.verify_token(*authenticated, PERMISSION.BIO_ENROLL)
        if sub == BioCmd.ENROLL_BEGIN:
            timeout = _capture_timeout(sub_params)
            if len(state.templates) >= MAX_TEMPLATES:
                raise fail(ERR.FP_DATABASE_FULL)
            self._enrollment = _Enrollment(os.urandom(2), self.auth.sensor.samples_required)
            return await self._capture(set_status, first=True, timeout=timeout)
        if sub == BioCmd.ENROLL_CAPTURE_NEXT:
            if self._enrollment is None:
                raise fail(ERR.NOT_ALLOWED)
            template_id = req_param(sub_params or {}, BioParam.TEMPLATE_ID, bytes)
            timeout = _capture_timeout(sub_params)
            if template_id != self._enrollment.template_id:
                raise fail(ERR.INVALID_PARAMETER)
            return await self._capture(set_status, first=False, timeout=timeout)
        if sub == BioCmd.ENROLL_CANCEL:
            self._enrollment = None
            return {}
        if sub == BioCmd.ENUMERATE_ENROLLMENTS:
            if not state.templates:
                raise fail(ERR.INVALID_OPTION)
            # templateFriendlyName is optional (§6.7.6), but python-fido2's enumerate_enrollments
            # indexes it: an unnamed template reports "", as authenticators in the field do
            infos = [{TemplateInfo.ID: tid, TemplateInfo.NAME: name} for tid, name in state.templates.items()]
            return {BioResult.TEMPLATE_INFOS: infos}
        template_id = req_param(sub_params or {}, BioParam.TEMPLATE_ID, bytes)
        if template_id not in state.templates:
            raise fail(ERR.INVALID_OPTION)
        if sub == BioCmd.SET_NAME:
            name = req_param(sub_params or {}, BioParam.TEMPLATE_NAME, str)
            if len(name.encode()) > MAX_TEMPLATE_NAME:
                raise fail(ERR.INVALID_LENGTH)
            state.templates[template_id] = name
            return {}
        del state.templates[template_id]
        return {}

    async def _capture(
        self, set_status: Callable[[STATUS], None], first: bool, timeout: float | None
    ) -> dict[int, object]:
        """One sample (§6.7.4): no touch within the timeout is USER_ACTION_TIMEOUT and ends the enrollment."""
        enrollment = self._enrollment
        assert enrollment is not None
        feedback = await self.auth.sensor.capture(set_status, timeout)
        if feedback is None:
            self._enrollment = None
            raise fail(ERR.USER_ACTION_TIMEOUT)
        if feedback == FEEDBACK.FP_GOOD:
            enrollment.remaining -= 1
        response: dict[int, Any] = {
            BioResult.LAST_SAMPLE_STATUS: int(feedback),
            BioResult.REMAINING_SAMPLES: enrollment.remaining,
        }
        if first:
            response[BioResult.TEMPLATE_ID] = enrollment.template_id
        if enrollment.remaining == 0:
            self.auth.state.templates[enrollment.template_id] = ""
            self._enrollment = None
        return response

    # -- largeBlobs ---------------------------------------------------------------------------------

    def large_blobs(self, params: Mapping[int, object]) -> dict[int, object]:
        """authenticatorLargeBlobs (CTAP 2.1 §6.10): read a fragment, or write one of a new serialized array."""
        state = self.auth.state
        get = opt_param(params, L.GET, int)
        data = opt_param(params, L.SET, bytes)
        offset = req_param(params, L.OFFSET, int)
        length = opt_param(params, L.LENGTH, int)
        max_fragment = MAX_MSG_SIZE - LARGE_BLOBS_MESSAGE_OVERHEAD
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
            if length > MAX_LARGE_BLOB:
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
            authenticated = self._pin_uv_auth(params, L, large_blobs_message, offset, data)
            self.auth.pin.verify_token(*authenticated, PERMISSION.LARGE_BLOB_WRITE)
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

    def config(self, params: Mapping[int, object]) -> dict[int, object]:
        """authenticatorConfig (CTAP 2.1 §6.11).

        Subcommands: enableEnterpriseAttestation, toggleAlwaysUv, setMinPINLength, vendorPrototype.
        """
        state = self.auth.state
        sub = req_param(params, S.SUB_COMMAND, int)
        sub_params = opt_param(params, S.SUB_COMMAND_PARAMS, dict)
        if self.auth.is_protected() or state.always_uv:
            authenticated = self._pin_uv_auth(params, S, config_message, sub, sub_params)
            self.auth.pin.verify_token(*authenticated, PERMISSION.AUTHENTICATOR_CFG)
        if sub == ConfigCmd.ENABLE_ENTERPRISE_ATT:
            if not self.auth.ep_supported:
                raise fail(ERR.INVALID_PARAMETER)
            state.ep_enabled = True
            return {}
        if sub == ConfigCmd.TOGGLE_ALWAYS_UV:
            state.always_uv = not state.always_uv
            return {}
        if sub == ConfigCmd.SET_MIN_PIN_LENGTH:
            sp = sub_params or {}
            new_len = opt_param(sp, ConfigParam.NEW_MIN_PIN_LENGTH, int)
            rp_ids = opt_param(sp, ConfigParam.MIN_PIN_LENGTH_RPIDS, list)
            force = opt_param(sp, ConfigParam.FORCE_CHANGE_PIN, bool)
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
        if sub == ConfigCmd.VENDOR_PROTOTYPE:
            if req_param(sub_params or {}, 1, int) not in VENDOR_COMMANDS:
                raise fail(ERR.INVALID_PARAMETER)
            self.auth.wink()
            return {}
        raise fail(ERR.INVALID_SUBCOMMAND)
