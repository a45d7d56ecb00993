"""authenticatorMakeCredential (§6.1), authenticatorGetAssertion (§6.2), authenticatorGetNextAssertion (§6.3)
and the extensions they process (§12): hmac-secret, hmac-secret-mc, credProtect, credBlob, largeBlobKey,
minPinLength, and CTAP 2.2's thirdPartyPayment. Every check runs before the first state change, so a rejected
request changes nothing.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import struct
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

from .. import cbor
from ..ctap import STATUS
from ..ctap2.model import OPTION, PERMISSION
from ..ctap2.model import GetAssertionRequest as GA
from ..ctap2.model import MakeCredentialRequest as MC
from ..ctap2.pin import PinProtocol, PinProtocolError
from ..webauthn import AuthenticatorData
from . import encoding
from .client_pin import PinState
from .common import ERR, ApproveAll, UserPolicy, checked, fail, opt_param, req_param
from .keys import SUPPORTED_ALGORITHMS, CredentialKey
from .state import AuthenticatorState, ResidentCredential

__all__ = ["MAX_CREDS_IN_LIST", "MAX_CRED_ID_LENGTH", "AccountChooser", "CredentialAuthenticator", "CredentialCommands"]

AccountChooser = Callable[[Sequence[Mapping[str, object]]], int]


class CredentialAuthenticator(Protocol):
    """What these commands need of the authenticator (:class:`~aioctap.virtual.VirtualAuthenticator` is one)."""

    state: AuthenticatorState
    pin: PinState
    policy: UserPolicy
    clock: Callable[[], float]
    attestation: str
    ep_supported: bool
    enterprise_rp_ids: frozenset[str]
    account_chooser: AccountChooser | None

    def is_protected(self) -> bool:
        """True when a PIN is set or built-in UV is enrolled (the pinUvAuthParam rules apply)."""
        ...

    async def require_up(self, set_status: Callable[[STATUS], None]) -> None:
        """Wait for the user's touch (keepalive UPNEEDED meanwhile); CtapError if it is refused or times out."""
        ...

    def attestation_private_key(self) -> ec.EllipticCurvePrivateKey:
        """The batch attestation key (packed attestation)."""
        ...

    def enterprise_private_key(self) -> ec.EllipticCurvePrivateKey:
        """The key of this authenticator's own enterprise attestation certificate (CTAP 2.1 §7.1)."""
        ...


MAX_RESIDENT = 50
MAX_CREDS_IN_LIST = 8  # getInfo maxCredentialCountInList: the longest allowList / excludeList taken
MAX_CRED_ID_LENGTH = 128  # getInfo maxCredentialIdLength: the longest credential ID taken (ours: 34 bytes)
MAX_CRED_BLOB = 32
MAX_USER_ID = 64
NEXT_ASSERTION_WINDOW = 30.0
RP_HASH_CACHE_SIZE = 64
FLAG = AuthenticatorData.FLAG
# the flag bits as plain ints: IntFlag arithmetic costs microseconds on the hot path
_UP, _UV, _AT, _ED = int(FLAG.UP), int(FLAG.UV), int(FLAG.AT), int(FLAG.ED)

Found = tuple[bytes, CredentialKey, ResidentCredential | None]
_FLAGS_COUNTER = struct.Struct(">BI")  # authenticator data's flags and signCount (WebAuthn §6.1)
# getAssertion's members and options as plain module constants (a class attribute costs a lookup per use)
_RP_ID, _CLIENT_DATA_HASH, _ALLOW_LIST, _EXTENSIONS = GA.RP_ID, GA.CLIENT_DATA_HASH, GA.ALLOW_LIST, GA.EXTENSIONS
_OPTIONS, _PIN_UV_AUTH_PARAM = GA.OPTIONS, GA.PIN_UV_AUTH_PARAM
_RK, _UP_OPTION, _UV_OPTION = OPTION.RK, OPTION.UP, OPTION.UV


@dataclass
class _HmacRequest:
    """A checked hmac-secret input: the shared secret and the decrypted salts."""

    protocol: PinProtocol
    shared: bytes
    salts: bytes

    def __repr__(self) -> str:
        return f"_HmacRequest(protocol={self.protocol.VERSION}, salts={len(self.salts) // 32})"


@dataclass
class _PendingAssertions:
    rp_id_hash: bytes
    client_data_hash: bytes
    credentials: list[Found]
    flags: int
    extensions: Mapping[str, Any]
    hmac_request: _HmacRequest | None
    uv: bool
    started: float


def _descriptors(value: Any) -> list[bytes]:
    """The public-key credential IDs of an excludeList / allowList.

    A list longer than getInfo's maxCredentialCountInList, or with a public-key credential ID longer
    than its maxCredentialIdLength, is refused with LIMIT_EXCEEDED before anything else happens (as
    Chromium's virtual CTAP2 device does, device/fido/virtual_ctap2_device.cc): the platform must
    leave out the IDs longer than that (no credential of this authenticator has one) and split longer
    lists into chunks of that size, one request per chunk (python-fido2's client does both, in
    ``_filter_creds``).
    """
    if value is None:
        return []
    if not isinstance(value, list):
        raise fail(ERR.CBOR_UNEXPECTED_TYPE)
    if len(value) > MAX_CREDS_IN_LIST:
        raise fail(ERR.LIMIT_EXCEEDED)
    ids = []
    for d in value:
        if not isinstance(d, dict):
            raise fail(ERR.CBOR_UNEXPECTED_TYPE)
        kind = d.get("type")  # req_param written out for members of the usual type
        if type(kind) is not str:
            kind = req_param(d, "type", str)
        cred_id = d.get("id")
        if type(cred_id) is not bytes:
            cred_id = req_param(d, "id", bytes)
        if kind == "public-key":
            if len(cred_id) > MAX_CRED_ID_LENGTH:
                raise fail(ERR.LIMIT_EXCEEDED)
            ids.append(cred_id)
    return ids


def _optional_text(entity: Mapping[str, Any], members: tuple[str, ...]) -> None:
    """Optional text members of an RP or user entity: CBOR_UNEXPECTED_TYPE if one is there and not text."""
    for member in members:
        if entity.get(member).__class__ is not str and member in entity:
            opt_param(entity, member, str)


def _options(params: Mapping[int, object], key: int) -> dict[str, bool]:
    if key not in params:
        return {}
    options = opt_param(params, key, dict) or {}
    for k, v in options.items():
        if not isinstance(k, str) or not isinstance(v, bool):
            raise fail(ERR.CBOR_UNEXPECTED_TYPE)
    return dict(options)


class CredentialCommands:
    """makeCredential, getAssertion and getNextAssertion of one authenticator."""

    def __init__(self, auth: CredentialAuthenticator) -> None:
        self.auth = auth
        self.pending: _PendingAssertions | None = None
        self._rp_hashes: dict[str, bytes] = {}

    # -- user verification shared by both commands ---------------------------------------------

    async def _user_verification(
        self,
        params: Mapping[int, object],
        request: type[MC | GA],
        client_data_hash: bytes,
        options: Mapping[str, bool],
        permission: PERMISSION,
        rp_id: str,
        set_status: Callable[[STATUS], None],
        up: bool,
    ) -> tuple[bool, bool]:
        """Steps "pinUvAuthParam" / "uv option" / "alwaysUv" of §6.1.2 and §6.2.2.

        Returns (user verified, user present already): a touch for built-in UV, or a token obtained with
        built-in UV moments ago (its userPresent flag), stands for the touch user presence needs.
        """
        auth = self.auth
        param_key, proto_key = request.PIN_UV_AUTH_PARAM, request.PIN_UV_AUTH_PROTOCOL
        param = opt_param(params, param_key, bytes)
        if param == b"":
            await auth.require_up(set_status)  # the platform asks the user to pick this authenticator
            raise fail(ERR.PIN_INVALID if auth.state.pin_hash is not None else ERR.PIN_NOT_SET)
        if param is not None:
            if proto_key not in params:
                raise fail(ERR.MISSING_PARAMETER)
            auth.pin.verify_token(params[proto_key], param, client_data_hash, permission, rp_id)
            return True, auth.pin.token_user_present()
        if options.get(OPTION.UV) or (auth.state.always_uv and up):
            if not auth.state.templates:  # no built-in UV method enabled
                raise fail(ERR.INVALID_OPTION if options.get(OPTION.UV) else ERR.PUAT_REQUIRED)
            await auth.pin.verify_user(set_status)
            return True, True
        return False, False

    # -- hmac-secret (§12.5) -------------------------------------------------------------------------

    def _hmac_request(self, ext: Any) -> _HmacRequest:
        """Check an hmac-secret input and decrypt its salts (nothing is computed yet)."""
        ext = checked(ext, dict)
        key_agreement = req_param(ext, 1, dict)
        salt_enc = req_param(ext, 2, bytes)
        salt_auth = req_param(ext, 3, bytes)
        proto = self.auth.pin.protocol(ext.get(4, 1))
        shared = self.auth.pin.shared_secret(proto, key_agreement)
        if not proto.verify(shared, salt_enc, salt_auth):
            raise fail(ERR.PIN_AUTH_INVALID)
        try:
            salts = proto.decrypt(shared, salt_enc)
        except PinProtocolError:
            raise fail(ERR.INVALID_LENGTH) from None
        if len(salts) not in (32, 64):
            raise fail(ERR.INVALID_LENGTH)
        return _HmacRequest(proto, shared, salts)

    def _hmac_output(self, request: _HmacRequest, cred_id: bytes, uv: bool) -> bytes:
        cred_random = self.auth.state.cred_random(cred_id, uv)
        salts = request.salts
        output = b"".join(
            hmac.new(cred_random, salts[i : i + 32], hashlib.sha256).digest() for i in range(0, len(salts), 32)
        )
        return request.protocol.encrypt(request.shared, output)

    # -- makeCredential ------------------------------------------------------------------------------

    async def make_credential(self, params: Mapping[int, object], set_status: Callable[[STATUS], None]) -> bytes:
        """authenticatorMakeCredential (§6.1.2); the response map already encoded as CBOR."""
        auth = self.auth
        state = auth.state
        client_data_hash = req_param(params, MC.CLIENT_DATA_HASH, bytes)
        rp = req_param(params, MC.RP, dict)
        user = req_param(params, MC.USER, dict)
        key_params = req_param(params, MC.PUB_KEY_CRED_PARAMS, list)
        exclude_ids = _descriptors(params.get(MC.EXCLUDE_LIST))
        extensions = opt_param(params, MC.EXTENSIONS, dict) or {}
        options = _options(params, MC.OPTIONS)
        opt_param(params, MC.PIN_UV_AUTH_PARAM, bytes)
        ep = opt_param(params, MC.ENTERPRISE_ATTESTATION, int)
        formats = opt_param(params, MC.ATTESTATION_FORMATS_PREFERENCE, list)
        rp_id = req_param(rp, "id", str)
        _optional_text(rp, ("name", "icon"))
        user_id = req_param(user, "id", bytes)
        _optional_text(user, ("name", "displayName", "icon"))
        if len(user_id) > MAX_USER_ID or len(client_data_hash) != 32:
            raise fail(ERR.INVALID_LENGTH)
        alg = None
        for p in key_params:
            p = checked(p, dict)
            kind = req_param(p, "type", str)
            candidate = req_param(p, "alg", int)
            if alg is None and kind == "public-key" and candidate in SUPPORTED_ALGORITHMS:
                alg = candidate
        if alg is None:
            raise fail(ERR.UNSUPPORTED_ALGORITHM)
        rk = options.get(OPTION.RK, False)
        if options.get(OPTION.UP) is False:
            raise fail(ERR.INVALID_OPTION)
        if MC.PIN_UV_AUTH_PARAM in params or options.get(OPTION.UV) or state.always_uv:
            uv, touched = await self._user_verification(
                params, MC, client_data_hash, options, PERMISSION.MAKE_CREDENTIAL, rp_id, set_status, up=True
            )
        else:  # no pinUvAuthParam, no uv option, no alwaysUv: nothing to verify (the steps' own outcome)
            uv = touched = False
        if not uv and rk and auth.is_protected():
            raise fail(ERR.PUAT_REQUIRED)  # makeCredUvNotRqd covers non-discoverable credentials only
        enterprise = False
        if ep is not None:
            if not (auth.ep_supported and state.ep_enabled):
                raise fail(ERR.INVALID_PARAMETER)
            if ep not in (1, 2):
                raise fail(ERR.INVALID_OPTION)
            # vendor-facilitated (1, §7.1.1): only for an RP ID on the vendor's list, else regular attestation;
            # platform-managed (2, §7.1.2): the platform vouches for the RP ID
            enterprise = ep == 2 or rp_id in auth.enterprise_rp_ids
        rp_hash = self.rp_id_hash(rp_id)
        for cred_id in exclude_ids:
            key = state.open_credential(cred_id, rp_hash)
            if key is not None and (key.cred_protect != 3 or uv):
                await auth.require_up(set_status)
                raise fail(ERR.CREDENTIAL_EXCLUDED)
        ext_out, cred_protect, hmac_secret, cred_blob, want_lbk, mc_hmac = self._mc_extensions(extensions, rp_id)
        payment = ext_out.get("thirdPartyPayment") is True
        if want_lbk and not rk:
            raise fail(ERR.INVALID_OPTION)
        replaces = [c for c in state.credentials if c.rp_id == rp_id and c.user.get("id") == user_id] if rk else []
        if rk and not replaces and len(state.credentials) >= MAX_RESIDENT:
            raise fail(ERR.KEY_STORE_FULL)
        if not touched and type(auth.policy) is not ApproveAll:  # ApproveAll: the touch is there at once
            await auth.require_up(set_status)
        auth.pin.clear_permissions_except_lbw()

        # from here on nothing fails: the credential is made
        cred_id, key = state.new_credential(
            alg, rp_hash, cred_protect=cred_protect, hmac_secret=hmac_secret, resident=rk, third_party_payment=payment
        )
        large_blob_key = os.urandom(32) if want_lbk else None
        if rk:
            for old in replaces:
                state.delete_resident(old)
            state.credential_seq += 1
            state.credentials.append(
                ResidentCredential(
                    cred_id,
                    rp_id,
                    {k: v for k, v in rp.items() if k in ("id", "name")},
                    {k: v for k, v in user.items() if k in ("id", "name", "displayName")},
                    state.credential_seq,
                    cred_protect,
                    cred_blob if rk else None,
                    large_blob_key,
                    dict(key.public_key()),
                )
            )
        if "credBlob" in extensions:
            ext_out["credBlob"] = cred_blob is not None and rk
        if mc_hmac is not None:
            ext_out["hmac-secret-mc"] = self._hmac_output(mc_hmac, cred_id, uv)
        flags = _UP | _AT | (_UV if uv else 0) | (_ED if ext_out else 0)
        state.sign_count += 1  # the one counter of every credential (next_sign_count)
        auth_data = encoding.authenticator_data(
            rp_hash,
            flags,
            state.sign_count,
            encoding.attested_credential_data(state.aaguid, cred_id, key.public_key_cbor()),
            cbor.dumps(ext_out) if ext_out else b"",
        )
        fmt, att_stmt = self._attest(auth_data, client_data_hash, key, alg, formats, enterprise)
        return encoding.make_credential_response(fmt, auth_data, att_stmt, enterprise, large_blob_key)

    def _mc_extensions(
        self, extensions: Mapping[Any, Any], rp_id: str
    ) -> tuple[dict[str, Any], int, bool, bytes | None, bool, _HmacRequest | None]:
        out: dict[str, Any] = {}
        cred_protect = 1
        if "credProtect" in extensions:
            level = req_param(extensions, "credProtect", int)
            if level not in (1, 2, 3):
                raise fail(ERR.INVALID_OPTION)
            cred_protect = level
            out["credProtect"] = level
        hmac_secret = opt_param(extensions, "hmac-secret", bool) is True
        if hmac_secret:
            out["hmac-secret"] = True
        mc_hmac = None
        if "hmac-secret-mc" in extensions:
            if not hmac_secret:
                raise fail(ERR.INVALID_OPTION)
            mc_hmac = self._hmac_request(extensions["hmac-secret-mc"])
        cred_blob = opt_param(extensions, "credBlob", bytes)
        if cred_blob is not None and len(cred_blob) > MAX_CRED_BLOB:
            cred_blob = None
        want_lbk = opt_param(extensions, "largeBlobKey", bool)
        if want_lbk is False:
            raise fail(ERR.INVALID_OPTION)
        min_pin = opt_param(extensions, "minPinLength", bool)
        if min_pin and rp_id in self.auth.state.min_pin_length_rp_ids:
            out["minPinLength"] = self.auth.state.min_pin_length
        if opt_param(extensions, "thirdPartyPayment", bool):
            # CTAP 2.2 thirdPartyPayment: the credential is enabled for third-party payments (kept in its ID), and
            # the output says so, as authenticators in the field answer
            out["thirdPartyPayment"] = True
        return out, cred_protect, hmac_secret, cred_blob, want_lbk is True, mc_hmac

    def _attest(
        self,
        auth_data: bytes,
        client_data_hash: bytes,
        key: CredentialKey,
        alg: int,
        formats: list[Any] | None,
        enterprise: bool,
    ) -> tuple[str, dict[str, Any]]:
        """packed with the authenticator's chain (full), packed self attestation, or none (§6.1.2 step 19)."""
        configured = self.auth.attestation
        fmt = configured
        for f in formats or ():
            if checked(f, str) in ("packed", "none"):
                fmt = f if f == "none" or configured == "none" else configured
                break
        if enterprise:
            fmt = "packed"  # an enterprise attestation is always the full chain
        if fmt == "none":
            return "none", {}
        to_sign = auth_data + client_data_hash
        if fmt == "self":
            return "packed", {"alg": alg, "sig": key.sign(to_sign)}
        if enterprise:  # the enterprise chain, its certificate naming this authenticator (§7.1)
            att_key = self.auth.enterprise_private_key()
            cert = self.auth.state.enterprise_cert
        else:
            att_key = self.auth.attestation_private_key()
            cert = self.auth.state.attestation_cert
        sig = att_key.sign(to_sign, ec.ECDSA(hashes.SHA256()))
        return "packed", {"alg": -7, "sig": sig, "x5c": [cert]}

    # -- getAssertion ----------------------------------------------------------------------------------

    async def get_assertion(self, params: Mapping[int, object], set_status: Callable[[STATUS], None]) -> bytes:
        """authenticatorGetAssertion (§6.2.2); the response map already encoded as CBOR."""
        auth = self.auth
        state = auth.state
        # req_param / opt_param written out for members of the usual type (the checks of every request)
        rp_id = params.get(_RP_ID)
        if type(rp_id) is not str:
            rp_id = req_param(params, _RP_ID, str)
        client_data_hash = params.get(_CLIENT_DATA_HASH)
        if type(client_data_hash) is not bytes:
            client_data_hash = req_param(params, _CLIENT_DATA_HASH, bytes)
        allow_list = params.get(_ALLOW_LIST)
        allow_ids = _descriptors(allow_list) if allow_list is not None else []
        ext = params.get(_EXTENSIONS)
        if type(ext) is dict:
            extensions: Mapping[str, Any] = ext
        elif _EXTENSIONS not in params:
            extensions = {}
        else:
            extensions = opt_param(params, _EXTENSIONS, dict) or {}
        options = _options(params, _OPTIONS) if _OPTIONS in params else {}
        pin_uv_param = _PIN_UV_AUTH_PARAM in params
        if pin_uv_param:
            opt_param(params, _PIN_UV_AUTH_PARAM, bytes)
        if len(client_data_hash) != 32:
            raise fail(ERR.INVALID_LENGTH)
        if _RK in options:
            raise fail(ERR.UNSUPPORTED_OPTION)
        up = options.get(_UP_OPTION, True)
        if pin_uv_param or options.get(_UV_OPTION) or (up and state.always_uv):
            uv, touched = await self._user_verification(
                params, GA, client_data_hash, options, PERMISSION.GET_ASSERTION, rp_id, set_status, up
            )
        else:  # no pinUvAuthParam, no uv option, no alwaysUv: nothing to verify (the steps' own outcome)
            uv = touched = False
        hmac_request = None
        if extensions:
            hmac_request = self._hmac_request(extensions["hmac-secret"]) if "hmac-secret" in extensions else None
            for name in ("credBlob", "largeBlobKey", "thirdPartyPayment"):
                opt_param(extensions, name, bool)
        rp_hash = self._rp_hashes.get(rp_id) or self.rp_id_hash(rp_id)
        found: list[Found] = []
        if allow_ids:
            for cred_id in allow_ids:
                key = state.open_credential(cred_id, rp_hash)
                if key is not None and (key.cred_protect != 3 or uv):
                    found.append((cred_id, key, state.find_resident(cred_id) if key.resident else None))
                    break
        else:
            residents = [c for c in state.credentials if c.rp_id == rp_id]
            if len(residents) > 1:
                residents.sort(key=_newest_first)
            for c in residents:
                if c.cred_protect == 1 or uv:
                    key = state.open_resident(c, rp_hash)
                    if key is not None:
                        found.append((c.credential_id, key, c))
        if up:
            if not touched and type(auth.policy) is not ApproveAll:  # ApproveAll: the touch is there at once
                await auth.require_up(set_status)
            if auth.pin.token is not None:  # (else there is nothing to clear)
                auth.pin.clear_permissions_except_lbw()
        if not found:
            raise fail(ERR.NO_CREDENTIALS)
        flags = (_UP if up else 0) | (_UV if uv else 0)
        selected = False
        if not allow_ids and len(found) > 1 and auth.account_chooser is not None:
            index = auth.account_chooser([dict(r.user) for _, _, r in found if r is not None])
            if not isinstance(index, int) or not 0 <= index < len(found):
                raise fail(ERR.OPERATION_DENIED)
            found = [found[index]]
            selected = True
        count = None
        if len(found) > 1:
            self.pending = _PendingAssertions(
                rp_hash, client_data_hash, found[1:], flags, extensions, hmac_request, uv, auth.clock()
            )
            count = len(found)
        return self._assertion(
            rp_hash, client_data_hash, found[0], flags, extensions, hmac_request, uv, count, selected
        )

    def get_next_assertion(self) -> bytes:
        """authenticatorGetNextAssertion (§6.3); the response map already encoded as CBOR."""
        pending = self.pending
        if pending is None or not pending.credentials:
            raise fail(ERR.NOT_ALLOWED)
        if self.auth.clock() - pending.started > NEXT_ASSERTION_WINDOW:
            self.pending = None
            raise fail(ERR.NOT_ALLOWED)
        cred = pending.credentials.pop(0)
        pending.started = self.auth.clock()
        return self._assertion(
            pending.rp_id_hash, pending.client_data_hash, cred, pending.flags, pending.extensions,
            pending.hmac_request, pending.uv,
        )  # fmt: skip

    def _assertion(
        self,
        rp_hash: bytes,
        client_data_hash: bytes,
        cred: Found,
        flags: int,
        extensions: Mapping[str, Any],
        hmac_request: _HmacRequest | None,
        uv: bool,
        number_of_credentials: int | None = None,
        user_selected: bool = False,
    ) -> bytes:
        cred_id, key, resident = cred
        ext_cbor = b""
        if extensions or hmac_request is not None:
            ext_out: dict[str, Any] = {}
            if hmac_request is not None and key.hmac_secret:
                ext_out["hmac-secret"] = self._hmac_output(hmac_request, cred_id, uv)
            if extensions.get("credBlob") is True:
                ext_out["credBlob"] = (resident.cred_blob if resident else None) or b""
            if extensions.get("thirdPartyPayment") is True:  # CTAP 2.2: is this credential enabled for payments
                ext_out["thirdPartyPayment"] = key.third_party_payment
            if ext_out:
                flags |= _ED
                ext_cbor = cbor.dumps(ext_out)
        state = self.auth.state
        state.sign_count += 1  # the one counter of every credential (next_sign_count)
        # encoding.authenticator_data(rp_hash, flags, state.sign_count, b"", ext_cbor), written out
        auth_data = rp_hash + _FLAGS_COUNTER.pack(flags, state.sign_count) + ext_cbor
        signature = key.sign(auth_data + client_data_hash)
        if resident is None:
            return encoding.assertion_response(
                cred_id, auth_data, signature, None, number_of_credentials, user_selected
            )
        # a discoverable credential: its user handle, found through an allowList too; without user
        # verification only the user handle leaves the authenticator (§6.2.2 step 12)
        user = encoding.user_entity(resident.user, uv)
        large_blob_key = None
        if extensions.get("largeBlobKey") is True and resident.large_blob_key:
            large_blob_key = resident.large_blob_key
        return encoding.assertion_response(
            cred_id, auth_data, signature, user, number_of_credentials, user_selected, large_blob_key
        )

    # -- caches -------------------------------------------------------------------------------------------

    def rp_id_hash(self, rp_id: str) -> bytes:
        """SHA-256 of the RP ID (authenticator data's rpIdHash), remembered for the last few RP IDs."""
        digest = self._rp_hashes.get(rp_id)
        if digest is None:
            digest = hashlib.sha256(rp_id.encode()).digest()
            if len(self._rp_hashes) >= RP_HASH_CACHE_SIZE:
                self._rp_hashes.clear()
            self._rp_hashes[rp_id] = digest
        return digest


def _newest_first(credential: ResidentCredential) -> int:
    return -credential.created
