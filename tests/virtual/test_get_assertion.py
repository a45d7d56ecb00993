"""authenticatorGetAssertion / authenticatorGetNextAssertion (CTAP 2.1 §6.2, §6.3) and user presence policies."""

from __future__ import annotations

import hashlib
from typing import Any

import anyio
import pytest

from aioctap.ctap import CtapError
from aioctap.ctap2 import ClientPin, FPBioEnrollment
from aioctap.virtual import DenyAll, WaitForTouch

ERR = CtapError.ERR
CDH = hashlib.sha256(b"client data").digest()
P = ClientPin.PERMISSION


def desc(att: Any) -> dict[str, Any]:
    return {"type": "public-key", "id": att.auth_data.credential_data.credential_id}


async def test_discoverable_most_recent_first_and_next_assertion(make_rig: Any) -> None:
    async with make_rig() as rig:
        keys = {}
        for i in range(3):
            att = await rig.make(bytes([i]), options={"rk": True})
            keys[att.auth_data.credential_data.credential_id] = att.auth_data.credential_data.public_key
        await rig.make(b"other-rp", rp_id="other.example", options={"rk": True})
        first = await rig.ctap.get_assertion("example.com", CDH)
        assert first.number_of_credentials == 3 and first.user == {"id": b"\x02"}  # no UV: only the user handle
        first.verify(CDH, keys[first.credential["id"]])
        second = await rig.ctap.get_next_assertion()
        third = await rig.ctap.get_next_assertion()
        assert [second.user, third.user] == [{"id": b"\x01"}, {"id": b"\x00"}]
        assert second.number_of_credentials is None
        for a in (second, third):
            a.verify(CDH, keys[a.credential["id"]])
        counters = [a.auth_data.counter for a in (first, second, third)]
        assert counters == sorted(counters) and len(set(counters)) == 3
        with pytest.raises(CtapError) as e:
            await rig.ctap.get_next_assertion()
        assert e.value.code == ERR.NOT_ALLOWED


async def test_next_assertion_state_ends(make_rig: Any) -> None:
    async with make_rig() as rig:
        for i in range(3):
            await rig.make(bytes([i]), options={"rk": True})
        await rig.ctap.get_assertion("example.com", CDH)
        await rig.ctap.get_info()  # any other command ends the sequence
        with pytest.raises(CtapError) as e:
            await rig.ctap.get_next_assertion()
        assert e.value.code == ERR.NOT_ALLOWED
        await rig.ctap.get_assertion("example.com", CDH)
        rig.clock.now += 31  # more than 30 s since the last one
        with pytest.raises(CtapError) as e:
            await rig.ctap.get_next_assertion()
        assert e.value.code == ERR.NOT_ALLOWED
        with pytest.raises(CtapError) as e:  # nothing started
            await rig.ctap.get_next_assertion()
        assert e.value.code == ERR.NOT_ALLOWED


async def test_user_details_with_uv_and_account_chooser(make_rig: Any) -> None:
    chosen: list[list[dict[str, Any]]] = []

    def chooser(users: Any) -> int:
        chosen.append(list(users))
        return 1

    async with make_rig(account_chooser=chooser) as rig:
        await rig.set_pin()
        for user_id in (b"a", b"b"):
            proto, token = await rig.token(P.MAKE_CREDENTIAL, "example.com")
            await rig.make(
                user_id, options={"rk": True}, pin_uv_param=proto.authenticate(token, CDH), pin_uv_protocol=2
            )
        proto, token = await rig.token(P.GET_ASSERTION, "example.com")
        a = await rig.ctap.get_assertion(
            "example.com", CDH, pin_uv_param=proto.authenticate(token, CDH), pin_uv_protocol=2
        )
        assert [u["id"] for u in chosen[0]] == [b"b", b"a"]
        assert a.user_selected is True and a.number_of_credentials is None
        assert a.user == {"id": b"a", "name": "n-61", "displayName": "D"}
        assert a.auth_data.is_user_verified()


async def test_allow_list(make_rig: Any) -> None:
    async with make_rig() as rig:
        att1 = await rig.make(b"1")
        att2 = await rig.make(b"2", options={"rk": True})
        unknown = {"type": "public-key", "id": b"\x01" + b"\x00" * 60}
        a = await rig.ctap.get_assertion("example.com", CDH, [unknown, desc(att2), desc(att1)])
        assert a.credential["id"] == desc(att2)["id"] and a.number_of_credentials is None
        assert a.user == {"id": b"2"}  # a discoverable credential gives its user handle
        a = await rig.ctap.get_assertion("example.com", CDH, [desc(att1)])
        assert a.user is None  # a non-discoverable one has none
        with pytest.raises(CtapError) as e:  # credential IDs are bound to their RP
            await rig.ctap.get_assertion("other.example", CDH, [desc(att1)])
        assert e.value.code == ERR.NO_CREDENTIALS
        with pytest.raises(CtapError) as e:
            await rig.ctap.get_assertion("example.com", CDH, [unknown])
        assert e.value.code == ERR.NO_CREDENTIALS


async def test_cred_protect_levels(make_rig: Any) -> None:
    async with make_rig() as rig:
        await rig.set_pin()
        atts = {}
        for level in (1, 2, 3):
            proto, token = await rig.token(P.MAKE_CREDENTIAL, "example.com")
            atts[level] = await rig.make(
                bytes([level]), options={"rk": True}, extensions={"credProtect": level},
                pin_uv_param=proto.authenticate(token, CDH), pin_uv_protocol=2,
            )  # fmt: skip
        # without UV: discovery finds only level 1; an allowList reaches level 2 but not level 3
        a = await rig.ctap.get_assertion("example.com", CDH)
        assert a.user == {"id": b"\x01"} and a.number_of_credentials is None
        a = await rig.ctap.get_assertion("example.com", CDH, [desc(atts[2])])
        assert a.credential["id"] == desc(atts[2])["id"]
        with pytest.raises(CtapError) as e:
            await rig.ctap.get_assertion("example.com", CDH, [desc(atts[3])])
        assert e.value.code == ERR.NO_CREDENTIALS
        # with UV: all three
        proto, token = await rig.token(P.GET_ASSERTION, "example.com")
        a = await rig.ctap.get_assertion(
            "example.com", CDH, pin_uv_param=proto.authenticate(token, CDH), pin_uv_protocol=2
        )
        assert a.number_of_credentials == 3


async def test_hmac_secret_outputs(make_rig: Any) -> None:
    async with make_rig() as rig:
        att = await rig.make(b"u", extensions={"hmac-secret": True})
        plain = await rig.make(b"p")
        cp = rig.client_pin(1)

        async def outputs(salts: bytes, cred: Any = att, **kwargs: Any) -> bytes | None:
            key_agreement, shared = await cp._get_shared_secret()
            salt_enc = cp.protocol.encrypt(shared, salts)
            ext = {1: key_agreement, 2: salt_enc, 3: cp.protocol.authenticate(shared, salt_enc), 4: 1}
            a = await rig.ctap.get_assertion(
                "example.com", CDH, [desc(cred)], extensions={"hmac-secret": ext}, **kwargs
            )
            out = (a.auth_data.extensions or {}).get("hmac-secret")
            return None if out is None else cp.protocol.decrypt(shared, out)

        one = await outputs(b"a" * 32)
        assert one is not None and len(one) == 32 and await outputs(b"a" * 32) == one
        two = await outputs(b"a" * 32 + b"b" * 32)
        assert two is not None and two[:32] == one and two[32:] != one
        assert await outputs(b"a" * 32, plain) is None  # a credential made without hmac-secret
        await rig.set_pin()
        proto, token = await rig.token(P.GET_ASSERTION, "example.com")
        with_uv = await outputs(b"a" * 32, pin_uv_param=proto.authenticate(token, CDH), pin_uv_protocol=2)
        assert with_uv is not None and with_uv != one  # CredRandomWithUV differs from CredRandomWithoutUV
        for bad_len in (b"a" * 16, b"a" * 48):
            key_agreement, shared = await cp._get_shared_secret()
            salt_enc = cp.protocol.encrypt(shared, bad_len)
            ext = {1: key_agreement, 2: salt_enc, 3: cp.protocol.authenticate(shared, salt_enc), 4: 1}
            with pytest.raises(CtapError) as e:
                await rig.ctap.get_assertion("example.com", CDH, [desc(att)], extensions={"hmac-secret": ext})
            assert e.value.code == ERR.INVALID_LENGTH
        with pytest.raises(CtapError) as e:
            await rig.ctap.get_assertion("example.com", CDH, [desc(att)], extensions={"hmac-secret": {1: {}}})
        assert e.value.code == ERR.MISSING_PARAMETER


async def test_cred_blob_and_large_blob_key(make_rig: Any) -> None:
    async with make_rig() as rig:
        att = await rig.make(b"u", options={"rk": True}, extensions={"credBlob": b"hello", "largeBlobKey": True})
        a = await rig.ctap.get_assertion("example.com", CDH, extensions={"credBlob": True, "largeBlobKey": True})
        assert a.auth_data.extensions == {"credBlob": b"hello"}
        assert a.large_blob_key == att.large_blob_key
        a = await rig.ctap.get_assertion("example.com", CDH)
        assert a.auth_data.extensions is None and a.large_blob_key is None


async def test_options_and_silent_assertion(make_rig: Any) -> None:
    async with make_rig() as rig:
        att = await rig.make(b"u")
        rig.auth.policy = DenyAll()
        # up=false needs no touch and leaves the UP flag clear
        a = await rig.ctap.get_assertion("example.com", CDH, [desc(att)], options={"up": False})
        assert not a.auth_data.is_user_present()
        with pytest.raises(CtapError) as e:
            await rig.ctap.get_assertion("example.com", CDH, [desc(att)])
        assert e.value.code == ERR.OPERATION_DENIED
        assert await rig.status(0x02, {1: "example.com", 2: CDH, 5: {"rk": True}}) == ERR.UNSUPPORTED_OPTION
        assert await rig.status(0x02, {1: "example.com", 2: CDH, 5: {"uv": True}}) == ERR.INVALID_OPTION
        assert await rig.status(0x02, {1: "example.com"}) == ERR.MISSING_PARAMETER
        assert await rig.status(0x02, {1: b"example.com", 2: CDH}) == ERR.CBOR_UNEXPECTED_TYPE
        assert await rig.status(0x02, {1: "example.com", 2: CDH[:31]}) == ERR.INVALID_LENGTH
        assert await rig.status(0x02, {1: "example.com", 2: CDH, 3: [{"id": b"x"}]}) == ERR.MISSING_PARAMETER
        assert await rig.status(0x02, {1: "example.com", 2: CDH, 4: {"credBlob": 1}}) == ERR.CBOR_UNEXPECTED_TYPE


async def test_built_in_uv_assertion(make_rig: Any) -> None:
    async with make_rig() as rig:
        await rig.set_pin()
        proto, token = await rig.token(P.BIO_ENROLL)
        async for _ in FPBioEnrollment(rig.ctap, proto, token).enroll():
            pass
        att = await rig.make(b"u", options={"rk": True, "uv": True}, extensions={"credProtect": 3})
        a = await rig.ctap.get_assertion("example.com", CDH, options={"uv": True})
        assert a.auth_data.is_user_verified() and a.credential["id"] == desc(att)["id"]
        assert a.user is not None and a.user["name"] == "n-75"
        rig.auth.sensor.match_results[:] = ["timeout"]
        with pytest.raises(CtapError) as e:
            await rig.ctap.get_assertion("example.com", CDH, options={"uv": True})
        assert e.value.code == ERR.USER_ACTION_TIMEOUT
        assert await rig.client_pin().get_uv_retries() == 8
        rig.auth.sensor.match_results[:] = [False] * 8
        for expected in [ERR.UV_INVALID] * 7 + [ERR.UV_BLOCKED, ERR.UV_BLOCKED]:
            with pytest.raises(CtapError) as e:
                await rig.ctap.get_assertion("example.com", CDH, options={"uv": True})
            assert e.value.code == expected


async def test_wait_for_touch_keepalive_and_timeout(make_rig: Any) -> None:
    policy = WaitForTouch(timeout=0.3)
    async with make_rig(policy=policy) as rig:
        statuses: list[int] = []

        async def touch_later() -> None:
            while not policy.waiting:
                await anyio.sleep(0.01)
            policy.touch()

        async with anyio.create_task_group() as tg:
            tg.start_soon(touch_later)
            att = await rig.ctap.make_credential(
                CDH, {"id": "example.com"}, {"id": b"u"}, [{"type": "public-key", "alg": -7}],
                on_keepalive=statuses.append,
            )  # fmt: skip
        assert statuses[0] == 2 and att.auth_data.is_user_present()  # KEEPALIVE with STATUS_UPNEEDED first
        with pytest.raises(CtapError) as e:  # nobody touches
            await rig.ctap.selection()
        assert e.value.code == ERR.USER_ACTION_TIMEOUT
        async with anyio.create_task_group() as tg:
            tg.start_soon(touch_later)
            await rig.ctap.selection()

        async def refuse() -> None:
            while not policy.waiting:
                await anyio.sleep(0.01)
            policy.refuse()

        async with anyio.create_task_group() as tg:
            tg.start_soon(refuse)
            with pytest.raises(CtapError) as e:
                await rig.ctap.selection()
        assert e.value.code == ERR.OPERATION_DENIED
