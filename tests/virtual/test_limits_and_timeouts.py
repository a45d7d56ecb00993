"""maxCredentialCountInList and maxCredentialIdLength (LIMIT_EXCEEDED for longer allow/exclude lists and
longer credential IDs in them) and bioEnrollment's timeoutMilliseconds against the simulated sensor
(CTAP 2.1 §6.1.2, §6.2.2, §6.4, §6.7)."""

from __future__ import annotations

import hashlib
import time
from typing import Any

import pytest
from fido2.client import DefaultClientDataCollector, Fido2Client
from fido2.ctap2.base import Ctap2
from fido2.webauthn import (
    PublicKeyCredentialDescriptor,
    PublicKeyCredentialRequestOptions,
    PublicKeyCredentialType,
    UserVerificationRequirement,
)

from aioctap import cbor
from aioctap.ctap import STATUS, CtapError
from aioctap.ctap2 import ClientPin, FPBioEnrollment
from aioctap.virtual import FEEDBACK, DenyAll, Sample, VirtualAuthenticator

from .test_interop_fido2 import run_against_udp

ERR = CtapError.ERR
CDH = hashlib.sha256(b"client data").digest()
P = ClientPin.PERMISSION
MAX_IN_LIST = 8
PUBLIC_KEY = PublicKeyCredentialType.PUBLIC_KEY


def unknown_ids(n: int) -> list[dict[str, Any]]:
    return [{"type": "public-key", "id": bytes([i + 1]) * 48} for i in range(n)]


def desc(att: Any) -> dict[str, Any]:
    return {"type": "public-key", "id": att.auth_data.credential_data.credential_id}


# -- maxCredentialCountInList ----------------------------------------------------------------------------


async def test_get_info_states_the_limit(make_rig: Any) -> None:
    async with make_rig() as rig:
        info = await rig.ctap.get_info()
        assert info.max_creds_in_list == MAX_IN_LIST


async def test_allow_list_longer_than_limit_is_refused_before_any_touch(make_rig: Any) -> None:
    async with make_rig() as rig:
        att = await rig.make(b"u")
        count = rig.auth.state.sign_count
        rig.auth.policy = DenyAll()  # a touch requested would answer OPERATION_DENIED instead
        too_long = [*unknown_ids(MAX_IN_LIST), desc(att)]
        assert await rig.status(0x02, {1: "example.com", 2: CDH, 3: too_long}) == ERR.LIMIT_EXCEEDED
        # silent (up=false) so the DenyAll policy is not asked: exactly the limit is fine
        params = {1: "example.com", 2: CDH, 3: [*unknown_ids(MAX_IN_LIST - 1), desc(att)], 5: {"up": False}}
        status, response = await rig.raw(0x02, params)
        assert status == 0 and response[1]["id"] == desc(att)["id"]
        assert rig.auth.state.sign_count == count + 1  # only the accepted request signed


async def test_exclude_list_longer_than_limit_is_refused_and_nothing_is_made(make_rig: Any) -> None:
    async with make_rig() as rig:
        att = await rig.make(b"alice", options={"rk": True})
        before = list(rig.auth.state.credentials)
        with pytest.raises(CtapError) as e:
            await rig.make(b"bob", options={"rk": True}, exclude_list=unknown_ids(MAX_IN_LIST + 1))
        assert e.value.code == ERR.LIMIT_EXCEEDED
        assert rig.auth.state.credentials == before
        with pytest.raises(CtapError) as e:  # at the limit the list is searched as usual
            await rig.make(b"bob", exclude_list=[*unknown_ids(MAX_IN_LIST - 1), desc(att)])
        assert e.value.code == ERR.CREDENTIAL_EXCLUDED
        made = await rig.make(b"bob", exclude_list=unknown_ids(MAX_IN_LIST))
        assert made.auth_data.credential_data is not None


def _fido2_assertion_among(dev: Any, other_ids: list[bytes], position: int) -> bytes:
    """With python-fido2 on ``dev``: make a credential, then get an assertion through its Fido2Client with an
    allowList of ``other_ids`` and the credential's ID at ``position``; it must be the one that answers."""
    client = Fido2Client(dev, DefaultClientDataCollector("https://example.com"))
    att = Ctap2(dev).make_credential(
        CDH, {"id": "example.com", "name": "Ex"}, {"id": b"u", "name": "u"}, [{"type": "public-key", "alg": -7}]
    )
    assert att.auth_data.credential_data is not None
    cred_id: bytes = att.auth_data.credential_data.credential_id
    allow = [PublicKeyCredentialDescriptor(type=PUBLIC_KEY, id=other) for other in other_ids]
    allow.insert(position, PublicKeyCredentialDescriptor(type=PUBLIC_KEY, id=cred_id))
    result = client.get_assertion(
        PublicKeyCredentialRequestOptions(
            challenge=b"c" * 32,
            rp_id="example.com",
            allow_credentials=allow,
            user_verification=UserVerificationRequirement.DISCOURAGED,
        )
    ).get_response(0)
    assert result.raw_id == cred_id
    return cred_id


async def test_python_fido2_client_splits_long_allow_lists() -> None:
    """python-fido2's Fido2Client sends an allowList longer than the limit in chunks of maxCredentialCountInList."""
    others = [d["id"] for d in unknown_ids(20)]
    await run_against_udp(VirtualAuthenticator(), lambda dev: _fido2_assertion_among(dev, others, 17))


# -- maxCredentialIdLength ---------------------------------------------------------------------------------

MAX_ID_LENGTH = 128


@pytest.mark.parametrize("alg", [-7, -8, -257])
async def test_own_credential_ids_fit_the_stated_maximum(make_rig: Any, alg: int) -> None:
    async with make_rig() as rig:
        info = await rig.ctap.get_info()
        assert info.max_cred_id_length == MAX_ID_LENGTH
        for options in (None, {"rk": True}):
            att = await rig.make(b"u", key_params=[{"type": "public-key", "alg": alg}], options=options)
            assert len(desc(att)["id"]) <= MAX_ID_LENGTH


async def test_allow_list_id_longer_than_maximum_is_refused_before_any_touch(make_rig: Any) -> None:
    async with make_rig() as rig:
        att = await rig.make(b"u")
        count = rig.auth.state.sign_count
        rig.auth.policy = DenyAll()  # a touch requested would answer OPERATION_DENIED instead
        for too_long in ([desc(att), {"type": "public-key", "id": b"x" * (MAX_ID_LENGTH + 1)}],
                         [{"type": "public-key", "id": b"x" * 1024}, desc(att)]):  # fmt: skip
            for up in (True, False):
                params = {1: "example.com", 2: CDH, 3: too_long, 5: {"up": up}}
                assert await rig.status(0x02, params) == ERR.LIMIT_EXCEEDED
        assert rig.auth.state.sign_count == count
        # exactly the maximum is taken (and is no credential of ours); another type's ID is not looked at
        at_limit = [
            {"type": "public-key", "id": b"x" * MAX_ID_LENGTH},
            {"type": "other", "id": b"y" * 300},
            desc(att),
        ]
        status, response = await rig.raw(0x02, {1: "example.com", 2: CDH, 3: at_limit, 5: {"up": False}})
        assert status == 0 and response[1]["id"] == desc(att)["id"]
        assert rig.auth.state.sign_count == count + 1


async def test_exclude_list_id_longer_than_maximum_is_refused_and_nothing_is_made(make_rig: Any) -> None:
    async with make_rig() as rig:
        att = await rig.make(b"alice", options={"rk": True})
        before = list(rig.auth.state.credentials)
        rig.auth.policy = DenyAll()
        with pytest.raises(CtapError) as e:
            too_long = [{"type": "public-key", "id": b"x" * (MAX_ID_LENGTH + 1)}, desc(att)]
            await rig.make(b"bob", options={"rk": True}, exclude_list=too_long)
        assert e.value.code == ERR.LIMIT_EXCEEDED
        assert rig.auth.state.credentials == before


async def test_python_fido2_client_leaves_out_ids_longer_than_maximum() -> None:
    """python-fido2's Fido2Client drops allowList IDs longer than maxCredentialIdLength before it sends any."""
    await run_against_udp(VirtualAuthenticator(), lambda dev: _fido2_assertion_among(dev, [b"z" * 200], 1))


# -- bioEnrollment timeoutMilliseconds ---------------------------------------------------------------------


async def _bio(rig: Any) -> tuple[FPBioEnrollment, Any, bytes]:
    await rig.set_pin()
    proto, token = await rig.token(P.BIO_ENROLL)
    return FPBioEnrollment(rig.ctap, proto, token), proto, token


async def test_capture_slower_than_the_timeout_times_out(make_rig: Any) -> None:
    async with make_rig() as rig:
        bio, _, _ = await _bio(rig)
        rig.auth.sensor.script(Sample(FEEDBACK.FP_GOOD, after=5.0))
        start = time.monotonic()
        with pytest.raises(CtapError) as e:
            await bio.enroll_begin(timeout=50)
        assert e.value.code == ERR.USER_ACTION_TIMEOUT
        assert time.monotonic() - start < 4.0  # the 50 ms timeout ended the wait, not the 5 s touch
        # the next enrollment starts afresh: the slow sample was used up
        template_id, feedback, remaining = await bio.enroll_begin(timeout=50)
        assert (feedback, remaining) == (FEEDBACK.FP_GOOD, 3) and template_id


async def test_capture_next_sample_timeout_ends_the_enrollment(make_rig: Any) -> None:
    async with make_rig() as rig:
        bio, _, _ = await _bio(rig)
        rig.auth.sensor.script(
            Sample(FEEDBACK.FP_TOO_HIGH, after=0.01), Sample(FEEDBACK.FP_GOOD, after=0.25), Sample(after=3.0)
        )
        template_id, feedback, remaining = await bio.enroll_begin(timeout=2000)
        assert (feedback, remaining) == (FEEDBACK.FP_TOO_HIGH, 4)
        seen: list[int] = []
        assert await bio.enroll_capture_next(template_id, timeout=2000, on_keepalive=seen.append) == (
            FEEDBACK.FP_GOOD,
            3,
        )
        assert STATUS.UPNEEDED in seen  # the host hears the sensor waiting for the finger
        with pytest.raises(CtapError) as e:
            await bio.enroll_capture_next(template_id, timeout=30)
        assert e.value.code == ERR.USER_ACTION_TIMEOUT
        with pytest.raises(CtapError) as e:
            await bio.enroll_capture_next(template_id, timeout=2000)
        assert e.value.code == ERR.NOT_ALLOWED  # no enrollment going on any more
        assert not rig.auth.state.templates


async def test_slow_touch_without_timeout_uses_the_sensor_default(make_rig: Any) -> None:
    async with make_rig() as rig:
        bio, _, _ = await _bio(rig)
        rig.auth.sensor.script(Sample(FEEDBACK.FP_TOO_FAST, after=0.05))
        _, feedback, remaining = await bio.enroll_begin()
        assert (feedback, remaining) == (FEEDBACK.FP_TOO_FAST, 4)


async def test_timeout_parameter_is_checked(make_rig: Any) -> None:
    async with make_rig() as rig:
        _, proto, token = await _bio(rig)

        def request(sub: int, sub_params: dict[int, Any]) -> dict[int, Any]:
            message = bytes([1, sub]) + cbor.dumps(sub_params)
            return {1: 1, 2: sub, 3: sub_params, 4: 2, 5: proto.authenticate(token, message)}

        assert await rig.status(0x09, request(0x01, {3: "soon"})) == ERR.CBOR_UNEXPECTED_TYPE
        assert await rig.status(0x09, request(0x01, {3: True})) == ERR.CBOR_UNEXPECTED_TYPE
        assert await rig.status(0x09, request(0x01, {3: -1})) == ERR.INVALID_PARAMETER
        status, begun = await rig.raw(0x09, request(0x01, {3: 0}))  # 0 ms: only an instant touch makes it
        assert status == 0 and begun[6] == 3
        rig.auth.sensor.script(Sample(after=0.01))
        template_id = begun[4]
        assert await rig.status(0x09, request(0x02, {1: template_id, 3: 0})) == ERR.USER_ACTION_TIMEOUT


def test_sample_cannot_come_before_the_capture() -> None:
    with pytest.raises(ValueError, match="before"):
        Sample(after=-0.5)
