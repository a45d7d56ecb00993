"""Client extensions through WebAuthnClient against the software authenticator: every output checked
against a value computed independently (the authenticator's CredRandom, the stored blob, its settings)."""

from __future__ import annotations

import functools
import hashlib
import hmac
import inspect
import os
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from aioctap import cbor
from aioctap.client import ClientError, WebAuthnClient
from aioctap.ctap import CtapError
from aioctap.ctap2 import ClientPin, Config, Ctap2
from aioctap.ctap2.extensions import CredProtectExtension, HmacSecretExtension, default_extensions
from aioctap.virtual import VirtualAuthenticator, VirtualHidDevice, open_virtual_device
from aioctap.webauthn import AuthenticatorData, websafe_decode, websafe_encode

ORIGIN = "https://example.com"
PIN = "1234abcd"


def with_device(test: Callable[..., Awaitable[None]]) -> Callable[..., Awaitable[None]]:
    """Run the test with a fresh in-memory software authenticator as its first argument.

    (Not a fixture: the device's task group must be entered and left in the test's own task.)
    """

    @functools.wraps(test)
    async def run(*args: Any, **kwargs: Any) -> None:
        async with open_virtual_device() as device:
            await test(device, *args, **kwargs)

    del run.__wrapped__  # keep pytest from asking for a "dev" fixture
    sig = inspect.signature(test)
    run.__signature__ = sig.replace(parameters=list(sig.parameters.values())[1:])  # type: ignore[attr-defined]
    return run


def create_opts(extensions: dict[str, Any], resident_key: str = "required", user: bytes = b"u1") -> dict[str, Any]:
    return {
        "rp": {"id": "example.com", "name": "Example"},
        "user": {"id": websafe_encode(user), "name": "alice", "displayName": "Alice"},
        "challenge": websafe_encode(os.urandom(32)),
        "pubKeyCredParams": [{"type": "public-key", "alg": -7}],
        "authenticatorSelection": {"residentKey": resident_key, "userVerification": "discouraged"},
        "extensions": extensions,
    }


def get_opts(extensions: dict[str, Any], allow: list[str] | None = None) -> dict[str, Any]:
    opts: dict[str, Any] = {
        "rpId": "example.com",
        "challenge": websafe_encode(os.urandom(32)),
        "userVerification": "discouraged",
        "extensions": extensions,
    }
    if allow is not None:
        opts["allowCredentials"] = [{"type": "public-key", "id": i} for i in allow]
    return opts


def auth_data_extensions(reg_or_assertion: dict[str, Any]) -> dict[str, Any]:
    data = AuthenticatorData(websafe_decode(reg_or_assertion["response"]["authenticatorData"]))
    return data.extensions or {}


def expected_hmac(dev: VirtualHidDevice, cred_id: str, salt: bytes, uv: bool = False) -> str:
    cred_random = dev.authenticator.state.cred_random(websafe_decode(cred_id), uv)
    return websafe_encode(hmac.new(cred_random, salt, hashlib.sha256).digest())


def prf_salt(secret: bytes) -> bytes:
    return hashlib.sha256(b"WebAuthn PRF\x00" + secret).digest()


@with_device
async def test_prf_at_create_and_get(dev: VirtualHidDevice) -> None:
    client = WebAuthnClient(dev, ORIGIN)
    first, second = b"first secret", b"second secret"
    reg = await client.create(create_opts({"prf": {"eval": {"first": websafe_encode(first)}}}))
    prf = reg["clientExtensionResults"]["prf"]
    assert prf["enabled"] is True
    # hmac-secret-mc: the PRF output is available at creation already
    assert prf["results"]["first"] == expected_hmac(dev, reg["id"], prf_salt(first))
    got = await client.get(
        get_opts({"prf": {"eval": {"first": websafe_encode(first), "second": websafe_encode(second)}}}, [reg["id"]])
    )
    results = got["clientExtensionResults"]["prf"]["results"]
    assert results["first"] == prf["results"]["first"]
    assert results["second"] == expected_hmac(dev, reg["id"], prf_salt(second))
    assert (await client.get(get_opts({"prf": {}}, [reg["id"]])))["clientExtensionResults"] == {}
    plain = await client.create(create_opts({"prf": {}}, user=b"u2"))
    assert plain["clientExtensionResults"] == {"prf": {"enabled": True}}


@with_device
async def test_prf_eval_by_credential_picks_the_held_credential(dev: VirtualHidDevice) -> None:
    client = WebAuthnClient(dev, ORIGIN)
    reg = await client.create(create_opts({"prf": {}}, resident_key="discouraged"))
    other = websafe_encode(b"\x01" * 40)  # not on this authenticator
    secrets = {reg["id"]: {"first": websafe_encode(b"mine")}, other: {"first": websafe_encode(b"theirs")}}
    got = await client.get(
        get_opts({"prf": {"eval": {"first": websafe_encode(b"default")}, "evalByCredential": secrets}},
                 [other, reg["id"]])
    )  # fmt: skip
    assert got["id"] == reg["id"]
    assert got["clientExtensionResults"]["prf"]["results"]["first"] == expected_hmac(dev, reg["id"], prf_salt(b"mine"))
    with pytest.raises(ClientError, match="evalByCredential"):
        await client.get(get_opts({"prf": {"evalByCredential": secrets}}, [reg["id"]]))
    with pytest.raises(ClientError, match="allowCredentials"):
        await client.get(get_opts({"prf": {"evalByCredential": secrets}}))


@with_device
async def test_hmac_create_and_get_secret(dev: VirtualHidDevice) -> None:
    client = WebAuthnClient(dev, ORIGIN)
    reg = await client.create(create_opts({"hmacCreateSecret": True}))
    assert reg["clientExtensionResults"] == {"hmacCreateSecret": True}
    salt1, salt2 = os.urandom(32), os.urandom(32)
    got = await client.get(
        get_opts({"hmacGetSecret": {"salt1": websafe_encode(salt1), "salt2": websafe_encode(salt2)}}, [reg["id"]])
    )
    out = got["clientExtensionResults"]["hmacGetSecret"]
    assert out == {"output1": expected_hmac(dev, reg["id"], salt1), "output2": expected_hmac(dev, reg["id"], salt2)}
    with pytest.raises(ClientError, match="32 bytes"):
        await client.get(get_opts({"hmacGetSecret": {"salt1": websafe_encode(b"short")}}, [reg["id"]]))
    # python-fido2's default: raw hmac-secret inputs ignored unless allowed
    strict = WebAuthnClient(dev, ORIGIN, extensions=[HmacSecretExtension()])
    reg2 = await strict.create(create_opts({"hmacCreateSecret": True}, user=b"u2"))
    assert reg2["clientExtensionResults"] == {}
    assert "hmac-secret" not in auth_data_extensions(reg2)


@with_device
async def test_hmac_secret_with_pin_uses_the_uv_cred_random(dev: VirtualHidDevice) -> None:
    ctap = await Ctap2.create(dev)
    await ClientPin(ctap).set_pin(PIN)
    client = WebAuthnClient(dev, ORIGIN, pin=PIN)
    opts = create_opts({"hmacCreateSecret": True})
    opts["authenticatorSelection"]["userVerification"] = "required"
    reg = await client.create(opts)
    salt = os.urandom(32)
    request = get_opts({"hmacGetSecret": {"salt1": websafe_encode(salt)}}, [reg["id"]])
    request["userVerification"] = "required"
    got = await client.get(request)
    assert got["clientExtensionResults"]["hmacGetSecret"] == {"output1": expected_hmac(dev, reg["id"], salt, uv=True)}


@with_device
async def test_cred_props(dev: VirtualHidDevice) -> None:
    client = WebAuthnClient(dev, ORIGIN)
    reg = await client.create(create_opts({"credProps": True}))
    assert reg["clientExtensionResults"] == {"credProps": {"rk": True}}
    reg = await client.create(create_opts({"credProps": True}, resident_key="discouraged", user=b"u2"))
    assert reg["clientExtensionResults"] == {"credProps": {"rk": False}}
    assert len(dev.authenticator.state.credentials) == 1


@with_device
async def test_cred_protect(dev: VirtualHidDevice) -> None:
    client = WebAuthnClient(dev, ORIGIN)
    reg = await client.create(create_opts({"credentialProtectionPolicy": "userVerificationRequired",
                                           "enforceCredentialProtectionPolicy": True}))  # fmt: skip
    assert auth_data_extensions(reg) == {"credProtect": 3}
    assert dev.authenticator.state.credentials[0].cred_protect == 3
    # level 3: invisible without user verification (no PIN here), even with its id
    with pytest.raises(CtapError) as e:
        await client.get(get_opts({}, [reg["id"]]))
    assert e.value.code == CtapError.ERR.NO_CREDENTIALS
    reg = await client.create(
        create_opts({"credentialProtectionPolicy": "userVerificationOptionalWithCredentialIDList"}, user=b"u2")
    )
    assert auth_data_extensions(reg) == {"credProtect": 2}
    assert (await client.get(get_opts({}, [reg["id"]])))["id"] == reg["id"]
    with pytest.raises(ClientError, match="credentialProtectionPolicy"):
        await client.create(create_opts({"credentialProtectionPolicy": "sometimes"}))
    assert CredProtectExtension.POLICY.str2int("userVerificationOptional") == 1


async def test_cred_protect_enforced_on_an_authenticator_without_it() -> None:
    auth = VirtualAuthenticator()
    info = auth.get_info

    def no_cred_protect() -> dict[int, Any]:
        data = info()
        data[2] = [e for e in data[2] if e != "credProtect"]
        return data

    auth.get_info = no_cred_protect  # type: ignore[method-assign]
    async with open_virtual_device(authenticator=auth) as dev:
        client = WebAuthnClient(dev, ORIGIN)
        with pytest.raises(ClientError, match="credential protection"):
            await client.create(create_opts({"credentialProtectionPolicy": "userVerificationRequired",
                                             "enforceCredentialProtectionPolicy": True}))  # fmt: skip
        reg = await client.create(create_opts({"credentialProtectionPolicy": "userVerificationRequired"}))
        assert auth_data_extensions(reg) == {}


@with_device
async def test_cred_blob(dev: VirtualHidDevice) -> None:
    client = WebAuthnClient(dev, ORIGIN)
    blob = b"\x07" * 20
    reg = await client.create(create_opts({"credBlob": websafe_encode(blob)}))
    assert reg["clientExtensionResults"] == {"credBlob": True}
    got = await client.get(get_opts({"getCredBlob": True}))
    assert got["clientExtensionResults"] == {"getCredBlob": websafe_encode(blob)}
    assert auth_data_extensions(got) == {"credBlob": blob}
    too_long = b"x" * ((await Ctap2.create(dev)).info.max_cred_blob_length or 0) + b"x"
    with pytest.raises(ClientError, match="credBlob"):
        await client.create(create_opts({"credBlob": websafe_encode(too_long)}, user=b"u2"))
    with pytest.raises(ClientError, match="base64url"):
        await client.create(create_opts({"credBlob": "!!not base64!!"}, user=b"u2"))


@pytest.mark.parametrize("with_pin", [False, True])
@with_device
async def test_large_blob(dev: VirtualHidDevice, with_pin: bool) -> None:
    if with_pin:
        await ClientPin(await Ctap2.create(dev)).set_pin(PIN)
    client = WebAuthnClient(dev, ORIGIN, pin=PIN if with_pin else None)
    reg = await client.create(create_opts({"largeBlob": {"support": "required"}}))
    assert reg["clientExtensionResults"] == {"largeBlob": {"supported": True}}
    got = await client.get(get_opts({"largeBlob": {"read": True}}))
    assert got["clientExtensionResults"] == {"largeBlob": {}}
    data = os.urandom(300)
    got = await client.get(get_opts({"largeBlob": {"write": websafe_encode(data)}}, [reg["id"]]))
    assert got["clientExtensionResults"] == {"largeBlob": {"written": True}}
    got = await client.get(get_opts({"largeBlob": {"read": True}}))
    assert got["clientExtensionResults"] == {"largeBlob": {"blob": websafe_encode(data)}}
    with pytest.raises(ClientError, match="read or write"):
        await client.get(get_opts({"largeBlob": {"read": True, "write": websafe_encode(b"x")}}))
    with pytest.raises(ClientError, match="read/write"):
        await client.create(create_opts({"largeBlob": {"write": websafe_encode(b"x")}}, user=b"u2"))


@with_device
async def test_min_pin_length(dev: VirtualHidDevice) -> None:
    ctap = await Ctap2.create(dev)
    await Config(ctap).set_min_pin_length(6, rp_ids=["example.com"])
    client = WebAuthnClient(dev, ORIGIN)
    reg = await client.create(create_opts({"minPinLength": True}))
    assert auth_data_extensions(reg) == {"minPinLength": 6}
    assert reg["clientExtensionResults"] == {}
    att = cbor.loads(websafe_decode(reg["response"]["attestationObject"]))
    assert AuthenticatorData(att["authData"]).extensions == {"minPinLength": 6}
    other = WebAuthnClient(dev, "https://other.example")
    opts = create_opts({"minPinLength": True})
    opts["rp"]["id"] = "other.example"
    assert auth_data_extensions(await other.create(opts)) == {}  # not an RP allowed to see it


async def test_default_extension_names_follow_python_fido2() -> None:
    from fido2.ctap2 import extensions as theirs

    for ext in default_extensions():
        assert hasattr(theirs, type(ext).__name__)
        assert ext.NAME == getattr(theirs, type(ext).__name__).NAME
