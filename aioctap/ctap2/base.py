"""Async CTAP2 (CTAP 2.1 §6): ``Ctap2`` and its response types ``Info``, ``AttestationResponse``, ``AssertionResponse``.

Names follow python-fido2's ``fido2.ctap2`` (seed 001); every device call is a coroutine, and
``get_assertions`` is an async iterator that fetches each next assertion lazily.
"""

from __future__ import annotations

import struct
from collections.abc import AsyncGenerator, Generator, Mapping, Sequence
from dataclasses import dataclass, field, fields
from typing import Any, TypeAlias, TypeVar, cast

from .. import cbor
from ..cose import CoseKey
from ..ctap import CtapDevice, CtapError, KeepaliveCallback
from ..hid.protocol import CTAPHID
from ..webauthn import Aaguid, AuthenticatorData, WebAuthnDataError
from . import model
from .model import OPTION, CredentialDescriptor, UserEntity
from .pin import ENC_CRED_STORE_STATE_INFO, ENC_IDENTIFIER_INFO, PinProtocolError, open_info_member

__all__ = ["AssertionResponse", "AttestationResponse", "Ctap2", "CtapResponseError", "Info", "args"]


_T = TypeVar("_T", str, int)


class CtapResponseError(ValueError):
    """The authenticator's response is malformed (bad CBOR, missing or mistyped member)."""


def args(*params: object) -> dict[int, object]:
    """Build a CTAP2 parameter map with keys 1, 2, ... skipping None values (python-fido2's helper)."""
    return {i: v for i, v in enumerate(params, 1) if v is not None}


def _map_or_none(value: Mapping[Any, object] | None) -> dict[Any, object] | None:
    """``value`` as a plain dict for CBOR, or None when it is absent or empty (so ``args`` drops it)."""
    return dict(value) if value else None


def _plain(value: object) -> object:
    """A mapping as a plain dict for CBOR; any other value as it is (python-fido2 encodes what it is given)."""
    return dict(value) if isinstance(value, Mapping) and type(value) is not dict else value


def _maps_or_none(values: Sequence[Mapping[str, object]] | None) -> list[dict[str, object]] | None:
    """A list of plain dicts for CBOR, or None when ``values`` is absent or empty."""
    return [dict(v) for v in values] if values else None


def _get(data: Mapping[int, Any], key: int, kind: type, name: str, required: bool = False) -> Any:
    value = data.get(key)
    if value is None:
        if required:
            raise CtapResponseError(f"response member {name} ({key}) is missing")
        return None
    if not isinstance(value, kind) or (isinstance(value, bool) and kind is int):
        raise CtapResponseError(f"response member {name} ({key}) must be {kind.__name__}, got {type(value).__name__}")
    return value


def _list(data: Mapping[int, Any], key: int, name: str, item: type[_T], required: bool = False) -> list[_T]:
    """A list of text strings or of integers (no booleans); empty when absent."""
    value = _get(data, key, list, name, required) or []
    if not all(isinstance(v, item) and not isinstance(v, bool) for v in value):
        raise CtapResponseError(f"response member {name} ({key}) must be a list of {item.__name__} values")
    return list(value)


@dataclass(frozen=True)
class Info:
    """authenticatorGetInfo response (§6.4)."""

    versions: list[str]
    extensions: list[str] = field(default_factory=list)
    aaguid: Aaguid = Aaguid.NONE
    options: dict[str, bool] = field(default_factory=dict)
    max_msg_size: int = 1024
    pin_uv_protocols: list[int] = field(default_factory=list)
    max_creds_in_list: int | None = None
    max_cred_id_length: int | None = None
    transports: list[str] = field(default_factory=list)
    algorithms: list[dict[str, object]] | None = None
    max_large_blob: int | None = None
    force_pin_change: bool = False
    min_pin_length: int = 4
    firmware_version: int | None = None
    max_cred_blob_length: int | None = None
    max_rpids_for_min_pin: int = 0
    preferred_platform_uv_attempts: int | None = None
    uv_modality: int | None = None
    certifications: dict[str, object] | None = None
    remaining_disc_creds: int | None = None
    vendor_prototype_config_commands: list[int] | None = None
    # CTAP 2.2 members (python-fido2 2.x names)
    attestation_formats: list[str] = field(default_factory=lambda: ["packed"])
    uv_count_since_pin: int | None = None
    long_touch_for_reset: bool = False
    enc_identifier: bytes | None = None
    transports_for_reset: list[str] = field(default_factory=list)
    pin_complexity_policy: bool | None = None
    pin_complexity_policy_url: bytes | None = None
    max_pin_length: int = 63
    enc_cred_store_state: bytes | None = None
    authenticator_config_commands: list[int] | None = None
    data: dict[int, object] = field(default_factory=dict, repr=False)

    def __getitem__(self, key: int) -> object:
        """The member with CBOR key ``key`` (python-fido2's ``info[0x01]``): ``info[4]`` is ``info.options``;
        ``KeyError`` for an unknown key or an absent (None) member."""
        names = _INFO_MEMBERS
        value = getattr(self, names[key - 1]) if 1 <= key <= len(names) else None
        if value is None:
            raise KeyError(key)
        return value

    def get_identifier(self, pin_token: bytes) -> bytes | None:
        """encIdentifier (CTAP 2.2 §6.4) decrypted with a persistent pinUvAuthToken (``pcmr`` permission): an
        identifier of the authenticator; None when the authenticator gave none. CtapResponseError if malformed."""
        return _open_member(self.enc_identifier, ENC_IDENTIFIER_INFO, pin_token)

    def get_cred_store_state(self, pin_token: bytes) -> bytes | None:
        """encCredStoreState (CTAP 2.2 §6.4) decrypted with a persistent pinUvAuthToken: a value that changes when
        the discoverable credentials change; None when the authenticator gave none."""
        return _open_member(self.enc_cred_store_state, ENC_CRED_STORE_STATE_INFO, pin_token)

    @classmethod
    def from_dict(cls, data: Mapping[int, object]) -> Info:
        """Parse the CBOR map; :class:`CtapResponseError` for missing or mistyped members."""
        if not isinstance(data, Mapping):
            raise CtapResponseError("getInfo response must be a CBOR map")
        aaguid = _get(data, 3, bytes, "aaguid", True)
        if len(aaguid) != 16:
            raise CtapResponseError("getInfo aaguid must be 16 bytes")
        options = _get(data, 4, dict, "options") or {}
        if not all(isinstance(k, str) and isinstance(v, bool) for k, v in options.items()):
            raise CtapResponseError("getInfo options must map text to booleans")
        algorithms = _get(data, 10, list, "algorithms")
        if algorithms is not None and not all(isinstance(a, dict) for a in algorithms):
            raise CtapResponseError("getInfo algorithms must be a list of maps")
        vendor = _list(data, 21, "vendorPrototypeConfigCommands", int) if data.get(21) is not None else None
        return cls(
            versions=_list(data, 1, "versions", str, True),
            extensions=_list(data, 2, "extensions", str),
            aaguid=Aaguid(aaguid),
            options=dict(options),
            max_msg_size=_get(data, 5, int, "maxMsgSize") or 1024,
            pin_uv_protocols=_list(data, 6, "pinUvAuthProtocols", int),
            max_creds_in_list=_get(data, 7, int, "maxCredentialCountInList"),
            max_cred_id_length=_get(data, 8, int, "maxCredentialIdLength"),
            transports=_list(data, 9, "transports", str),
            algorithms=algorithms,
            max_large_blob=_get(data, 11, int, "maxSerializedLargeBlobArray"),
            force_pin_change=bool(_get(data, 12, bool, "forcePINChange")),
            min_pin_length=_get(data, 13, int, "minPINLength") or 4,
            firmware_version=_get(data, 14, int, "firmwareVersion"),
            max_cred_blob_length=_get(data, 15, int, "maxCredBlobLength"),
            max_rpids_for_min_pin=_get(data, 16, int, "maxRPIDsForSetMinPINLength") or 0,
            preferred_platform_uv_attempts=_get(data, 17, int, "preferredPlatformUvAttempts"),
            uv_modality=_get(data, 18, int, "uvModality"),
            certifications=_get(data, 19, dict, "certifications"),
            remaining_disc_creds=_get(data, 20, int, "remainingDiscoverableCredentials"),
            vendor_prototype_config_commands=vendor,
            attestation_formats=_list(data, 22, "attestationFormats", str) if data.get(22) is not None else ["packed"],
            uv_count_since_pin=_get(data, 23, int, "uvCountSinceLastPinEntry"),
            long_touch_for_reset=bool(_get(data, 24, bool, "longTouchForReset")),
            enc_identifier=_get(data, 25, bytes, "encIdentifier"),
            transports_for_reset=_list(data, 26, "transportsForReset", str),
            pin_complexity_policy=_get(data, 27, bool, "pinComplexityPolicy"),
            pin_complexity_policy_url=_get(data, 28, bytes, "pinComplexityPolicyURL"),
            max_pin_length=_get(data, 29, int, "maxPINLength") or 63,
            enc_cred_store_state=_get(data, 30, bytes, "encCredStoreState"),
            authenticator_config_commands=_list(data, 31, "authenticatorConfigCommands", int)
            if data.get(31) is not None
            else None,
            data=dict(data),
        )


#: Info's members in CBOR key order (1: versions ... 31: authenticatorConfigCommands), python-fido2's field keys
_INFO_MEMBERS = tuple(f.name for f in fields(Info) if f.name != "data")


def _open_member(sealed: bytes | None, info: bytes, pin_token: bytes) -> bytes | None:
    if not sealed:
        return None
    try:
        return open_info_member(pin_token, info, sealed)
    except PinProtocolError as e:
        raise CtapResponseError(f"malformed {info.decode()}: {e}") from None


def _auth_data(raw: bytes) -> AuthenticatorData:
    try:
        return AuthenticatorData(raw)
    except WebAuthnDataError as e:
        raise CtapResponseError(f"invalid authData: {e}") from None


@dataclass(frozen=True)
class AttestationResponse:
    """authenticatorMakeCredential response (§6.1): the attestation object's members."""

    fmt: str
    auth_data: AuthenticatorData
    att_stmt: dict[str, object]
    ep_att: bool | None = None
    large_blob_key: bytes | None = field(default=None, repr=False)  # a secret: never in a repr
    unsigned_extension_outputs: dict[str, object] | None = None

    @classmethod
    def from_dict(cls, data: Mapping[int, object]) -> AttestationResponse:
        """Parse the authenticatorMakeCredential response map (CTAP 2.1 §6.1); CtapResponseError when malformed."""
        if not isinstance(data, Mapping):
            raise CtapResponseError("makeCredential response must be a CBOR map")
        att_stmt = _get(data, 3, dict, "attStmt", True)
        return cls(
            fmt=_get(data, 1, str, "fmt", True),
            auth_data=_auth_data(_get(data, 2, bytes, "authData", True)),
            att_stmt=dict(att_stmt),
            ep_att=_get(data, 4, bool, "epAtt"),
            large_blob_key=_get(data, 5, bytes, "largeBlobKey"),
            unsigned_extension_outputs=_get(data, 6, dict, "unsignedExtensionOutputs"),
        )

    def attestation_object(self) -> bytes:
        """The WebAuthn attestation object (CBOR map with text keys fmt, attStmt, authData)."""
        return cbor.dumps({"fmt": self.fmt, "attStmt": self.att_stmt, "authData": bytes(self.auth_data)})


@dataclass(frozen=True)
class AssertionResponse:
    """authenticatorGetAssertion / GetNextAssertion response (§6.2)."""

    credential: CredentialDescriptor
    auth_data: AuthenticatorData
    signature: bytes
    user: UserEntity | None = None
    number_of_credentials: int | None = None
    user_selected: bool | None = None
    large_blob_key: bytes | None = field(default=None, repr=False)  # a secret: never in a repr

    @classmethod
    def from_dict(cls, data: Mapping[int, object]) -> AssertionResponse:
        """Parse the authenticatorGetAssertion response map (CTAP 2.1 §6.2); CtapResponseError when malformed."""
        if not isinstance(data, Mapping):
            raise CtapResponseError("getAssertion response must be a CBOR map")
        credential = _get(data, 1, dict, "credential", True)
        if not isinstance(credential.get("id"), bytes):
            raise CtapResponseError("assertion credential has no byte-string id")
        return cls(
            credential=cast(CredentialDescriptor, dict(credential)),  # its id checked above
            auth_data=_auth_data(_get(data, 2, bytes, "authData", True)),
            signature=_get(data, 3, bytes, "signature", True),
            user=_get(data, 4, dict, "user"),
            number_of_credentials=_get(data, 5, int, "numberOfCredentials"),
            user_selected=_get(data, 6, bool, "userSelected"),
            large_blob_key=_get(data, 7, bytes, "largeBlobKey"),
        )

    def verify(self, client_param: bytes, public_key: CoseKey | Mapping[int, object]) -> None:
        """Verify the signature over authData || clientDataHash; raises ``CoseError`` if invalid."""
        key = public_key if isinstance(public_key, CoseKey) else CoseKey.parse(dict(public_key))
        key.verify(bytes(self.auth_data) + client_param, self.signature)

    @classmethod
    def from_ctap1(cls, app_param: bytes, credential: Mapping[str, object], authentication: bytes) -> AssertionResponse:
        """From a U2F authentication response (user presence byte, counter u32, signature)."""
        if len(authentication) < 6:
            raise CtapResponseError("U2F authentication response too short")
        flags, counter = struct.unpack_from(">BI", authentication)
        return cls(
            credential=cast(CredentialDescriptor, dict(credential)),
            auth_data=AuthenticatorData.create(app_param, flags, counter),
            signature=authentication[5:],
        )


class Ctap2:
    """CTAP2 commands over a :class:`~aioctap.ctap.CtapDevice` (§6).

    Create with ``await Ctap2.create(device)`` (fetches ``info``) or ``Ctap2(device)`` followed by
    ``await ctap.get_info()``.

    Every command is awaited; :meth:`get_assertions` is an async iterator. Each one (and each call of
    ``ClientPin``, ``CredentialManagement``, ``FPBioEnrollment``, ``LargeBlobs`` and ``Config``, which go
    through it) can raise:

    Raises:
        aioctap.ctap.CtapError: the authenticator's status (``error.code``, a ``CtapError.ERR`` member).
        aioctap.ctap2.base.CtapResponseError: a malformed answer (bad CBOR, a missing or mistyped member).
        aioctap.ctap.TransportError: the device is gone or closed.
        TimeoutError: no answer nor keep-alive in time (``aioctap.hid.CtapHidTimeout``).
    """

    CMD: TypeAlias = model.CMD

    def __init__(self, device: CtapDevice, strict_cbor: bool = True) -> None:
        self.device = device
        self._strict_cbor = strict_cbor
        self._info: Info | None = None

    @classmethod
    async def create(cls, device: CtapDevice, strict_cbor: bool = True) -> Ctap2:
        """A ``Ctap2`` with its ``info`` fetched."""
        return await cls(device, strict_cbor)

    def __await__(self) -> Generator[object, None, Ctap2]:
        """``ctap = await Ctap2(device)``: fetch ``info`` (python-fido2's constructor does) unless it is known."""

        async def connect() -> Ctap2:
            if self._info is None:
                await self.get_info()
            return self

        return connect().__await__()

    @property
    def info(self) -> Info:
        """The cached getInfo response (call :meth:`get_info` or use :meth:`create` first)."""
        if self._info is None:
            raise RuntimeError("Ctap2.info is not known yet: use 'await Ctap2.create(device)'")
        return self._info

    async def send_cbor(
        self,
        cmd: int,
        data: Mapping[int, object] | None = None,
        *,
        on_keepalive: KeepaliveCallback | None = None,
    ) -> dict[int, object]:
        """Send one CTAP2 command and decode the CBOR response map; a non-zero status raises ``CtapError``."""
        request = struct.pack(">B", cmd)
        if data is not None:
            request += cbor.dumps(_plain(data))
        response = await self.device.call(CTAPHID.CBOR, request, on_keepalive=on_keepalive)
        if not response:
            raise CtapResponseError("empty CTAP2 response")
        if response[0] != 0:
            raise CtapError(response[0])
        if len(response) == 1:
            return {}
        try:
            decoded = cbor.loads(response[1:], strict=self._strict_cbor)
        except cbor.CborError as e:
            raise CtapResponseError(f"authenticator sent invalid CBOR: {e}") from None
        if not isinstance(decoded, dict):
            raise CtapResponseError("CTAP2 response must be a CBOR map")
        return decoded

    async def get_info(self, *, on_keepalive: KeepaliveCallback | None = None) -> Info:
        """authenticatorGetInfo."""
        self._info = Info.from_dict(await self.send_cbor(Ctap2.CMD.GET_INFO, on_keepalive=on_keepalive))
        return self._info

    async def client_pin(
        self,
        pin_uv_protocol: int,
        sub_cmd: int,
        key_agreement: Mapping[int, object] | None = None,
        pin_uv_param: bytes | None = None,
        new_pin_enc: bytes | None = None,
        pin_hash_enc: bytes | None = None,
        permissions: int | None = None,
        permissions_rpid: str | None = None,
        *,
        on_keepalive: KeepaliveCallback | None = None,
    ) -> dict[int, object]:
        """authenticatorClientPIN (used by :class:`~aioctap.ctap2.pin.ClientPin`)."""
        return await self.send_cbor(
            Ctap2.CMD.CLIENT_PIN,
            args(
                pin_uv_protocol,
                sub_cmd,
                dict(key_agreement) if key_agreement is not None else None,
                pin_uv_param,
                new_pin_enc,
                pin_hash_enc,
                None,
                None,
                permissions,
                permissions_rpid,
            ),
            on_keepalive=on_keepalive,
        )

    async def reset(self, *, on_keepalive: KeepaliveCallback | None = None) -> None:
        """authenticatorReset: erase every credential and the PIN."""
        await self.send_cbor(Ctap2.CMD.RESET, on_keepalive=on_keepalive)

    async def make_credential(
        self,
        client_data_hash: bytes,
        rp: Mapping[str, object],
        user: Mapping[str, object],
        key_params: Sequence[Mapping[str, object]],
        exclude_list: Sequence[Mapping[str, object]] | None = None,
        extensions: Mapping[str, object] | None = None,
        options: Mapping[str, bool] | None = None,
        pin_uv_param: bytes | None = None,
        pin_uv_protocol: int | None = None,
        enterprise_attestation: int | None = None,
        *,
        on_keepalive: KeepaliveCallback | None = None,
    ) -> AttestationResponse:
        """authenticatorMakeCredential (§6.1)."""
        request = args(
            client_data_hash,
            _plain(rp),
            _plain(user),
            [_plain(k) for k in key_params] if isinstance(key_params, Sequence) else key_params,
            _maps_or_none(exclude_list),
            _map_or_none(extensions),
            _map_or_none(options),
            pin_uv_param,
            pin_uv_protocol,
            enterprise_attestation,
        )
        return AttestationResponse.from_dict(
            await self.send_cbor(Ctap2.CMD.MAKE_CREDENTIAL, request, on_keepalive=on_keepalive)
        )

    async def get_assertion(
        self,
        rp_id: str,
        client_data_hash: bytes,
        allow_list: Sequence[Mapping[str, object]] | None = None,
        extensions: Mapping[str, object] | None = None,
        options: Mapping[str, bool] | None = None,
        pin_uv_param: bytes | None = None,
        pin_uv_protocol: int | None = None,
        *,
        on_keepalive: KeepaliveCallback | None = None,
    ) -> AssertionResponse:
        """authenticatorGetAssertion (§6.2)."""
        request = args(
            rp_id,
            client_data_hash,
            _maps_or_none(allow_list),
            _map_or_none(extensions),
            _map_or_none(options),
            pin_uv_param,
            pin_uv_protocol,
        )
        return AssertionResponse.from_dict(
            await self.send_cbor(Ctap2.CMD.GET_ASSERTION, request, on_keepalive=on_keepalive)
        )

    async def get_next_assertion(self, *, on_keepalive: KeepaliveCallback | None = None) -> AssertionResponse:
        """authenticatorGetNextAssertion (§6.3)."""
        return AssertionResponse.from_dict(
            await self.send_cbor(Ctap2.CMD.GET_NEXT_ASSERTION, on_keepalive=on_keepalive)
        )

    async def get_assertions(
        self,
        rp_id: str,
        client_data_hash: bytes,
        allow_list: Sequence[Mapping[str, object]] | None = None,
        extensions: Mapping[str, object] | None = None,
        options: Mapping[str, bool] | None = None,
        pin_uv_param: bytes | None = None,
        pin_uv_protocol: int | None = None,
        *,
        on_keepalive: KeepaliveCallback | None = None,
    ) -> AsyncGenerator[AssertionResponse, None]:
        """Async iterator over every assertion: getAssertion, then getNextAssertion as the caller iterates.

        Takes :meth:`get_assertion`'s arguments (python-fido2's ``get_assertions`` returns a list instead).
        """
        first = await self.get_assertion(
            rp_id, client_data_hash, allow_list, extensions, options, pin_uv_param, pin_uv_protocol,
            on_keepalive=on_keepalive,
        )  # fmt: skip
        yield first
        for _ in range(1, first.number_of_credentials or 1):
            yield await self.get_next_assertion(on_keepalive=on_keepalive)

    async def credential_mgmt(
        self,
        sub_cmd: int,
        sub_cmd_params: Mapping[int, object] | None = None,
        pin_uv_protocol: int | None = None,
        pin_uv_param: bytes | None = None,
        *,
        on_keepalive: KeepaliveCallback | None = None,
    ) -> dict[int, object]:
        """authenticatorCredentialManagement (§6.8); the preview code when only that is advertised."""
        options = self._info.options if self._info is not None else {}
        preview = not options.get(OPTION.CRED_MGMT) and options.get(OPTION.CREDENTIAL_MGMT_PREVIEW)
        cmd = Ctap2.CMD.CREDENTIAL_MGMT_PRE if preview else Ctap2.CMD.CREDENTIAL_MGMT
        request = args(sub_cmd, _map_or_none(sub_cmd_params), pin_uv_protocol, pin_uv_param)
        return await self.send_cbor(cmd, request, on_keepalive=on_keepalive)

    async def bio_enrollment(
        self,
        modality: int | None = None,
        sub_cmd: int | None = None,
        sub_cmd_params: Mapping[int, object] | None = None,
        pin_uv_protocol: int | None = None,
        pin_uv_param: bytes | None = None,
        get_modality: bool | None = None,
        *,
        on_keepalive: KeepaliveCallback | None = None,
    ) -> dict[int, object]:
        """authenticatorBioEnrollment (§6.7)."""
        options = self._info.options if self._info is not None else {}
        preview = OPTION.BIO_ENROLL not in options and OPTION.USER_VERIFICATION_MGMT_PREVIEW in options
        cmd = Ctap2.CMD.BIO_ENROLLMENT_PRE if preview else Ctap2.CMD.BIO_ENROLLMENT
        request = args(modality, sub_cmd, _map_or_none(sub_cmd_params), pin_uv_protocol, pin_uv_param, get_modality)
        return await self.send_cbor(cmd, request, on_keepalive=on_keepalive)

    async def selection(self, *, on_keepalive: KeepaliveCallback | None = None) -> None:
        """authenticatorSelection (§6.9): wait for a touch."""
        await self.send_cbor(Ctap2.CMD.SELECTION, on_keepalive=on_keepalive)

    async def large_blobs(
        self,
        offset: int,
        get: int | None = None,
        set: bytes | None = None,
        length: int | None = None,
        pin_uv_param: bytes | None = None,
        pin_uv_protocol: int | None = None,
        *,
        on_keepalive: KeepaliveCallback | None = None,
    ) -> dict[int, object]:
        """authenticatorLargeBlobs (§6.10)."""
        return await self.send_cbor(
            Ctap2.CMD.LARGE_BLOBS,
            args(get, set, offset, length, pin_uv_param, pin_uv_protocol),
            on_keepalive=on_keepalive,
        )

    async def config(
        self,
        sub_cmd: int,
        sub_cmd_params: Mapping[int, object] | None = None,
        pin_uv_protocol: int | None = None,
        pin_uv_param: bytes | None = None,
        *,
        on_keepalive: KeepaliveCallback | None = None,
    ) -> dict[int, object]:
        """authenticatorConfig (§6.11)."""
        request = args(sub_cmd, _map_or_none(sub_cmd_params), pin_uv_protocol, pin_uv_param)
        return await self.send_cbor(Ctap2.CMD.CONFIG, request, on_keepalive=on_keepalive)
