"""WebAuthnClient against software authenticators: options as JSON and as python-fido2 dataclasses,
origin checks, PIN and built-in UV, the CTAP1 fallback, and several devices where one is touched."""

from __future__ import annotations

import hashlib
import json
import os
from contextlib import AsyncExitStack
from typing import Any

import anyio
import pytest
from fido2 import webauthn as f2

from aioctap import cbor
from aioctap.client import ClientError, WebAuthnClient, verify_rp_id
from aioctap.cose import CoseKey
from aioctap.ctap import CtapDevice, CtapError, KeepaliveCallback
from aioctap.ctap2 import ClientPin, Ctap2, CtapResponseError, FPBioEnrollment
from aioctap.hid.address import open_device
from aioctap.hid.device_side import CtapHidServer
from aioctap.hid.protocol import CAPABILITY
from aioctap.virtual import VirtualAuthenticator, WaitForTouch, open_virtual_device
from aioctap.webauthn import AuthenticatorData, CollectedClientData, websafe_decode, websafe_encode

ORIGIN = "https://login.example.com"
PIN = "9876wxyz"


def create_opts(uv: str = "discouraged", rk: str = "discouraged") -> dict[str, Any]:
    return {
        "rp": {"id": "example.com", "name": "Example"},
        "user": {"id": websafe_encode(b"user"), "name": "bob", "displayName": "Bob"},
        "challenge": websafe_encode(os.urandom(32)),
        "pubKeyCredParams": [{"type": "public-key", "alg": -7}],
        "authenticatorSelection": {"residentKey": rk, "userVerification": uv},
    }


def get_opts(cred_ids: list[str] | None = None, uv: str = "discouraged") -> dict[str, Any]:
    opts: dict[str, Any] = {"rpId": "example.com", "challenge": websafe_encode(os.urandom(32)), "userVerification": uv}
    if cred_ids:
        opts["allowCredentials"] = [{"type": "public-key", "id": i} for i in cred_ids]
    return opts


def check_assertion(reg: dict[str, Any], got: dict[str, Any]) -> AuthenticatorData:
    """Verify the assertion's signature with the key from the registration; return its authenticator data."""
    att = cbor.loads(websafe_decode(reg["response"]["attestationObject"]))
    cred = AuthenticatorData(att["authData"]).credential_data
    assert cred is not None
    key: CoseKey = cred.public_key
    auth_data = websafe_decode(got["response"]["authenticatorData"])
    client_data = CollectedClientData(websafe_decode(got["response"]["clientDataJSON"]))
    assert client_data.type == "webauthn.get" and client_data.origin == ORIGIN
    key.verify(auth_data + client_data.hash, websafe_decode(got["response"]["signature"]))
    return AuthenticatorData(auth_data)


async def test_json_string_and_dataclass_options() -> None:
    async with open_virtual_device() as dev:
        client = WebAuthnClient(dev, ORIGIN)
        reg = await client.create(json.dumps({"publicKey": create_opts()}))
        assert reg["type"] == "public-key" and reg["id"] == reg["rawId"]
        assert set(reg["response"]) >= {"clientDataJSON", "attestationObject", "authenticatorData", "publicKey"}
        assert reg["response"]["publicKeyAlgorithm"] == -7
        options = f2.PublicKeyCredentialCreationOptions(
            rp=f2.PublicKeyCredentialRpEntity(name="Example", id="example.com"),
            user=f2.PublicKeyCredentialUserEntity(name="carol", id=b"carol", display_name="Carol"),
            challenge=os.urandom(32),
            pub_key_cred_params=[f2.PublicKeyCredentialParameters(type=f2.PublicKeyCredentialType.PUBLIC_KEY, alg=-7)],
            authenticator_selection=f2.AuthenticatorSelectionCriteria(
                resident_key=f2.ResidentKeyRequirement.REQUIRED,
                user_verification=f2.UserVerificationRequirement.DISCOURAGED,
            ),
            extensions={"credProps": True},
        )
        reg2 = await client.create(options)
        assert reg2["clientExtensionResults"] == {"credProps": {"rk": True}}
        assert dev.authenticator.state.credentials[0].user["name"] == "carol"
        request = f2.PublicKeyCredentialRequestOptions(
            challenge=os.urandom(32),
            rp_id="example.com",
            allow_credentials=[
                f2.PublicKeyCredentialDescriptor(type=f2.PublicKeyCredentialType.PUBLIC_KEY, id=websafe_decode(r["id"]))
                for r in (reg, reg2)
            ],
            user_verification=f2.UserVerificationRequirement.DISCOURAGED,
        )
        got = await client.get(request)
        assert got["id"] in (reg["id"], reg2["id"])
        check_assertion(reg if got["id"] == reg["id"] else reg2, got)
        # discoverable: no allow list, the user handle comes back
        got = await client.get(get_opts())
        assert got["id"] == reg2["id"] and got["response"]["userHandle"] == websafe_encode(b"carol")


async def test_origin_and_bad_options_rejected() -> None:
    assert verify_rp_id("example.com", "https://a.b.example.com")
    assert not verify_rp_id("example.com", "http://example.com")  # not a secure context
    assert verify_rp_id("localhost", "http://localhost:8000")
    assert not verify_rp_id("ample.com", "https://example.com")
    assert not verify_rp_id("example.com", "https://[::1")  # unparsable
    async with open_virtual_device() as dev:
        client = WebAuthnClient(dev, "https://evil.example")
        with pytest.raises(ClientError, match="not valid for origin"):
            await client.create(create_opts())
        with pytest.raises(ClientError, match="not valid for origin"):
            await client.get(get_opts())
        client = WebAuthnClient(dev, ORIGIN)
        for bad in ("{not json", "[1]", {"rp": "x", "user": {}}, {**create_opts(), "challenge": 5}):
            with pytest.raises(ClientError):
                await client.create(bad)
        with pytest.raises(ClientError, match="allowCredentials"):
            await client.get({**get_opts(), "allowCredentials": {"id": "x"}})
        with pytest.raises(ClientError, match="pubKeyCredParams"):
            await client.create({**create_opts(), "pubKeyCredParams": [{"type": "public-key", "alg": "ES256"}]})
        assert dev.authenticator.state.credentials == []


async def test_pin_is_used_when_set() -> None:
    async with open_virtual_device() as dev:
        await ClientPin(await Ctap2.create(dev)).set_pin(PIN)
        asked: list[int] = []

        async def provider() -> str:
            asked.append(1)
            return PIN

        client = WebAuthnClient(dev, ORIGIN, pin=provider)
        reg = await client.create(create_opts(uv="preferred"))
        att = cbor.loads(websafe_decode(reg["response"]["attestationObject"]))
        assert AuthenticatorData(att["authData"]).is_user_verified()
        got = await client.get(get_opts([reg["id"]], uv="required"))
        assert check_assertion(reg, got).is_user_verified()
        assert asked == [1, 1]
        with pytest.raises(ClientError, match="needs a PIN"):
            await WebAuthnClient(dev, ORIGIN).create(create_opts(uv="required"))
        with pytest.raises(CtapError) as e:
            await WebAuthnClient(dev, ORIGIN, pin="wrong-pin").get(get_opts([reg["id"]], uv="required"))
        assert e.value.code == CtapError.ERR.PIN_INVALID
        assert repr(client).count(PIN) == 0


async def test_no_uv_available_but_required() -> None:
    async with open_virtual_device() as dev:
        with pytest.raises(ClientError, match="no PIN or built-in UV"):
            await WebAuthnClient(dev, ORIGIN).create(create_opts(uv="required"))


async def test_built_in_uv_without_a_pin_prompt() -> None:
    async with open_virtual_device() as dev:
        ctap = await Ctap2.create(dev)
        cp = ClientPin(ctap)
        await cp.set_pin(PIN)
        bio = FPBioEnrollment(ctap, cp.protocol, await cp.get_pin_token(PIN, ClientPin.PERMISSION.BIO_ENROLL))
        assert [s async for s in bio.enroll()][-1].template_id
        client = WebAuthnClient(dev, ORIGIN)  # no PIN: the fingerprint verifies the user
        reg = await client.create(create_opts(uv="required"))
        got = await client.get(get_opts([reg["id"]], uv="required"))
        assert check_assertion(reg, got).is_user_verified()
        # a finger that does not match: UV_INVALID, one UV attempt fewer
        cp = ClientPin(await Ctap2.create(dev))
        before = await cp.get_uv_retries()
        dev.authenticator.sensor.match_results.append(False)
        with pytest.raises(CtapError) as e:
            await client.get(get_opts([reg["id"]], uv="required"))
        assert e.value.code == CtapError.ERR.UV_INVALID
        assert await cp.get_uv_retries() == before - 1
        # built-in UV blocked: the PIN is used instead (and only then asked for)
        dev.authenticator.state.uv_retries = 0
        with pytest.raises(ClientError, match="needs a PIN"):
            await client.get(get_opts([reg["id"]], uv="required"))
        with pytest.raises(CtapError) as e:
            await cp.get_uv_token(ClientPin.PERMISSION.GET_ASSERTION, "example.com")
        assert e.value.code == CtapError.ERR.UV_BLOCKED
        asked: list[bool] = []

        def provider() -> str:
            asked.append(True)
            return PIN

        got = await WebAuthnClient(dev, ORIGIN, pin=provider).get(get_opts([reg["id"]], uv="required"))
        assert check_assertion(reg, got).is_user_verified() and asked == [True]


async def test_ctap1_fallback_for_u2f_only_devices() -> None:
    auth = VirtualAuthenticator()
    auth.capabilities = CAPABILITY.WINK  # no CBOR: a U2F-only key
    async with open_virtual_device(authenticator=auth) as dev:
        assert not dev.capabilities & CAPABILITY.CBOR
        client = WebAuthnClient(dev, ORIGIN)
        anonymous = await client.create(create_opts())  # conveyance "none" (the default): no fido-u2f statement
        att = cbor.loads(websafe_decode(anonymous["response"]["attestationObject"]))
        assert att["fmt"] == "none" and att["attStmt"] == {}
        reg = await client.create({**create_opts(), "attestation": "direct"})
        att = cbor.loads(websafe_decode(reg["response"]["attestationObject"]))
        assert att["fmt"] == "fido-u2f" and len(att["attStmt"]["x5c"]) == 1
        got = await client.get(get_opts([websafe_encode(b"\x00" * 64), reg["id"]]))
        assert got["id"] == reg["id"]
        auth_data = check_assertion(reg, got)
        assert auth_data.rp_id_hash == hashlib.sha256(b"example.com").digest() and auth_data.is_user_present()
        with pytest.raises(ClientError, match="need allowCredentials"):
            await client.get(get_opts())
        with pytest.raises(ClientError, match="none of the allowed"):
            await client.get(get_opts([websafe_encode(b"\x00" * 64)]))
        with pytest.raises(ClientError, match="excluded"):
            await client.create({**create_opts(), "excludeCredentials": [{"type": "public-key", "id": reg["id"]}]})


async def test_several_devices_first_touch_wins() -> None:
    policies = [WaitForTouch() for _ in range(3)]
    auths = [VirtualAuthenticator(policy=p) for p in policies]
    async with AsyncExitStack() as stack:
        devs = [await stack.enter_async_context(open_virtual_device(authenticator=a)) for a in auths]
        client = WebAuthnClient(devs, ORIGIN)
        results: list[dict[str, Any]] = []

        async def touch(index: int) -> None:
            with anyio.fail_after(5):
                while not all(p.waiting for p in policies):
                    await anyio.sleep(0.005)
            policies[index].touch()

        async with anyio.create_task_group() as tg:
            tg.start_soon(touch, 1)
            with anyio.fail_after(10):
                results.append(await client.create(create_opts(rk="required")))
        reg = results[0]
        assert [len(a.state.credentials) for a in auths] == [0, 1, 0]
        assert not any(p.waiting for p in policies)  # the other two were cancelled
        # the untouched devices are still usable afterwards
        assert (await Ctap2.create(devs[0])).info.versions
        # get: all three asked, only the one holding the credential answers after its touch
        async with anyio.create_task_group() as tg:
            tg.start_soon(touch, 1)
            with anyio.fail_after(10):
                got = await client.get(get_opts([reg["id"]]))
        assert got["id"] == reg["id"]
        check_assertion(reg, got)
        assert not any(p.waiting for p in policies)


async def test_several_devices_all_fail() -> None:
    async with AsyncExitStack() as stack:
        devs = [await stack.enter_async_context(open_virtual_device()) for _ in range(2)]
        with pytest.raises(CtapError) as e:
            await WebAuthnClient(devs, ORIGIN).get(get_opts([websafe_encode(b"\x01" * 32)]))
        assert e.value.code == CtapError.ERR.NO_CREDENTIALS
    with pytest.raises(ClientError):
        WebAuthnClient([], ORIGIN)


class BrokenDevice(CtapDevice):
    """Answers every command with a success status and garbage."""

    @property
    def capabilities(self) -> int:
        return CAPABILITY.CBOR

    async def call(self, cmd: int, data: bytes = b"", *, on_keepalive: KeepaliveCallback | None = None) -> bytes:
        return b"\x00\xff\xff"


async def test_a_broken_device_does_not_sink_the_others_and_timeouts_cancel() -> None:
    policy = WaitForTouch()
    async with open_virtual_device(authenticator=VirtualAuthenticator(policy=policy)) as slow:
        async with open_virtual_device() as good:
            reg = await WebAuthnClient([BrokenDevice(), good], ORIGIN).create(create_opts())
            assert reg["type"] == "public-key"
            with pytest.raises(CtapResponseError):
                await WebAuthnClient([BrokenDevice()], ORIGIN).create(create_opts())
        for devices in ([slow], [slow, BrokenDevice()]):
            with anyio.fail_after(5), pytest.raises(ClientError, match="timed out after 300 ms"):
                await WebAuthnClient(devices, ORIGIN).create({**create_opts(), "timeout": 300})
            assert not policy.waiting  # cancelled on the device


async def test_create_and_get_over_udp() -> None:
    auth = VirtualAuthenticator()
    server = CtapHidServer(auth)
    async with anyio.create_task_group() as tg:
        host, port = await tg.start(server.serve_udp, "127.0.0.1", 0)
        async with open_device(f"udp:{host}:{port}") as dev:
            client = WebAuthnClient(dev, ORIGIN, pin=PIN)
            await ClientPin(await Ctap2.create(dev)).set_pin(PIN)
            opts = create_opts(uv="required", rk="required")
            opts["extensions"] = {"prf": {"eval": {"first": websafe_encode(b"salt")}}, "credProps": True}
            reg = await client.create(opts)
            assert reg["clientExtensionResults"]["credProps"] == {"rk": True}
            first = reg["clientExtensionResults"]["prf"]["results"]["first"]
            got = await client.get(
                {**get_opts(uv="required"), "extensions": {"prf": {"eval": {"first": websafe_encode(b"salt")}}}}
            )
            assert got["clientExtensionResults"]["prf"]["results"]["first"] == first
            assert check_assertion(reg, got).is_user_verified()
        tg.cancel_scope.cancel()


async def test_long_allow_and_exclude_lists_are_preflighted_in_chunks() -> None:
    async with open_virtual_device() as dev:
        ctap = await Ctap2.create(dev)
        await ClientPin(ctap).set_pin(PIN)
        limit = ctap.info.max_creds_in_list or 1
        client = WebAuthnClient(dev, ORIGIN, pin=PIN)
        reg = await client.create(create_opts(uv="required"))
        others = [websafe_encode(bytes([i]) * 48) for i in range(limit + 3)]
        too_long = websafe_encode(b"\x07" * ((ctap.info.max_cred_id_length or 128) + 1))  # cannot be on it
        got = await client.get(get_opts([too_long, *others, reg["id"]], uv="required"))
        assert got["id"] == reg["id"] and check_assertion(reg, got).is_user_verified()
        with pytest.raises(CtapError) as e:
            await client.create(
                {**create_opts(uv="required"), "excludeCredentials": [{"type": "public-key", "id": i}
                                                                      for i in [*others, reg["id"]]]}
            )  # fmt: skip
        assert e.value.code == CtapError.ERR.CREDENTIAL_EXCLUDED
        fresh = await client.create(
            {**create_opts(uv="required"), "excludeCredentials": [{"type": "public-key", "id": i} for i in others]}
        )
        assert fresh["id"] != reg["id"]
        with pytest.raises(CtapError) as e:  # none of them here: the device is still asked, and says so
            await client.get(get_opts(others, uv="required"))
        assert e.value.code == CtapError.ERR.NO_CREDENTIALS


@pytest.mark.parametrize(
    ("authenticator_attestation", "zero_aaguid", "conveyance", "fmt", "x5c"),
    [
        ("packed", False, "direct", "packed", True),
        ("packed", False, "enterprise", "packed", True),  # not granted (no ep): the authenticator's statement
        ("packed", False, "indirect", "packed", True),  # the client MAY anonymize; this one conveys it as is
        ("packed", False, "none", "none", False),
        ("packed", False, None, "none", False),  # absent: "none"
        ("packed", False, "made-up", "none", False),  # an unknown value is ignored, so "none" (§5.4.7)
        ("packed", True, "none", "none", False),  # a zero AAGUID does not make an x5c statement self attestation
        ("self", True, "none", "packed", False),  # self attestation (zero AAGUID, no x5c) is kept
        ("self", False, "none", "none", False),  # packed without x5c but a real AAGUID: replaced
        ("self", False, "direct", "packed", False),
        ("none", False, "direct", "none", False),
    ],
)
async def test_attestation_conveyance(
    authenticator_attestation: str, zero_aaguid: bool, conveyance: str | None, fmt: str, x5c: bool
) -> None:
    """WebAuthn L3 §5.1.3 step 22: the statement the RP gets for each conveyance preference."""
    auth = VirtualAuthenticator(attestation=authenticator_attestation)
    if zero_aaguid:
        auth.state.aaguid = bytes(16)
    async with open_virtual_device(authenticator=auth) as dev:
        opts = create_opts()
        if conveyance is not None:
            opts["attestation"] = conveyance
        reg = await WebAuthnClient(dev, ORIGIN).create(opts)
        att = cbor.loads(websafe_decode(reg["response"]["attestationObject"]))
        assert att["fmt"] == fmt and ("x5c" in att["attStmt"]) is x5c
        if fmt == "none":
            assert att["attStmt"] == {}
        cred = AuthenticatorData(att["authData"]).credential_data
        assert cred is not None and bytes(cred.aaguid) == auth.state.aaguid  # L3 keeps the AAGUID (L2 zeroed it)
        check_assertion(reg, await WebAuthnClient(dev, ORIGIN).get(get_opts([reg["id"]])))


@pytest.mark.parametrize(
    ("enabled", "vendor_list", "platform_list", "conveyance", "sent", "enterprise"),
    [
        (False, ("example.com",), None, "enterprise", None, False),  # ep not enabled: not asked for
        (True, ("example.com",), None, "enterprise", 1, True),  # vendor-facilitated, on the vendor's list
        (True, (), None, "enterprise", 1, False),  # vendor-facilitated, not on it: the batch certificate
        (True, (), ("example.com",), "enterprise", 2, True),  # platform-managed: the platform vouches
        (True, ("example.com",), ("other.example",), "enterprise", None, False),  # not on the platform's list
        (True, ("example.com",), ("example.com",), "direct", None, False),  # the RP did not ask for it
    ],
)
async def test_enterprise_attestation(
    enabled: bool,
    vendor_list: tuple[str, ...],
    platform_list: tuple[str, ...] | None,
    conveyance: str,
    sent: int | None,
    enterprise: bool,
) -> None:
    """WebAuthn L3 §5.1.3 step 22 with CTAP 2.1 §7.1: "enterprise" conveyance becomes makeCredential's
    enterpriseAttestation 2 for an RP ID on ``enterprise_rpid_list``, 1 without a list (python-fido2's rule);
    the authenticator answers with its enterprise certificate when it grants it, the batch one otherwise."""
    from aioctap.ctap2 import Config

    auth = VirtualAuthenticator(enterprise_rp_ids=vendor_list)
    requests: list[Any] = []
    original = auth.handle

    async def recording(cmd: int, payload: bytes, set_status: Any) -> bytes:
        if payload[:1] == b"\x01":
            requests.append(cbor.loads(payload[1:]))
        return await original(cmd, payload, set_status)

    auth.handle = recording  # type: ignore[method-assign]
    async with open_virtual_device(authenticator=auth) as dev:
        if enabled:
            await Config(await Ctap2.create(dev)).enable_enterprise_attestation()
        client = WebAuthnClient(dev, ORIGIN, enterprise_rpid_list=platform_list)
        reg = await client.create({**create_opts(), "attestation": conveyance})
        assert requests[-1].get(10) == sent
        att = cbor.loads(websafe_decode(reg["response"]["attestationObject"]))
        expected = auth.state.enterprise_cert if enterprise else auth.state.attestation_cert
        assert att["fmt"] == "packed" and att["attStmt"]["x5c"] == [expected]


@pytest.mark.parametrize("user_id", [b"", b"u" * 65])
async def test_user_id_must_be_1_to_64_bytes(user_id: bytes) -> None:
    async with open_virtual_device() as dev:
        opts = {**create_opts(), "user": {"id": websafe_encode(user_id), "name": "bob"}}
        with pytest.raises(ClientError, match=r"user\.id must be 1 to 64 bytes"):
            await WebAuthnClient(dev, ORIGIN).create(opts)
        assert not dev.authenticator.state.credentials
    async with open_virtual_device() as dev:  # the bounds themselves are fine
        for ok in (b"u", b"u" * 64):
            await WebAuthnClient(dev, ORIGIN).create({**create_opts(), "user": {"id": websafe_encode(ok), "name": "b"}})
