"""python-fido2's client API on aioctap (``aioctap.client.Fido2Client`` and friends), on the in-memory authenticator.

Results are checked by python-fido2's own ``Fido2Server`` (the reference a python-fido2 user has) and by aioctap's.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio
import pytest
from fido2.server import Fido2Server as ReferenceServer
from fido2.webauthn import PublicKeyCredentialCreationOptions as ReferenceCreationOptions

import aioctap.utils
from aioctap.client import (
    AssertionSelection,
    ClientError,
    DefaultClientDataCollector,
    Fido2Client,
    PinRequiredError,
    UserInteraction,
)
from aioctap.ctap import CtapError
from aioctap.ctap2 import ClientPin, Ctap2
from aioctap.ctap2.extensions import (
    AuthenticatorExtensionsPRFOutputs,
    CredentialPropertiesOutput,
    HMACGetSecretOutput,
    HmacSecretExtension,
)
from aioctap.server import Fido2Server
from aioctap.virtual import open_virtual_device
from aioctap.virtual.common import WaitForTouch
from aioctap.webauthn import (
    AttestationObject,
    AuthenticationResponse,
    CollectedClientData,
    RegistrationResponse,
)

ORIGIN = "https://example.com"
RP = {"id": "example.com", "name": "Example RP"}
PIN = "1234"


class Recorder(UserInteraction):
    """A UserInteraction with async methods that records what it was asked."""

    def __init__(self, pin: str | None = PIN, uv: bool = True) -> None:
        self.pin, self.uv = pin, uv
        self.calls: list[str] = []

    async def prompt_up(self) -> None:
        await anyio.sleep(0)
        self.calls.append("up")

    async def request_pin(self, permissions: ClientPin.PERMISSION, rp_id: str | None) -> str | None:
        self.calls.append(f"pin {rp_id}")
        return self.pin

    async def request_uv(self, permissions: ClientPin.PERMISSION, rp_id: str | None) -> bool:
        self.calls.append(f"uv {rp_id}")
        return self.uv


@asynccontextmanager
async def device(pin: str | None = None, **kwargs: Any) -> AsyncIterator[Any]:
    async with open_virtual_device(None, **kwargs) as dev:
        if pin is not None:
            await ClientPin(await Ctap2(dev)).set_pin(pin)
        yield dev


async def client_for(dev: Any, interaction: UserInteraction | None = None, **kwargs: Any) -> Fido2Client:
    return await Fido2Client(dev, DefaultClientDataCollector(ORIGIN), interaction or Recorder(), **kwargs)


async def test_info_needs_the_client_awaited() -> None:
    async with device() as dev:
        client = Fido2Client(dev, DefaultClientDataCollector(ORIGIN))
        with pytest.raises(RuntimeError, match="await Fido2Client"):
            _ = client.info
        assert (await client).info.versions == ["FIDO_2_0", "FIDO_2_1", "U2F_V2"]


async def test_registration_and_authentication_checked_by_python_fido2() -> None:
    reference = ReferenceServer(RP, attestation="direct")
    async with device() as dev:
        client = await client_for(dev)
        options, state = reference.register_begin({"id": b"user", "name": "A. User"}, user_verification="discouraged")
        result = await client.make_credential(options["publicKey"])  # python-fido2's dataclass
        assert isinstance(result, RegistrationResponse)
        assert isinstance(result.response.client_data, CollectedClientData)
        assert isinstance(result.response.attestation_object, AttestationObject)
        assert result.response.attestation_object.fmt == "packed"
        assert result.response.client_data.type == "webauthn.create"
        assert result.id == dict(result)["rawId"]
        # python-fido2 verifies our response object through its JSON form, as a browser's would be
        auth_data = reference.register_complete(state, json.loads(json.dumps(dict(result))))
        credentials = [auth_data.credential_data]

        options, state = reference.authenticate_begin(credentials, user_verification="discouraged")
        selection = await client.get_assertion(options["publicKey"])
        assert isinstance(selection, AssertionSelection)
        response = selection.get_response(0)
        assert isinstance(response, AuthenticationResponse)
        assert response.response.user_handle is None  # a non-discoverable credential
        reference.authenticate_complete(state, credentials, json.loads(json.dumps(dict(response))))


async def test_options_as_dicts_dataclasses_or_wrapped() -> None:
    server = Fido2Server(RP)
    async with device() as dev:
        client = await client_for(dev)
        options, state = server.register_begin({"id": b"user", "name": "u"})
        for given in (options["publicKey"], options.public_key, dict(options), options):
            result = await client.make_credential(given)
            server.register_complete(state, result)
        theirs = ReferenceCreationOptions.from_dict(dict(options.public_key))  # python-fido2's own dataclass
        server.register_complete(state, await client.make_credential(theirs))


async def test_excluded_credential_is_device_ineligible() -> None:
    server = Fido2Server(RP)
    user = {"id": b"user", "name": "u"}
    async with device() as dev:
        client = await client_for(dev)
        options, state = server.register_begin(user)
        cred = server.register_complete(state, await client.make_credential(options["publicKey"])).credential_data
        options, _ = server.register_begin(user, [cred])
        with pytest.raises(ClientError) as e:
            await client.make_credential(options["publicKey"])
        assert e.value.code == ClientError.ERR.DEVICE_INELIGIBLE
        assert isinstance(e.value.cause, CtapError) and e.value.cause.code == CtapError.ERR.CREDENTIAL_EXCLUDED


async def test_every_discoverable_credential_is_reachable() -> None:
    server = Fido2Server(RP)
    async with device() as dev:
        client = await client_for(dev)
        credentials = []
        for name in (b"alice", b"bob"):
            options, state = server.register_begin(
                {"id": name, "name": name.decode()}, resident_key_requirement="required"
            )
            credentials.append(server.register_complete(state, await client.make_credential(options)).credential_data)
        options, state = server.authenticate_begin()
        selection = await client.get_assertion(options["publicKey"])
        assertions = selection.get_assertions()
        assert len(assertions) == 2
        assert sorted(a.user["id"] for a in assertions if a.user) == [b"alice", b"bob"]
        handles = set()
        for i in range(len(assertions)):
            response = selection.get_response(i)
            assert response.response.user_handle is not None
            handles.add(response.response.user_handle)
            found = server.authenticate_complete(state, credentials, response)
            assert found.credential_id == response.raw_id
        assert handles == {b"alice", b"bob"}


async def test_async_user_interaction_pin_and_touch() -> None:
    policy = WaitForTouch(timeout=5)

    class Touching(Recorder):
        async def prompt_up(self) -> None:
            await super().prompt_up()
            policy.touch()

    interaction = Touching()
    server = Fido2Server(RP)
    async with device(PIN, policy=policy) as dev:
        client = await client_for(dev, interaction)
        options, state = server.register_begin(
            {"id": b"user", "name": "u"}, resident_key_requirement="required", user_verification="required"
        )
        auth_data = server.register_complete(state, await client.make_credential(options["publicKey"]))
        assert auth_data.is_user_verified()
    assert interaction.calls == ["pin example.com", "up"]


async def test_no_pin_given_is_pin_required_error() -> None:
    server = Fido2Server(RP)
    async with device(PIN) as dev:
        client = await client_for(dev, Recorder(pin=None))
        options, _ = server.register_begin({"id": b"user", "name": "u"}, user_verification="required")
        with pytest.raises(PinRequiredError) as e:
            await client.make_credential(options["publicKey"])
        assert e.value.code == ClientError.ERR.BAD_REQUEST


async def test_wrong_pin_is_bad_request_with_the_ctap_cause() -> None:
    server = Fido2Server(RP)
    async with device(PIN) as dev:
        client = await client_for(dev, Recorder(pin="0000"))
        options, _ = server.register_begin({"id": b"user", "name": "u"}, user_verification="required")
        with pytest.raises(ClientError) as e:
            await client.make_credential(options["publicKey"])
        assert e.value.code == ClientError.ERR.BAD_REQUEST
        assert isinstance(e.value.cause, CtapError) and e.value.cause.code == CtapError.ERR.PIN_INVALID


async def test_rp_id_not_valid_for_the_origin_is_bad_request() -> None:
    server = Fido2Server({"id": "example.org", "name": "Other"})
    async with device() as dev:
        client = await client_for(dev)
        options, _ = server.register_begin({"id": b"user", "name": "u"})
        with pytest.raises(ClientError) as e:
            await client.make_credential(options["publicKey"])
        assert e.value.code == ClientError.ERR.BAD_REQUEST


async def test_timeout_is_a_client_timeout_and_the_device_stays_usable() -> None:
    policy = WaitForTouch(timeout=30)
    server = Fido2Server(RP)
    server.timeout = 200  # ms: nobody touches
    async with device(policy=policy) as dev:
        client = await client_for(dev, UserInteraction())
        options, _ = server.register_begin({"id": b"user", "name": "u"})
        with anyio.fail_after(10):
            with pytest.raises(ClientError) as e:
                await client.make_credential(options["publicKey"])
        assert e.value.code == ClientError.ERR.TIMEOUT
        policy.touch()
        info = await Ctap2(dev).get_info()  # the cancelled request left the channel in order
        assert "FIDO_2_1" in info.versions


async def test_extension_outputs_rich_by_attribute_json_by_item() -> None:
    server = Fido2Server(RP)
    async with device() as dev:
        client = await client_for(dev, extensions=[HmacSecretExtension(allow_hmac_secret=True)])
        options, state = server.register_begin({"id": b"user", "name": "u"})
        result = await client.make_credential({**options["publicKey"], "extensions": {"hmacCreateSecret": True}})
        assert result.client_extension_results["hmacCreateSecret"] is True
        cred = server.register_complete(state, result).credential_data
        options, _ = server.authenticate_begin([cred])
        salt = bytes(range(32))
        selection = await client.get_assertion(
            {**options["publicKey"], "extensions": {"hmacGetSecret": {"salt1": salt}}}
        )
        outputs = selection.get_response(0).client_extension_results
        assert isinstance(outputs.hmac_get_secret, HMACGetSecretOutput)  # python-fido2's class, by attribute
        assert isinstance(outputs.hmac_get_secret.output1, bytes) and len(outputs.hmac_get_secret.output1) == 32
        assert outputs["hmacGetSecret"]["output1"] == aioctap.utils.websafe_encode(outputs.hmac_get_secret.output1)
        json.dumps(dict(selection.get_response(0)))


async def test_selection_waits_for_a_touch() -> None:
    policy = WaitForTouch(timeout=5)

    class Touch(UserInteraction):
        def prompt_up(self) -> None:
            policy.touch()

    async with device(policy=policy) as dev:
        client = await client_for(dev, Touch())
        with anyio.fail_after(5):
            await client.selection()


def test_client_error_shape() -> None:
    error = ClientError.ERR.TIMEOUT("slow")
    assert isinstance(error, ClientError)
    assert (error.code, error.cause) == (ClientError.ERR.TIMEOUT, "slow")
    assert repr(error) == "Client error: 5 - TIMEOUT (cause: slow)"
    assert [e.name for e in ClientError.ERR] == [
        "OTHER_ERROR", "BAD_REQUEST", "CONFIGURATION_UNSUPPORTED", "DEVICE_INELIGIBLE", "TIMEOUT"
    ]  # fmt: skip
    assert ClientError("bad options").code == ClientError.ERR.BAD_REQUEST


def test_default_rp_id_is_the_origins_effective_domain() -> None:
    from aioctap.webauthn import PublicKeyCredentialRequestOptions

    options = PublicKeyCredentialRequestOptions(challenge=b"\0" * 32)
    client_data, rp_id = DefaultClientDataCollector("https://login.example.com:8443").collect_client_data(options)
    assert rp_id == "login.example.com"  # the host, not python-fido2's netloc with the port (L3 §5.1.4.1 step 7)
    assert client_data.origin == "https://login.example.com:8443" and client_data.type == "webauthn.get"
    assert DefaultClientDataCollector("http://localhost:5000").collect_client_data(options)[1] == "localhost"
    with pytest.raises(ClientError) as e:  # not a secure context
        DefaultClientDataCollector("http://example.com").collect_client_data(options)
    assert e.value.code == ClientError.ERR.BAD_REQUEST


async def test_u2f_only_device_speaks_ctap1() -> None:
    from aioctap.hid import CAPABILITY
    from aioctap.virtual import VirtualAuthenticator

    auth = VirtualAuthenticator()
    auth.capabilities = CAPABILITY.WINK  # no CBOR: a U2F-only key
    reference = ReferenceServer(RP, attestation="direct")
    async with open_virtual_device(authenticator=auth) as dev:
        client = await client_for(dev)
        assert client.info.versions == ["U2F_V2"]
        options, state = reference.register_begin({"id": b"user", "name": "u"}, user_verification="discouraged")
        result = await client.make_credential(options["publicKey"])
        assert result.response.attestation_object.fmt == "fido-u2f"
        cred = reference.register_complete(state, dict(result)).credential_data
        options, state = reference.authenticate_begin([cred], user_verification="discouraged")
        selection = await client.get_assertion(options["publicKey"])
        reference.authenticate_complete(state, [cred], dict(selection.get_response(0)))
        options, _ = reference.register_begin({"id": b"user", "name": "u"}, [cred])
        with pytest.raises(ClientError) as e:
            await client.make_credential(options["publicKey"])
        assert e.value.code == ClientError.ERR.DEVICE_INELIGIBLE


async def test_prf_and_cred_props_outputs_are_python_fido2s_classes() -> None:
    server = Fido2Server(RP)
    async with device() as dev:
        client = await client_for(dev)
        options, state = server.register_begin({"id": b"user", "name": "u"}, resident_key_requirement="required")
        salt = aioctap.utils.websafe_encode(b"s" * 32)
        result = await client.make_credential(
            {**options["publicKey"], "extensions": {"credProps": True, "prf": {"eval": {"first": salt}}}}
        )
        outputs = result.client_extension_results
        assert isinstance(outputs.cred_props, CredentialPropertiesOutput) and outputs.cred_props.rk is True
        assert isinstance(outputs.prf, AuthenticatorExtensionsPRFOutputs) and outputs.prf.enabled is True
        assert outputs.prf.results is not None and len(outputs.prf.results.first) == 32
        assert outputs["prf"]["results"]["first"] == aioctap.utils.websafe_encode(outputs.prf.results.first)
        cred = server.register_complete(state, result).credential_data
        options, _ = server.authenticate_begin([cred])
        selection = await client.get_assertion(
            {**options["publicKey"], "extensions": {"prf": {"eval": {"first": salt}}}}
        )
        again = selection.get_response(0).client_extension_results.prf
        assert again.results.first == outputs.prf.results.first  # the same salt, the same secret


def test_on_trio() -> None:
    """The python-fido2-shaped client and server on anyio's trio backend (an async prompt_up, a PIN, a timeout)."""
    pytest.importorskip("trio")

    async def main() -> None:
        import sniffio

        assert sniffio.current_async_library() == "trio"
        policy = WaitForTouch(timeout=5)

        class Touching(Recorder):
            async def prompt_up(self) -> None:
                await super().prompt_up()
                policy.touch()

        server = Fido2Server(RP)
        async with device(PIN, policy=policy) as dev:
            client = await client_for(dev, Touching())
            options, state = server.register_begin({"id": b"u", "name": "u"}, resident_key_requirement="required")
            cred = server.register_complete(state, await client.make_credential(options)).credential_data
            options, state = server.authenticate_begin()
            selection = await client.get_assertion(options)
            assert server.authenticate_complete(state, [cred], selection.get_response(0)) is cred
            server.timeout = 100
            options, _ = server.authenticate_begin()
            with pytest.raises(ClientError) as e:  # prompt_up is not the toucher any more: nobody touches
                await Fido2Client(dev, DefaultClientDataCollector(ORIGIN), Recorder()).get_assertion(options)
            assert e.value.code == ClientError.ERR.TIMEOUT

    anyio.run(main, backend="trio")


async def test_platform_attachment_is_not_this_authenticator() -> None:
    server = Fido2Server(RP)
    async with device() as dev:
        client = await client_for(dev)
        calls: list[int] = []
        real_call = dev.call

        def counting_call(cmd: int, data: bytes = b"", **kwargs: Any) -> Any:
            calls.append(cmd)
            return real_call(cmd, data, **kwargs)

        dev.call = counting_call
        options, _ = server.register_begin({"id": b"u", "name": "u"}, authenticator_attachment="platform")
        with pytest.raises(ClientError) as e:  # WebAuthn L3 §5.1.3 step 20: a roaming key is skipped
            await client.make_credential(options["publicKey"])
        assert e.value.code == ClientError.ERR.DEVICE_INELIGIBLE
        assert calls == []  # the authenticator was not asked
        options, _ = server.register_begin({"id": b"u", "name": "u"}, authenticator_attachment="cross-platform")
        await client.make_credential(options["publicKey"])
        assert calls  # this one it was


async def test_empty_pub_key_cred_params_mean_es256_and_rs256(monkeypatch: pytest.MonkeyPatch) -> None:
    sent: list[list[Any]] = []
    real = Ctap2.make_credential

    async def recording(
        self: Ctap2, client_data_hash: bytes, rp: Any, user: Any, key_params: Any, *a: Any, **k: Any
    ) -> Any:
        sent.append(list(key_params))
        return await real(self, client_data_hash, rp, user, key_params, *a, **k)

    monkeypatch.setattr(Ctap2, "make_credential", recording)
    server = Fido2Server(RP)
    async with device() as dev:
        client = await client_for(dev)
        options, state = server.register_begin({"id": b"u", "name": "u"})
        result = await client.make_credential({**options["publicKey"], "pubKeyCredParams": []})
        assert server.register_complete(state, result).credential_data.public_key[3] == -7
    assert sent == [[{"type": "public-key", "alg": -7}, {"type": "public-key", "alg": -257}]]  # L3 §5.1.3 step 10
