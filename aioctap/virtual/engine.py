"""The software CTAP 2.1 authenticator: command dispatch, getInfo, makeCredential, getAssertion (§6.1-6.4).

``VirtualAuthenticator`` is a :class:`~aioctap.hid.device_side.CtapHidApplication`: it gets whole
CTAPHID_CBOR / CTAPHID_MSG requests from the device-side CTAPHID shell and answers them. Every
request is checked strictly (canonical CBOR, types, required members) and answered with the
spec's status codes. User presence goes through a pluggable async policy.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from .. import cbor
from ..ctap import STATUS, CtapError
from ..ctap2.pin import PinProtocolError
from ..hid.protocol import CAPABILITY, CTAPHID
from ..webauthn import AttestedCredentialData, AuthenticatorData
from . import manage, u2f
from .client_pin import PERM, PinState
from .common import ERR, ApproveAll, FingerprintSensor, UserPolicy, fail, opt_param, req_param
from .state import SUPPORTED_ALGORITHMS, AuthenticatorState, CredentialKey, ResidentCredential, load_state, save_state

__all__ = ["VirtualAuthenticator"]

log = logging.getLogger("aioctap.virtual")

MAX_MSG_SIZE = 7609
MAX_CREDS_IN_LIST = 8
MAX_CRED_ID_LENGTH = 128
MAX_RESIDENT = 50
MAX_CRED_BLOB = 32
MAX_LARGE_BLOB = 4096
MAX_RPIDS_MIN_PIN = 4
RESET_WINDOW = 10.0
NEXT_ASSERTION_WINDOW = 30.0

COMMAND_NAMES = {
    0x01: "makeCredential",
    0x02: "getAssertion",
    0x04: "getInfo",
    0x06: "clientPIN",
    0x07: "reset",
    0x08: "getNextAssertion",
    0x09: "bioEnrollment",
    0x0A: "credentialManagement",
    0x0B: "selection",
    0x0C: "largeBlobs",
    0x0D: "config",
    0x40: "bioEnrollment (preview)",
    0x41: "credentialManagement (preview)",
}


@dataclass
class _PendingAssertions:
    rp_id: str
    client_data_hash: bytes
    credentials: list[tuple[bytes, CredentialKey, ResidentCredential | None]]
    flags: int
    extensions: Mapping[str, Any]
    uv: bool
    started: float


class VirtualAuthenticator:
    """A software CTAP 2.1 authenticator (FIDO_2_0, FIDO_2_1, U2F_V2).

    ``state_file``: where the state lives (None: in memory only). ``policy``: the simulated user's
    answer to requests for presence (approve at once by default). ``clock``: monotonic seconds.
    ``reset_window``: how long after power-up authenticatorReset is allowed (None: always).
    ``attestation``: "packed" (x5c, the default), "self" or "none".
    """

    capabilities: int = CAPABILITY.WINK | CAPABILITY.CBOR

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
    ) -> None:
        self.state_file = Path(state_file) if state_file is not None else None
        self.state = load_state(self.state_file) if self.state_file else AuthenticatorState.new()
        self.policy: UserPolicy = policy or ApproveAll()
        self.sensor = sensor or FingerprintSensor()
        self.clock = clock
        self.reset_window = reset_window
        self.attestation = attestation
        self.ep_supported = enterprise_attestation
        self.winks = 0
        self.pin = PinState(self.state, clock, self.sensor)
        self.manage = manage.Management(self)
        self.power_cycle()

    def __repr__(self) -> str:
        return f"VirtualAuthenticator(state_file={self.state_file!s}, {self.state!r})"

    # -- CtapHidApplication ----------------------------------------------------------------------

    def wink(self) -> None:
        self.winks += 1

    def power_cycle(self) -> None:
        """Simulated unplug/replug: PIN blocks until power cycle clear, the reset window opens, tokens go."""
        self.powered_up = self.clock()
        self.pin.power_cycle()
        self._pending: _PendingAssertions | None = None
        self.manage.power_cycle()

    def save(self) -> None:
        if self.state_file is not None:
            save_state(self.state, self.state_file)

    @property
    def attestation_root(self) -> bytes:
        """DER of the root certificate of this authenticator's packed attestation (a trust anchor)."""
        return self.state.attestation_root

    async def handle(self, cmd: int, payload: bytes, set_status: Callable[[STATUS], None]) -> bytes:
        if cmd == CTAPHID.MSG:
            response = await u2f.handle(self, payload, set_status)
            self.save()
            return response
        code = payload[0]
        name = COMMAND_NAMES.get(code, f"0x{code:02x}")
        try:
            result = await self._dispatch(code, payload[1:], set_status)
        except CtapError as e:
            log.info("%s -> %s", name, e.code.name if hasattr(e.code, "name") else e.code)
            self.save()
            return bytes([int(e.code)])
        log.info("%s -> OK", name)
        self.save()
        return b"\x00" + (cbor.dumps(result) if result else b"")

    async def _dispatch(self, code: int, data: bytes, set_status: Callable[[STATUS], None]) -> dict[Any, Any] | None:
        if code not in COMMAND_NAMES:
            raise fail(ERR.INVALID_COMMAND)
        params: dict[Any, Any] = {}
        if data:
            try:
                params = cbor.loads(data)
            except cbor.CborError:
                raise fail(ERR.INVALID_CBOR) from None
            if not isinstance(params, dict):
                raise fail(ERR.CBOR_UNEXPECTED_TYPE)
        if code != 0x08:
            self._pending = None if code in (0x01, 0x02, 0x07) else self._pending
        if code == 0x04:
            return self.get_info()
        if code == 0x01:
            return await self.make_credential(params, set_status)
        if code == 0x02:
            return await self.get_assertion(params, set_status)
        if code == 0x08:
            return self.get_next_assertion()
        if code == 0x06:
            return await self.pin.handle(params, set_status)
        if code == 0x07:
            await self.reset(set_status)
            return None
        if code == 0x0B:
            await self.require_up(set_status)
            return None
        if code in (0x0A, 0x41):
            return self.manage.credential_management(params)
        if code in (0x09, 0x40):
            return await self.manage.bio_enrollment(params, set_status)
        if code == 0x0C:
            return self.manage.large_blobs(params)
        return self.manage.config(params)

    # -- helpers -----------------------------------------------------------------------------------

    async def require_up(self, set_status: Callable[[STATUS], None]) -> None:
        if not await self.policy.user_presence(set_status):
            raise fail(ERR.OPERATION_DENIED)

    def is_protected(self) -> bool:
        return self.state.pin_hash is not None or bool(self.state.templates)

    def options(self) -> dict[str, bool]:
        opts = {
            "rk": True,
            "up": True,
            "plat": False,
            "clientPin": self.state.pin_hash is not None,
            "pinUvAuthToken": True,
            "credMgmt": True,
            "credentialMgmtPreview": True,
            "bioEnroll": bool(self.state.templates),
            "uv": bool(self.state.templates),
            "largeBlobs": True,
            "authnrCfg": True,
            "alwaysUv": self.state.always_uv,
            "makeCredUvNotRqd": True,
            "setMinPINLength": True,
        }
        if self.ep_supported:
            opts["ep"] = self.state.ep_enabled
        return opts

    def get_info(self) -> dict[int, Any]:
        """authenticatorGetInfo (§6.4)."""
        return {
            1: ["FIDO_2_0", "FIDO_2_1", "U2F_V2"],
            2: ["credBlob", "credProtect", "hmac-secret", "hmac-secret-mc", "largeBlobKey", "minPinLength"],
            3: self.state.aaguid,
            4: self.options(),
            5: MAX_MSG_SIZE,
            6: [2, 1],
            7: MAX_CREDS_IN_LIST,
            8: MAX_CRED_ID_LENGTH,
            9: ["usb"],
            10: [{"alg": alg, "type": "public-key"} for alg in SUPPORTED_ALGORITHMS],
            11: MAX_LARGE_BLOB,
            12: self.state.force_pin_change,
            13: self.state.min_pin_length,
            14: 0x00010000,
            15: MAX_CRED_BLOB,
            16: MAX_RPIDS_MIN_PIN,
            17: 3,
            18: 0x02,  # USER_VERIFY_FINGERPRINT_INTERNAL
            20: MAX_RESIDENT - len(self.state.credentials),
        }

    async def _empty_pin_auth(self, set_status: Callable[[STATUS], None]) -> None:
        """A zero-length pinUvAuthParam: the platform asks which authenticator the user picks (§6.1.2 step 1)."""
        await self.require_up(set_status)
        raise fail(ERR.PIN_INVALID if self.state.pin_hash is not None else ERR.PIN_NOT_SET)

    def _check_pin_uv_param(
        self, params: Mapping[int, Any], param_key: int, proto_key: int, message: bytes, permission: int, rp_id: str
    ) -> bool:
        param = opt_param(params, param_key, bytes)
        if param is None:
            return False
        if proto_key not in params:
            raise fail(ERR.MISSING_PARAMETER)
        self.pin.verify_token(params[proto_key], param, message, permission, rp_id)
        return True

    def _options(self, params: Mapping[int, Any], key: int) -> dict[str, bool]:
        options = opt_param(params, key, dict) or {}
        for k, v in options.items():
            if not isinstance(k, str) or not isinstance(v, bool):
                raise fail(ERR.CBOR_UNEXPECTED_TYPE)
        return dict(options)

    @staticmethod
    def _descriptors(value: Any) -> list[bytes]:
        if value is None:
            return []
        if not isinstance(value, list):
            raise fail(ERR.CBOR_UNEXPECTED_TYPE)
        ids = []
        for d in value:
            if not isinstance(d, dict) or not isinstance(d.get("type"), str) or not isinstance(d.get("id"), bytes):
                raise fail(ERR.CBOR_UNEXPECTED_TYPE)
            if d["type"] == "public-key":
                ids.append(d["id"])
        return ids

    # -- makeCredential ------------------------------------------------------------------------------

    async def make_credential(self, params: Mapping[int, Any], set_status: Callable[[STATUS], None]) -> dict[int, Any]:
        """authenticatorMakeCredential (§6.1.2)."""
        client_data_hash = req_param(params, 1, bytes)
        rp = req_param(params, 2, dict)
        user = req_param(params, 3, dict)
        key_params = req_param(params, 4, list)
        exclude_ids = self._descriptors(params.get(5))
        extensions = opt_param(params, 6, dict) or {}
        options = self._options(params, 7)
        ep = opt_param(params, 10, int)
        formats = opt_param(params, 11, list)
        rp_id = rp.get("id")
        if not isinstance(rp_id, str):
            raise fail(ERR.MISSING_PARAMETER if rp_id is None else ERR.CBOR_UNEXPECTED_TYPE)
        user_id = user.get("id")
        if not isinstance(user_id, bytes):
            raise fail(ERR.MISSING_PARAMETER if user_id is None else ERR.CBOR_UNEXPECTED_TYPE)
        if len(user_id) > 64:
            raise fail(ERR.INVALID_LENGTH)
        for member in ("name", "displayName"):
            if member in user and not isinstance(user[member], str):
                raise fail(ERR.CBOR_UNEXPECTED_TYPE)
        if len(client_data_hash) != 32:
            raise fail(ERR.INVALID_LENGTH)
        if params.get(8) == b"":
            await self._empty_pin_auth(set_status)
        alg = None
        for p in key_params:
            if not isinstance(p, dict) or not isinstance(p.get("alg"), int) or not isinstance(p.get("type"), str):
                raise fail(ERR.CBOR_UNEXPECTED_TYPE)
            if alg is None and p["type"] == "public-key" and p["alg"] in SUPPORTED_ALGORITHMS:
                alg = p["alg"]
        if alg is None:
            raise fail(ERR.UNSUPPORTED_ALGORITHM)
        rk = options.get("rk", False)
        if options.get("up") is False:
            raise fail(ERR.INVALID_OPTION)
        uv = False
        if self._check_pin_uv_param(params, 8, 9, client_data_hash, PERM.MC, rp_id):
            uv = True
        elif options.get("uv"):
            if not self.state.templates:
                raise fail(ERR.INVALID_OPTION)
            await self.pin.verify_user(set_status)
            uv = True
        if not uv and self.is_protected() and (rk or self.state.always_uv):
            raise fail(ERR.PUAT_REQUIRED)
        if ep is not None:
            if not (self.ep_supported and self.state.ep_enabled):
                raise fail(ERR.INVALID_PARAMETER)
            if ep not in (1, 2):
                raise fail(ERR.INVALID_OPTION)
        rp_hash = hashlib.sha256(rp_id.encode()).digest()
        for cred_id in exclude_ids:
            key = self.state.open_credential(cred_id, rp_hash)
            if key is not None and (key.cred_protect != 3 or uv):
                await self.require_up(set_status)
                raise fail(ERR.CREDENTIAL_EXCLUDED)
        ext_out, cred_protect, hmac_secret, cred_blob, want_lbk, mc_hmac = self._mc_extensions(extensions, rk, rp_id)
        if want_lbk and not rk:
            raise fail(ERR.INVALID_OPTION)
        if rk and len(self.state.credentials) >= MAX_RESIDENT and not any(
            c.rp_id == rp_id and c.user.get("id") == user_id for c in self.state.credentials
        ):
            raise fail(ERR.KEY_STORE_FULL)
        await self.require_up(set_status)
        self.pin.clear_permissions_except_lbw()

        key = CredentialKey.generate(alg, cred_protect=cred_protect, hmac_secret=hmac_secret, resident=rk)
        cred_id = self.state.seal_credential(key, rp_hash)
        public_key = key.public_key()
        large_blob_key = os.urandom(32) if want_lbk else None
        if rk:
            self.state.credentials = [
                c for c in self.state.credentials if not (c.rp_id == rp_id and c.user.get("id") == user_id)
            ]
            self.state.credential_seq += 1
            self.state.credentials.append(
                ResidentCredential(
                    cred_id,
                    rp_id,
                    {k: v for k, v in rp.items() if k in ("id", "name")},
                    {k: v for k, v in user.items() if k in ("id", "name", "displayName")},
                    self.state.credential_seq,
                    cred_protect,
                    cred_blob,
                    large_blob_key,
                    dict(public_key),
                )
            )
        if "credBlob" in extensions:
            ext_out["credBlob"] = cred_blob is not None and rk
        if mc_hmac is not None:
            ext_out["hmac-secret-mc"] = self._hmac_secret_output(mc_hmac, cred_id, uv)
        flags = AuthenticatorData.FLAG.UP | AuthenticatorData.FLAG.AT
        if uv:
            flags |= AuthenticatorData.FLAG.UV
        if ext_out:
            flags |= AuthenticatorData.FLAG.ED
        auth_data = AuthenticatorData.create(
            rp_hash,
            flags,
            self.state.next_sign_count(),
            AttestedCredentialData.create(self.state.aaguid, cred_id, public_key),
            ext_out or None,
        )
        fmt, att_stmt = self._attest(auth_data, client_data_hash, key, alg, formats, ep is not None)
        response: dict[int, Any] = {1: fmt, 2: bytes(auth_data), 3: att_stmt}
        if ep is not None:
            response[4] = True
        if large_blob_key is not None:
            response[5] = large_blob_key
        return response

    def _mc_extensions(
        self, extensions: Mapping[Any, Any], rk: bool, rp_id: str
    ) -> tuple[dict[str, Any], int, bool, bytes | None, bool, Mapping[int, Any] | None]:
        out: dict[str, Any] = {}
        cred_protect = 1
        if "credProtect" in extensions:
            level = extensions["credProtect"]
            if not isinstance(level, int) or isinstance(level, bool):
                raise fail(ERR.CBOR_UNEXPECTED_TYPE)
            if level not in (1, 2, 3):
                raise fail(ERR.INVALID_OPTION)
            cred_protect = level
            out["credProtect"] = level
        hmac_secret = extensions.get("hmac-secret") is True
        if hmac_secret:
            out["hmac-secret"] = True
        mc_hmac = extensions.get("hmac-secret-mc")
        if mc_hmac is not None and (not isinstance(mc_hmac, dict) or not hmac_secret):
            raise fail(ERR.INVALID_OPTION if isinstance(mc_hmac, dict) else ERR.CBOR_UNEXPECTED_TYPE)
        cred_blob = extensions.get("credBlob")
        if cred_blob is not None:
            if not isinstance(cred_blob, bytes):
                raise fail(ERR.CBOR_UNEXPECTED_TYPE)
            if len(cred_blob) > MAX_CRED_BLOB:
                cred_blob = None
        want_lbk = extensions.get("largeBlobKey") is True
        if "largeBlobKey" in extensions and extensions["largeBlobKey"] is not True:
            raise fail(ERR.INVALID_OPTION)
        if extensions.get("minPinLength") is True and rp_id in self.state.min_pin_length_rp_ids:
            out["minPinLength"] = self.state.min_pin_length
        return out, cred_protect, hmac_secret, cred_blob, want_lbk, mc_hmac

    def _attest(
        self,
        auth_data: AuthenticatorData,
        client_data_hash: bytes,
        key: CredentialKey,
        alg: int,
        formats: list[Any] | None,
        enterprise: bool,
    ) -> tuple[str, dict[str, Any]]:
        fmt = self.attestation
        if formats:
            for f in formats:
                if f in ("packed", "none"):
                    fmt = f if not (f == "packed" and self.attestation == "self") else "packed"
                    break
        to_sign = bytes(auth_data) + client_data_hash
        if fmt == "none":
            return "none", {}
        if self.attestation == "self":
            return "packed", {"alg": alg, "sig": key.sign(to_sign)}
        att_key = serialization.load_der_private_key(self.state.attestation_key, None)
        assert isinstance(att_key, ec.EllipticCurvePrivateKey)
        sig = att_key.sign(to_sign, ec.ECDSA(hashes.SHA256()))
        return "packed", {"alg": -7, "sig": sig, "x5c": [self.state.attestation_cert]}

    def _hmac_secret_output(self, ext: Mapping[Any, Any], cred_id: bytes, uv: bool) -> bytes:
        """hmac-secret (§12.5): decrypt the salts, HMAC them with CredRandom, encrypt the outputs."""
        key_agreement = ext.get(1)
        salt_enc = ext.get(2)
        salt_auth = ext.get(3)
        if not isinstance(key_agreement, dict) or not isinstance(salt_enc, bytes) or not isinstance(salt_auth, bytes):
            raise fail(ERR.MISSING_PARAMETER)
        proto = self.pin.protocol(ext.get(4, 1))
        try:
            shared = proto.ecdh(self.pin._key, key_agreement)
        except PinProtocolError:
            raise fail(ERR.INVALID_PARAMETER) from None
        if not proto.verify(shared, salt_enc, salt_auth):
            raise fail(ERR.PIN_AUTH_INVALID)
        try:
            salts = proto.decrypt(shared, salt_enc)
        except PinProtocolError:
            raise fail(ERR.INVALID_LENGTH) from None
        if len(salts) not in (32, 64):
            raise fail(ERR.INVALID_LENGTH)
        cred_random = self.state.cred_random(cred_id, uv)
        output = b"".join(
            hmac.new(cred_random, salts[i : i + 32], hashlib.sha256).digest() for i in range(0, len(salts), 32)
        )
        return proto.encrypt(shared, output)

    # -- getAssertion ----------------------------------------------------------------------------------

    async def get_assertion(self, params: Mapping[int, Any], set_status: Callable[[STATUS], None]) -> dict[int, Any]:
        """authenticatorGetAssertion (§6.2.2)."""
        rp_id = req_param(params, 1, str)
        client_data_hash = req_param(params, 2, bytes)
        allow_ids = self._descriptors(params.get(3))
        extensions = opt_param(params, 4, dict) or {}
        options = self._options(params, 5)
        if len(client_data_hash) != 32:
            raise fail(ERR.INVALID_LENGTH)
        if params.get(6) == b"":
            await self._empty_pin_auth(set_status)
        if "rk" in options:
            raise fail(ERR.UNSUPPORTED_OPTION)
        up = options.get("up", True)
        uv = False
        if self._check_pin_uv_param(params, 6, 7, client_data_hash, PERM.GA, rp_id):
            uv = True
        elif options.get("uv"):
            if not self.state.templates:
                raise fail(ERR.INVALID_OPTION)
            await self.pin.verify_user(set_status)
            uv = True
        if self.state.always_uv and not uv and self.is_protected():
            raise fail(ERR.PUAT_REQUIRED)
        rp_hash = hashlib.sha256(rp_id.encode()).digest()
        found: list[tuple[bytes, CredentialKey, ResidentCredential | None]] = []
        if allow_ids:
            for cred_id in allow_ids:
                key = self.state.open_credential(cred_id, rp_hash)
                if key is not None and (key.cred_protect != 3 or uv):
                    found.append((cred_id, key, self.state.find_resident(cred_id)))
                    break
        else:
            residents = sorted(
                (c for c in self.state.credentials if c.rp_id == rp_id), key=lambda c: c.created, reverse=True
            )
            for c in residents:
                if c.cred_protect == 1 or uv:
                    key = self.state.open_credential(c.credential_id, rp_hash)
                    if key is not None:
                        found.append((c.credential_id, key, c))
        if up:
            await self.require_up(set_status)
            self.pin.clear_permissions_except_lbw()
        if not found:
            raise fail(ERR.NO_CREDENTIALS)
        flags = (AuthenticatorData.FLAG.UP if up else 0) | (AuthenticatorData.FLAG.UV if uv else 0)
        if len(found) > 1:
            self._pending = _PendingAssertions(
                rp_id, client_data_hash, found[1:], flags, extensions, uv, self.clock()
            )
        response = self._assertion(rp_hash, client_data_hash, found[0], flags, extensions, uv, allow_ids == [])
        if len(found) > 1:
            response[5] = len(found)
        return response

    def get_next_assertion(self) -> dict[int, Any]:
        """authenticatorGetNextAssertion (§6.3)."""
        pending = self._pending
        if pending is None or not pending.credentials:
            raise fail(ERR.NOT_ALLOWED)
        if self.clock() - pending.started > NEXT_ASSERTION_WINDOW:
            self._pending = None
            raise fail(ERR.NOT_ALLOWED)
        cred = pending.credentials.pop(0)
        pending.started = self.clock()
        rp_hash = hashlib.sha256(pending.rp_id.encode()).digest()
        return self._assertion(
            rp_hash, pending.client_data_hash, cred, pending.flags, pending.extensions, pending.uv, True
        )

    def _assertion(
        self,
        rp_hash: bytes,
        client_data_hash: bytes,
        cred: tuple[bytes, CredentialKey, ResidentCredential | None],
        flags: int,
        extensions: Mapping[str, Any],
        uv: bool,
        discoverable: bool,
    ) -> dict[int, Any]:
        cred_id, key, resident = cred
        ext_out: dict[str, Any] = {}
        hmac_ext = extensions.get("hmac-secret")
        if hmac_ext is not None and key.hmac_secret:
            if not isinstance(hmac_ext, dict):
                raise fail(ERR.CBOR_UNEXPECTED_TYPE)
            ext_out["hmac-secret"] = self._hmac_secret_output(hmac_ext, cred_id, uv)
        if extensions.get("credBlob") is True:
            ext_out["credBlob"] = (resident.cred_blob if resident else None) or b""
        if ext_out:
            flags |= AuthenticatorData.FLAG.ED
        auth_data = AuthenticatorData.create(rp_hash, flags, self.state.next_sign_count(), b"", ext_out or None)
        response: dict[int, Any] = {
            1: {"type": "public-key", "id": cred_id},
            2: bytes(auth_data),
            3: key.sign(bytes(auth_data) + client_data_hash),
        }
        if resident is not None and discoverable:
            user = dict(resident.user)
            response[4] = user if uv else {"id": user["id"]}
        if extensions.get("largeBlobKey") is True and resident is not None and resident.large_blob_key:
            response[7] = resident.large_blob_key
        return response

    # -- reset ----------------------------------------------------------------------------------------

    async def reset(self, set_status: Callable[[STATUS], None]) -> None:
        """authenticatorReset (§6.6): only within the reset window after power-up, with a touch."""
        if self.reset_window is not None and self.clock() - self.powered_up > self.reset_window:
            raise fail(ERR.NOT_ALLOWED)
        await self.require_up(set_status)
        self.state.reset()
        self.pin.power_cycle()
        self.manage.power_cycle()
