"""CredentialManagement (CTAP 2.1 §6.8): discoverable credentials, enumerated with async iterators."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Awaitable, Callable, Mapping
from typing import Any, TypeAlias

from ..ctap import CtapError
from .base import Ctap2, CtapResponseError, Info
from .model import OPTION, CredMgmtCmd, CredMgmtParam, CredMgmtResult, credential_management_message
from .pin import PinProtocol, _PinUv

__all__ = ["CredentialManagement", "Entry"]

# an enumerated RP or credential: a map keyed by CredentialManagement.RESULT whose members were checked (the rp and
# user entities, the credential descriptor and public key are maps). Its values stay Any, as python-fido2's
# Mapping[int, Any]: integer keys cannot be typed one by one (a TypedDict takes text keys only)
Entry: TypeAlias = dict[int, Any]


class CredentialManagement:
    """``CredentialManagement(ctap, pin_uv_protocol, pin_uv_token)``; the token needs the cm permission."""

    CMD: TypeAlias = CredMgmtCmd
    PARAM: TypeAlias = CredMgmtParam
    RESULT: TypeAlias = CredMgmtResult

    @staticmethod
    def is_supported(info: Info) -> bool:
        """True when authenticatorGetInfo ``info`` advertises credMgmt (or the 2.1 preview's option)."""
        return bool(info.options.get(OPTION.CRED_MGMT) or info.options.get(OPTION.CREDENTIAL_MGMT_PREVIEW))

    @staticmethod
    def is_update_supported(info: Info) -> bool:
        """True when ``info`` advertises credMgmt, so updateUserInformation (CTAP 2.1 §6.8.6) exists."""
        return bool(info.options.get(OPTION.CRED_MGMT))

    @staticmethod
    def is_readonly_supported(info: Info) -> bool:
        """Whether a token with the pcmr (persistent read-only credential management) permission works."""
        return bool(info.options.get(OPTION.PER_CRED_MGMT_RO))

    def __init__(self, ctap: Ctap2, pin_uv_protocol: PinProtocol, pin_uv_token: bytes) -> None:
        self.ctap = ctap
        self.pin_uv = _PinUv(pin_uv_protocol, pin_uv_token)

    def __repr__(self) -> str:
        return f"CredentialManagement(protocol={self.pin_uv[0].VERSION})"

    async def _call(
        self, sub_cmd: int, params: Mapping[int, object] | None = None, auth: bool = True
    ) -> dict[int, object]:
        if not auth:
            return await self.ctap.credential_mgmt(sub_cmd)
        pin_uv = self.pin_uv.param(credential_management_message(sub_cmd, params or None))
        return await self.ctap.credential_mgmt(sub_cmd, params, *pin_uv)

    async def get_metadata(self) -> dict[int, object]:
        """EXISTING_CRED_COUNT and MAX_REMAINING_COUNT."""
        return await self._call(CredentialManagement.CMD.GET_CREDS_METADATA)

    @staticmethod
    def _check_rp(r: dict[int, object]) -> Entry:
        R = CredentialManagement.RESULT
        rp = r.get(R.RP)
        if not isinstance(rp, dict) or not isinstance(rp.get("id"), str):
            raise CtapResponseError("RP enumeration response has no rp entity with an id")
        if not isinstance(r.get(R.RP_ID_HASH), bytes):
            raise CtapResponseError("RP enumeration response has no rpIDHash")
        return r

    @staticmethod
    def _check_cred(r: dict[int, object]) -> Entry:
        R = CredentialManagement.RESULT
        user = r.get(R.USER)
        if not isinstance(user, dict) or not isinstance(user.get("id"), bytes):
            raise CtapResponseError("credential enumeration response has no user entity with an id")
        cred_id = r.get(R.CREDENTIAL_ID)
        if not isinstance(cred_id, dict) or not isinstance(cred_id.get("id"), bytes):
            raise CtapResponseError("credential enumeration response has no credential descriptor")
        if not isinstance(r.get(R.PUBLIC_KEY), dict):
            raise CtapResponseError("credential enumeration response has no publicKey")
        if not isinstance(r.get(R.THIRD_PARTY_PAYMENT, False), bool):
            raise CtapResponseError("credential enumeration response's thirdPartyPayment is not a boolean")
        return r

    async def enumerate_rps_begin(self) -> Entry:
        """enumerateRPsBegin (CTAP 2.1 §6.8.2): the first RP and totalRPs; no credentials raises CtapError."""
        return self._check_rp(await self._call(CredentialManagement.CMD.ENUMERATE_RPS_BEGIN))

    async def enumerate_rps_next(self) -> Entry:
        """enumerateRPsGetNextRP (CTAP 2.1 §6.8.2): the next RP."""
        return self._check_rp(await self._call(CredentialManagement.CMD.ENUMERATE_RPS_NEXT, auth=False))

    async def rps(self) -> AsyncGenerator[Entry, None]:
        """Async iterator over the RPs with discoverable credentials (begin/next as the caller iterates)."""
        async for rp in _enumerate(
            self.enumerate_rps_begin(),
            self.enumerate_rps_next,
            CredentialManagement.RESULT.TOTAL_RPS,
            "enumerateRPsBegin response has no totalRPs",
        ):
            yield rp

    async def enumerate_rps(self) -> list[Entry]:
        """Every RP, as a list (python-fido2's method)."""
        return [rp async for rp in self.rps()]

    async def enumerate_creds_begin(self, rp_id_hash: bytes) -> Entry:
        """enumerateCredentialsBegin (CTAP 2.1 §6.8.3): the first credential of the RP and totalCredentials."""
        return self._check_cred(
            await self._call(
                CredentialManagement.CMD.ENUMERATE_CREDS_BEGIN, {CredentialManagement.PARAM.RP_ID_HASH: rp_id_hash}
            )
        )

    async def enumerate_creds_next(self) -> Entry:
        """enumerateCredentialsGetNextCredential (CTAP 2.1 §6.8.3): the next credential."""
        return self._check_cred(await self._call(CredentialManagement.CMD.ENUMERATE_CREDS_NEXT, auth=False))

    async def credentials(self, rp_id_hash: bytes) -> AsyncGenerator[Entry, None]:
        """Async iterator over the discoverable credentials of one RP (by SHA-256 of its ID)."""
        async for cred in _enumerate(
            self.enumerate_creds_begin(rp_id_hash),
            self.enumerate_creds_next,
            CredentialManagement.RESULT.TOTAL_CREDENTIALS,
            "enumerateCredentialsBegin response has no totalCredentials",
        ):
            yield cred

    async def enumerate_creds(self, rp_id_hash: bytes) -> list[Entry]:
        """Every credential of one RP, as a list."""
        return [c async for c in self.credentials(rp_id_hash)]

    async def delete_cred(self, cred_id: Mapping[str, object]) -> None:
        """Delete a discoverable credential (by its PublicKeyCredentialDescriptor)."""
        await self._call(
            CredentialManagement.CMD.DELETE_CREDENTIAL, {CredentialManagement.PARAM.CREDENTIAL_ID: dict(cred_id)}
        )

    async def update_user_info(self, cred_id: Mapping[str, object], user_info: Mapping[str, object]) -> None:
        """Replace the user entity (name, displayName) of a discoverable credential."""
        await self._call(
            CredentialManagement.CMD.UPDATE_USER_INFO,
            {CredentialManagement.PARAM.CREDENTIAL_ID: dict(cred_id), CredentialManagement.PARAM.USER: dict(user_info)},
        )


async def _enumerate(
    begin: Awaitable[Entry],
    get_next: Callable[[], Awaitable[Entry]],
    total_key: int,
    missing_total: str,
) -> AsyncGenerator[Entry, None]:
    """A begin/getNext enumeration (CTAP 2.1 §6.8.2, §6.8.3): nothing when the device holds no credential."""
    try:
        first = await begin
    except CtapError as e:
        if e.code == CtapError.ERR.NO_CREDENTIALS:
            return
        raise
    total = first.get(total_key)
    if not isinstance(total, int):
        raise CtapResponseError(missing_total)
    yield first
    for _ in range(1, total):
        yield await get_next()
