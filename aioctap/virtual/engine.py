"""The software CTAP 2.1 authenticator: command dispatch, getInfo, selection and reset (§6).

``VirtualAuthenticator`` is a :class:`~aioctap.hid.device_side.CtapHidApplication`: it gets whole
CTAPHID_CBOR / CTAPHID_MSG requests from the device-side CTAPHID shell and answers them. Every
request is checked strictly (canonical CBOR, types, required members) and answered with the
spec's status codes. User presence goes through a pluggable async policy. The commands live in
:mod:`.credentials` (makeCredential, getAssertion), :mod:`.client_pin`, :mod:`.manage`
(credential management, bio enrollment, large blobs, config) and :mod:`.u2f`.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Collection
from pathlib import Path
from typing import TypedDict

import anyio.lowlevel
from cryptography.hazmat.primitives.asymmetric import ec

from .. import cbor
from ..ctap import STATUS, CtapError
from ..ctap2.model import CMD, COMMAND_NAMES, OPTION, SUBCOMMAND_NAMES, ConfigCmd
from ..ctap2.pin import ENC_CRED_STORE_STATE_INFO, ENC_IDENTIFIER_INFO, seal_info_member
from ..hid.protocol import CAPABILITY, CTAPHID
from . import manage, u2f
from .attestation import load_attestation_key
from .client_pin import PinState
from .common import ERR, MAX_LARGE_BLOB, MAX_MSG_SIZE, ApproveAll, DenyAll, FingerprintSensor, UserPolicy, fail
from .credentials import (
    MAX_CRED_BLOB,
    MAX_CRED_ID_LENGTH,
    MAX_CREDS_IN_LIST,
    MAX_RESIDENT,
    AccountChooser,
    CredentialCommands,
)
from .keys import SUPPORTED_ALGORITHMS
from .state import AuthenticatorState
from .storage import load_state, save_state

__all__ = ["VirtualAuthenticator", "VirtualAuthenticatorOptions"]

log = logging.getLogger("aioctap.virtual")

MAX_RPIDS_MIN_PIN = 4
RESET_WINDOW = 10.0
FIRMWARE_VERSION = 0x00010000
MAX_PIN_LENGTH = 63  # bytes of UTF-8 (CTAP 2.1 §6.5.5.3)


def command_name(code: int, data: bytes) -> str:
    """The command's name, with its subcommand's (only names: parameters may be secret)."""
    name = COMMAND_NAMES.get(code, f"0x{code:02x}")
    if code in SUBCOMMAND_NAMES:
        key, names = SUBCOMMAND_NAMES[code]
        try:
            params = cbor.loads(data)
        except cbor.CborError:
            return name
        sub = params.get(key) if isinstance(params, dict) else None
        if isinstance(sub, int):
            name += " " + names.get(sub, f"0x{sub:02x}")
    return name


class VirtualAuthenticatorOptions(TypedDict, total=False):
    """:class:`VirtualAuthenticator`'s keyword arguments (for :func:`~aioctap.virtual.open_virtual_device`)."""

    policy: UserPolicy | None
    sensor: FingerprintSensor | None
    clock: Callable[[], float]
    reset_window: float | None
    attestation: str
    enterprise_attestation: bool
    enterprise_rp_ids: Collection[str]
    account_chooser: AccountChooser | None


_IMMEDIATE_POLICIES = (ApproveAll, DenyAll)  # they answer without waiting
# plain ints: an IntEnum member lookup costs about 70 ns on every request
_MSG = int(CTAPHID.MSG)
_MAKE_CREDENTIAL = int(CMD.MAKE_CREDENTIAL)
_GET_ASSERTION = int(CMD.GET_ASSERTION)
_GET_INFO = int(CMD.GET_INFO)
_GET_NEXT_ASSERTION = int(CMD.GET_NEXT_ASSERTION)
_CREDENTIAL_MGMT = (int(CMD.CREDENTIAL_MGMT), int(CMD.CREDENTIAL_MGMT_PRE))


class VirtualAuthenticator:
    """A software CTAP 2.1 authenticator (FIDO_2_0, FIDO_2_1, U2F_V2).

    ``state_file``: where the state lives (None: in memory only). ``policy``: the simulated user's
    answer to requests for presence (approve at once by default). ``sensor``: the simulated
    fingerprint sensor. ``clock``: monotonic seconds. ``reset_window``: how long after power-up
    authenticatorReset is allowed (None: always). ``attestation``: "packed" (x5c, the default),
    "self" or "none". ``enterprise_attestation``: whether the "ep" feature exists (enterprise attestation,
    §7.1; enabled with authenticatorConfig); ``enterprise_rp_ids``: the RP IDs the vendor configured for
    vendor-facilitated enterprise attestation (§7.1.1, makeCredential's enterpriseAttestation 1; none by
    default). Platform-managed enterprise attestation (value 2, §7.1.2) is given to any RP ID.
    ``account_chooser``: a simulated display on which the user picks one of several discoverable
    credentials (getAssertion then answers with userSelected); None: no display, numberOfCredentials.
    """

    capabilities: int = CAPABILITY.WINK | CAPABILITY.CBOR
    eager_start = True  # nothing enters a cancel scope before its first wait (see user_presence)

    def __init__(
        self,
        state_file: str | os.PathLike[str] | None = None,
        *,
        policy: UserPolicy | None = None,
        sensor: FingerprintSensor | None = None,
        clock: Callable[[], float] = time.monotonic,
        reset_window: float | None = RESET_WINDOW,
        attestation: str = "packed",
        enterprise_attestation: bool = True,
        enterprise_rp_ids: Collection[str] = (),
        account_chooser: AccountChooser | None = None,
    ) -> None:
        if attestation not in ("packed", "self", "none"):
            raise ValueError(f"attestation must be 'packed', 'self' or 'none', not {attestation!r}")
        self.state_file = Path(state_file) if state_file is not None else None
        self.state = load_state(self.state_file) if self.state_file else AuthenticatorState.new()
        self._saved = self.state.to_bytes() if self.state_file else b""
        self._attestation_key: ec.EllipticCurvePrivateKey | None = None
        self._enterprise_key: ec.EllipticCurvePrivateKey | None = None
        self.policy: UserPolicy = policy or ApproveAll()
        self.sensor = sensor or FingerprintSensor()
        self.clock = clock
        self.reset_window = reset_window
        self.attestation = attestation
        self.ep_supported = enterprise_attestation
        self.enterprise_rp_ids = frozenset(enterprise_rp_ids)
        self.account_chooser = account_chooser
        self.winks = 0
        self.pin = PinState(self.state, clock, self.sensor)
        self.manage = manage.Management(self)
        self.credentials = CredentialCommands(self)
        self.power_cycle()

    def __repr__(self) -> str:
        return f"VirtualAuthenticator(state_file={self.state_file!s}, {self.state!r})"

    # -- CtapHidApplication ----------------------------------------------------------------------

    def wink(self) -> None:
        """CTAPHID_WINK (CTAPHID §11.2.9.2.1): count it in ``winks`` (there is no LED to blink)."""
        self.winks += 1

    def power_cycle(self) -> None:
        """Simulated unplug/replug: PIN blocks until power cycle clear, the reset window opens, tokens go."""
        self.powered_up = self.clock()
        self.pin.power_cycle()
        self.credentials.pending = None
        self.manage.power_cycle()

    def save(self) -> None:
        """Write the state file if the state changed (atomically, see :func:`.storage.save_state`)."""
        if self.state_file is None:
            return
        data = self.state.to_bytes()
        if data != self._saved:
            save_state(self.state, self.state_file, data)  # before the answer leaves: a crash loses no counter
            self._saved = data

    @property
    def attestation_root(self) -> bytes:
        """DER of the root certificate of this authenticator's packed attestation (a trust anchor)."""
        return self.state.attestation_root

    @property
    def enterprise_attestation_root(self) -> bytes:
        """DER of the root certificate of this authenticator's enterprise attestations (a trust anchor distinct
        from :attr:`attestation_root`)."""
        assert self.state.enterprise_root is not None  # made at start (AuthenticatorState.add_enterprise_attestation)
        return self.state.enterprise_root

    async def handle(self, cmd: int, payload: bytes, set_status: Callable[[STATUS], None]) -> bytes:
        """One CTAPHID_CBOR or CTAPHID_MSG request; logs the command and its outcome (never its parameters)."""
        # KEEPALIVEs for status changes are ordered before the response by the device-side shell itself
        # (aioctap.hid.device_side emits every report synchronously, in order), so nothing to wait for here
        if cmd == _MSG:
            response = await u2f.handle(self, payload, set_status)
            if log.isEnabledFor(logging.INFO):
                log.info("U2F %s -> %s", u2f.command_name(payload), response[-2:].hex())
            self.save()
            return response
        if not payload:
            return bytes([ERR.INVALID_LENGTH])
        code = payload[0]
        try:
            # what every command does first: refuse an unknown one, end the state it does not continue
            # (getNextAssertion and the credentialManagement enumerations continue only the command before
            # them), and decode its parameters (strict canonical CBOR, a map)
            if code not in COMMAND_NAMES:
                raise fail(ERR.INVALID_COMMAND)
            if code != _GET_NEXT_ASSERTION:
                self.credentials.pending = None
            if code not in _CREDENTIAL_MGMT:
                self.manage.end_enumerations()
            if len(payload) == 1:
                params: dict[int, object] = {}
            else:
                try:
                    decoded = cbor.loads(payload[1:])
                except cbor.CborError:
                    raise fail(ERR.INVALID_CBOR) from None
                if not isinstance(decoded, dict):
                    raise fail(ERR.CBOR_UNEXPECTED_TYPE)
                params = decoded
            # the two hot commands are awaited here, one coroutine fewer than through _dispatch
            if code == _GET_ASSERTION:
                result: dict[int, object] | bytes | None = await self.credentials.get_assertion(params, set_status)
            elif code == _MAKE_CREDENTIAL:
                result = await self.credentials.make_credential(params, set_status)
            else:
                result = await self._dispatch(code, params, set_status)
        except CtapError as e:
            if log.isEnabledFor(logging.INFO):
                name = command_name(code, payload[1:])
                log.info("%s -> %s", name, e.code.name if isinstance(e.code, ERR) else e.code)
            self.save()
            return bytes([int(e.code)])
        if log.isEnabledFor(logging.INFO):
            log.info("%s -> OK", command_name(code, payload[1:]))
        if code != _GET_INFO and self.state_file is not None:  # getInfo only reads the state; no file: nothing to save
            self.save()
        if type(result) is bytes:  # makeCredential / getAssertion answer with their map already encoded
            return b"\x00" + result
        return b"\x00" + (cbor.dumps(result) if result else b"")

    async def _dispatch(
        self, code: int, params: dict[int, object], set_status: Callable[[STATUS], None]
    ) -> dict[int, object] | bytes | None:
        """Every command but makeCredential and getAssertion (:meth:`handle` runs those itself)."""
        if code == CMD.GET_INFO:
            return self.get_info()
        if code == CMD.GET_NEXT_ASSERTION:
            return self.credentials.get_next_assertion()
        if code == CMD.CLIENT_PIN:
            return await self.pin.handle(params, set_status)
        if code == CMD.RESET:
            await self.reset(set_status)
            return None
        if code == CMD.SELECTION:
            await self.require_up(set_status)
            return None
        if code in _CREDENTIAL_MGMT:
            return self.manage.credential_management(params)
        if code in (CMD.BIO_ENROLLMENT, CMD.BIO_ENROLLMENT_PRE):
            return await self.manage.bio_enrollment(params, set_status)
        if code == CMD.LARGE_BLOBS:
            return self.manage.large_blobs(params)
        return self.manage.config(params)

    # -- helpers -----------------------------------------------------------------------------------

    async def user_presence(self, set_status: Callable[[STATUS], None]) -> bool | None:
        """The policy's answer to a request for a touch (see :class:`UserPolicy`).

        The built-in policies that answer at once are called straight away; any other first yields
        once, since the request may have been started in the task that delivered it
        (``CtapHidApplication.eager_start``) and a policy may enter a cancel scope, which must belong
        to the task that goes on with the request.
        """
        policy = self.policy
        if type(policy) not in _IMMEDIATE_POLICIES:
            # UPNEEDED first, what the policy is asked for: a keepalive the device-side ticker sends during
            # the yield (its timer may be due by then) says so, instead of a PROCESSING before the UPNEEDED
            set_status(STATUS.UPNEEDED)
            await anyio.lowlevel.checkpoint()
        return await policy.user_presence(set_status)

    async def require_up(self, set_status: Callable[[STATUS], None]) -> None:
        """Ask the simulated user for a touch: OPERATION_DENIED if refused, USER_ACTION_TIMEOUT if ignored."""
        answer = await self.user_presence(set_status)
        if answer is None:
            raise fail(ERR.USER_ACTION_TIMEOUT)
        if not answer:
            raise fail(ERR.OPERATION_DENIED)

    def is_protected(self) -> bool:
        """True when a PIN is set or a fingerprint is enrolled (getInfo clientPin / uvBioEnroll: configured)."""
        return self.state.pin_hash is not None or bool(self.state.templates)

    def attestation_private_key(self) -> ec.EllipticCurvePrivateKey:
        """The batch attestation key (P-256) of the state, loaded once; it signs packed and U2F attestations."""
        if self._attestation_key is None:
            self._attestation_key = load_attestation_key(self.state.attestation_key)
        return self._attestation_key

    def enterprise_private_key(self) -> ec.EllipticCurvePrivateKey:
        """The enterprise attestation key (P-256), loaded once; it signs enterprise attestations (§7.1)."""
        if self._enterprise_key is None:
            assert self.state.enterprise_key is not None  # made at start
            self._enterprise_key = load_attestation_key(self.state.enterprise_key)
        return self._enterprise_key

    def options(self) -> dict[str, bool]:
        """The getInfo options (§6.4): what is supported, and whether it is configured."""
        enrolled = bool(self.state.templates)
        opts = {
            OPTION.RK: True,
            OPTION.UP: True,
            OPTION.PLAT: False,
            OPTION.CLIENT_PIN: self.state.pin_hash is not None,
            OPTION.PIN_UV_AUTH_TOKEN: True,
            OPTION.CRED_MGMT: True,
            OPTION.PER_CRED_MGMT_RO: True,
            OPTION.CREDENTIAL_MGMT_PREVIEW: True,
            OPTION.BIO_ENROLL: enrolled,
            OPTION.USER_VERIFICATION_MGMT_PREVIEW: enrolled,
            OPTION.UV: enrolled,
            OPTION.LARGE_BLOBS: True,
            OPTION.AUTHNR_CFG: True,
            OPTION.ALWAYS_UV: self.state.always_uv,
            OPTION.MAKE_CRED_UV_NOT_RQD: not self.state.always_uv,
            OPTION.SET_MIN_PIN_LENGTH: True,
        }
        if self.ep_supported:
            opts[OPTION.EP] = self.state.ep_enabled
        return opts

    def get_info(self) -> dict[int, object]:
        """authenticatorGetInfo (§6.4), with the CTAP 2.2 members this authenticator can fill."""
        state = self.state
        versions = ["FIDO_2_0", "FIDO_2_1"] if state.always_uv else ["FIDO_2_0", "FIDO_2_1", "U2F_V2"]
        info: dict[int, object] = {
            1: versions,
            2: [
                "credBlob",
                "credProtect",
                "hmac-secret",
                "hmac-secret-mc",
                "largeBlobKey",
                "minPinLength",
                "thirdPartyPayment",
            ],
            3: state.aaguid,
            4: self.options(),
            5: MAX_MSG_SIZE,
            6: [2, 1],
            7: MAX_CREDS_IN_LIST,
            8: MAX_CRED_ID_LENGTH,
            9: ["usb"],
            10: [{"alg": alg, "type": "public-key"} for alg in SUPPORTED_ALGORITHMS],
            11: MAX_LARGE_BLOB,
            12: state.force_pin_change,
            13: state.min_pin_length,
            14: FIRMWARE_VERSION,
            15: MAX_CRED_BLOB,
            16: MAX_RPIDS_MIN_PIN,
            17: 3,  # preferredPlatformUvAttempts
            18: 0x02,  # uvModality: USER_VERIFY_FINGERPRINT_INTERNAL
            19: {},  # certifications: none (a software authenticator is not certified)
            20: MAX_RESIDENT - len(state.credentials),
            21: list(manage.VENDOR_COMMANDS),
            22: ["packed", "none"],
            23: state.uv_count_since_pin,  # uvCountSinceLastPinEntry: built-in UV attempts since the PIN was entered
            24: False,  # longTouchForReset: a touch is a touch
            26: ["usb"],  # transportsForReset
            27: False,  # pinComplexityPolicy: none beyond minPINLength
            29: MAX_PIN_LENGTH,
            # authenticatorConfigCommands: setMinPINLength, toggleAlwaysUv, vendorPrototype, and enableEnterprise-
            # Attestation when the feature exists
            31: [int(c) for c in ConfigCmd if self.ep_supported or c != ConfigCmd.ENABLE_ENTERPRISE_ATT],
        }
        token = state.persistent_token
        if token is not None:  # encIdentifier, encCredStoreState: only a persistent token holder reads them
            info[25] = seal_info_member(token, ENC_IDENTIFIER_INFO, state.device_identifier())
            info[30] = seal_info_member(token, ENC_CRED_STORE_STATE_INFO, state.cred_store_state())
        return info

    # -- reset ----------------------------------------------------------------------------------------

    async def reset(self, set_status: Callable[[STATUS], None]) -> None:
        """authenticatorReset (§6.6): only within the reset window after power-up, with a touch."""
        if self.reset_window is not None and self.clock() - self.powered_up > self.reset_window:
            raise fail(ERR.NOT_ALLOWED)
        await self.require_up(set_status)
        self.state.reset()
        self.pin.power_cycle()
        self.manage.power_cycle()
