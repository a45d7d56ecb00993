"""aioctap's WebAuthnClient + ``aioctap virtual`` make credentials that python-fido2 and py_webauthn accept.

Options come from python-fido2's Fido2Server (its JSON form goes to aioctap's client). Where an extension's
result can be computed by another client, python-fido2's Fido2Client does the same ceremony against the same
authenticator and the client extension results must be equal (credProps, hmacCreateSecret, hmacGetSecret and
prf outputs are deterministic for a given credential and salt).
"""

from __future__ import annotations

import hashlib
from typing import Any, cast

import anyio.to_thread
import pytest
from cryptography.hazmat.primitives import serialization
from fido2.client import DefaultClientDataCollector, Fido2Client, UserInteraction
from fido2.ctap2.extensions import CredPropsExtension, CredProtectExtension, HmacSecretExtension

import aioctap
from aioctap.client import WebAuthnClient
from aioctap.cose import CoseKey
from aioctap.ctap import CtapDevice
from aioctap.ctap2 import ClientPin, Ctap2
from aioctap.hid.protocol import CAPABILITY
from aioctap.webauthn import websafe_decode, websafe_encode

ORIGIN = "https://example.com"
PIN = "4711-interop"
REJECTED_BY_ALL = {"python-fido2": "rejected", "py_webauthn": "rejected", "aioctap": "rejected"}


class PinInteraction(UserInteraction):
    def request_pin(self, permissions: Any, rp_id: Any) -> str:
        return PIN


def fido2_client(dev: Any) -> Any:
    extensions = [cast(Any, HmacSecretExtension)(allow_hmac_secret=True), CredProtectExtension(), CredPropsExtension()]
    return Fido2Client(dev, DefaultClientDataCollector(ORIGIN), PinInteraction(), extensions)


def check_public_key_members(registration: dict[str, Any]) -> None:
    """getPublicKey() / getPublicKeyAlgorithm(): the SPKI and the algorithm are those of the attested key."""
    import fido2.webauthn

    att_obj = fido2.webauthn.AttestationObject(websafe_decode(registration["response"]["attestationObject"]))
    cred = att_obj.auth_data.credential_data
    assert cred is not None
    assert registration["response"]["publicKeyAlgorithm"] == cred.public_key[3]
    spki = serialization.load_der_public_key(websafe_decode(registration["response"]["publicKey"]))
    cose = CoseKey.for_alg(cred.public_key[3]).from_cryptography_key(spki)
    assert dict(cose) == dict(cred.public_key)


@pytest.mark.parametrize("alg", [-7, -8], ids=["ES256", "EdDSA"])
@pytest.mark.parametrize("with_pin", [False, True], ids=["no-pin", "pin"])
async def test_aioctap_client_credentials_accepted_by_all(
    authenticator: Any, three_rps: Any, alg: int, with_pin: bool
) -> None:
    rp = three_rps(authenticator.root_der, algorithms=(alg,))
    uv = "required" if with_pin else "discouraged"
    async with aioctap.open_device(authenticator.address) as dev:
        if with_pin:
            await ClientPin(await Ctap2.create(dev)).set_pin(PIN)
        client = WebAuthnClient(dev, ORIGIN, pin=PIN if with_pin else None)
        registration = await client.create(dict(rp.register_begin(b"carol", user_verification=uv)))
        check_public_key_members(registration)
        registered = rp.register_complete(registration)
        assert registered.aioctap.alg == alg and registered.user_verified is with_pin
        assert registered.aioctap.attestation_trusted
        for _ in range(2):
            assertion = await client.get(dict(rp.authenticate_begin(user_verification=uv)))
            for member in ("clientDataJSON", "authenticatorData", "signature"):
                raw = bytearray(websafe_decode(assertion["response"][member]))
                raw[len(raw) // 2] ^= 0x80
                forged = {**assertion, "response": {**assertion["response"], member: websafe_encode(bytes(raw))}}
                assert rp.authenticate_outcomes(forged) == REJECTED_BY_ALL, member
            result = rp.authenticate_complete(assertion)
            assert result.user_verified is with_pin and result.user_present


async def test_discoverable_credential_user_handle(authenticator: Any, three_rps: Any) -> None:
    rp = three_rps(authenticator.root_der, algorithms=(-8, -7))
    async with aioctap.open_device(authenticator.address) as dev:
        await ClientPin(await Ctap2.create(dev)).set_pin(PIN)
        client = WebAuthnClient(dev, ORIGIN, pin=PIN)
        options = dict(rp.register_begin(b"\x00dave\xff", resident_key="required", extensions={"credProps": True}))
        registration = await client.create(options)
        assert registration["clientExtensionResults"] == {"credProps": {"rk": True}}
        registered = rp.register_complete(registration)
        assert registered.aioctap.alg == -8  # the RP's first choice
        assertion = await client.get(dict(rp.authenticate_begin(discoverable=True, user_verification="required")))
        assert websafe_decode(assertion["response"]["userHandle"]) == b"\x00dave\xff"
        assert rp.authenticate_complete(assertion).user_handle == b"\x00dave\xff"


async def test_extension_results_equal_python_fido2_client(authenticator: Any, three_rps: Any) -> None:
    """Same options, same authenticator: aioctap's client and python-fido2's give the same extension results,
    the authenticator's extension outputs parse the same in python-fido2 and aioctap, and hmac-secret / prf
    outputs for the same credential and salts are equal whichever client computed them (they decrypt what
    the authenticator encrypted under each client's own shared secret)."""
    rp = three_rps(authenticator.root_der)
    create_ext = {
        "credProps": True,
        "credentialProtectionPolicy": "userVerificationOptionalWithCredentialIDList",
        "hmacCreateSecret": True,
    }
    async with aioctap.open_device(authenticator.address) as dev:
        client = WebAuthnClient(dev, ORIGIN)
        ours = await client.create(dict(rp.register_begin(b"erin", resident_key="required", extensions=create_ext)))
        registered = rp.register_complete(ours)
        with authenticator.fido2_device() as fdev:
            theirs_client = fido2_client(fdev)
            options = rp.register_begin(b"frank", resident_key="required", extensions=create_ext)
            theirs = dict(await anyio.to_thread.run_sync(theirs_client.make_credential, options.public_key))
        other = rp.register_complete(theirs)
        assert ours["clientExtensionResults"] == theirs["clientExtensionResults"]
        assert ours["clientExtensionResults"] == {"credProps": {"rk": True}, "hmacCreateSecret": True}
        for cred in (registered, other):
            assert cred.fido2_credential is not None
            assert cred.extensions == {"credProtect": 2, "hmac-secret": True}

        salt1, salt2 = hashlib.sha256(b"salt one").digest(), hashlib.sha256(b"salt two").digest()
        get_ext: dict[str, Any] = {
            "hmacGetSecret": {"salt1": websafe_encode(salt1), "salt2": websafe_encode(salt2)},
        }
        prf_ext: dict[str, Any] = {"prf": {"eval": {"first": websafe_encode(b"first input")}}}
        for ext in (get_ext, prf_ext):
            ours_get = await client.get(dict(rp.authenticate_begin(extensions=ext, only=registered)))
            rp.authenticate_complete(ours_get)
            with authenticator.fido2_device() as fdev:
                theirs_client = fido2_client(fdev)
                options = rp.authenticate_begin(extensions=ext, only=registered)
                selection = await anyio.to_thread.run_sync(theirs_client.get_assertion, options.public_key)
                theirs_get = dict(selection.get_response(0))
            rp.authenticate_complete(theirs_get)
            assert ours_get["clientExtensionResults"], ext
            assert ours_get["clientExtensionResults"] == without_empty(theirs_get["clientExtensionResults"])
        outputs = ours_get["clientExtensionResults"]["prf"]["results"]
        assert len(websafe_decode(outputs["first"])) == 32 and "second" not in outputs  # no second input


def without_empty(results: dict[str, Any]) -> dict[str, Any]:
    """python-fido2 2.2.1 serializes an absent prf ``results.second`` as ``"second": []``; drop such members."""
    return {k: without_empty(v) if isinstance(v, dict) else v for k, v in results.items() if v != []}


async def test_cred_blob_and_large_blob_across_clients(authenticator: Any, three_rps: Any) -> None:
    """credBlob (CTAP 2.1 §12.2) and largeBlob (WebAuthn L3 §10.1.5 over the large-blob array, §6.10): what one
    client stores the other reads back, and both report the same client extension results."""
    rp = three_rps(authenticator.root_der)
    uv = "required"

    def create_ext(blob: bytes) -> dict[str, Any]:
        return {"credBlob": blob, "largeBlob": {"support": "required"}}

    async with aioctap.open_device(authenticator.address) as dev:
        await ClientPin(await Ctap2.create(dev)).set_pin(PIN)
        client = WebAuthnClient(dev, ORIGIN, pin=PIN)
        options = rp.register_begin(b"gina", user_verification=uv, resident_key="required",
                                    extensions=create_ext(b"blob of gina"))  # fmt: skip
        ours_reg = await client.create(dict(options))
        ours = rp.register_complete(ours_reg)
        with authenticator.fido2_device() as fdev:
            fclient = Fido2Client(
                fdev, DefaultClientDataCollector(ORIGIN), PinInteraction(), extensions=all_fido2_extensions()
            )
            options = rp.register_begin(b"hank", user_verification=uv, resident_key="required",
                                        extensions=create_ext(b"blob of hank"))  # fmt: skip
            theirs_reg = dict(await anyio.to_thread.run_sync(fclient.make_credential, options.public_key))
            theirs = rp.register_complete(theirs_reg)
            # CTAP 2.1 §12.2: the credBlob client output is a boolean "stored"; python-fido2 2.2.1 reports nothing
            assert ours_reg["clientExtensionResults"] == {"credBlob": True, "largeBlob": {"supported": True}}
            assert without_empty(theirs_reg["clientExtensionResults"]) == {"largeBlob": {"supported": True}}

            async def ours_get(cred: Any, ext: dict[str, Any]) -> dict[str, Any]:
                assertion = await client.get(dict(rp.authenticate_begin(user_verification=uv, extensions=ext,
                                                                        only=cred)))  # fmt: skip
                result = rp.authenticate_complete(assertion)
                return {**assertion["clientExtensionResults"], "authData": result.extensions}

            async def theirs_get(cred: Any, ext: dict[str, Any]) -> dict[str, Any]:
                options = rp.authenticate_begin(user_verification=uv, extensions=ext, only=cred)
                selection = await anyio.to_thread.run_sync(fclient.get_assertion, options.public_key)
                assertion = dict(selection.get_response(0))
                result = rp.authenticate_complete(assertion)
                return {**without_empty(dict(assertion["clientExtensionResults"])), "authData": result.extensions}

            for cred, blob in ((ours, b"blob of gina"), (theirs, b"blob of hank")):
                # the authenticator returns the blob whichever client asked; python-fido2 2.2.1 does not pass it on
                # as the getCredBlob client output (CTAP 2.1 §12.2), aioctap does
                from_ours = await ours_get(cred, {"getCredBlob": True})
                assert from_ours == {"getCredBlob": websafe_encode(blob), "authData": {"credBlob": blob}}
                assert await theirs_get(cred, {"getCredBlob": True}) == {"authData": {"credBlob": blob}}

            written = {"largeBlob": {"written": True}, "authData": None}
            assert await ours_get(ours, {"largeBlob": {"write": b"written by aioctap"}}) == written
            assert await theirs_get(theirs, {"largeBlob": {"write": b"written by python-fido2"}}) == written
            for get in (ours_get, theirs_get):
                for cred, blob in ((ours, b"written by aioctap"), (theirs, b"written by python-fido2")):
                    assert await get(cred, {"largeBlob": {"read": True}}) == {
                        "largeBlob": {"blob": websafe_encode(blob)},
                        "authData": None,
                    }


def all_fido2_extensions() -> list[Any]:
    from fido2.ctap2.extensions import CredBlobExtension, LargeBlobExtension

    return [cast(Any, HmacSecretExtension)(allow_hmac_secret=True), CredProtectExtension(), CredPropsExtension(),
            CredBlobExtension(), LargeBlobExtension()]  # fmt: skip


async def test_py_webauthn_options_drive_aioctap_client(authenticator: Any) -> None:
    """py_webauthn's generate_*_options JSON (hints, requireResidentKey, empty allowCredentials) is understood by
    aioctap's client, and py_webauthn then verifies what came back (attestation chained to the root)."""
    import webauthn
    from webauthn.helpers import structs

    async with aioctap.open_device(authenticator.address) as dev:
        await ClientPin(await Ctap2.create(dev)).set_pin(PIN)
        client = WebAuthnClient(dev, ORIGIN, pin=PIN)
        options = webauthn.generate_registration_options(
            rp_id="example.com", rp_name="Example", user_name="ivy", user_id=b"ivy-handle",
            attestation=structs.AttestationConveyancePreference.DIRECT,
            authenticator_selection=structs.AuthenticatorSelectionCriteria(
                resident_key=structs.ResidentKeyRequirement.REQUIRED,
                user_verification=structs.UserVerificationRequirement.REQUIRED,
            ),
            hints=[structs.PublicKeyCredentialHint.SECURITY_KEY],
        )  # fmt: skip
        registration = await client.create(webauthn.options_to_json(options))
        verified = webauthn.verify_registration_response(
            credential=registration, expected_challenge=options.challenge, expected_rp_id="example.com",
            expected_origin=ORIGIN, require_user_verification=True,
            pem_root_certs_bytes_by_fmt={structs.AttestationFormat.PACKED: [authenticator.root_pem]},
        )  # fmt: skip
        assert verified.fmt == structs.AttestationFormat.PACKED and verified.user_verified
        assert verified.credential_public_key == cbor_key_of(registration)  # the key as the attestation holds it
        sign_count = verified.sign_count
        for _ in range(2):
            request = webauthn.generate_authentication_options(rp_id="example.com")  # discoverable, uv preferred
            assertion = await client.get(webauthn.options_to_json(request))
            assert websafe_decode(assertion["response"]["userHandle"]) == b"ivy-handle"
            result = webauthn.verify_authentication_response(
                credential=assertion, expected_challenge=request.challenge, expected_rp_id="example.com",
                expected_origin=ORIGIN, credential_public_key=verified.credential_public_key,
                credential_current_sign_count=sign_count, require_user_verification=True,
            )  # fmt: skip
            assert result.new_sign_count > sign_count and result.user_verified
            sign_count = result.new_sign_count


def cbor_key_of(registration: dict[str, Any]) -> bytes:
    from aioctap import cbor
    from aioctap.webauthn import AuthenticatorData

    att_obj = cbor.loads(websafe_decode(registration["response"]["attestationObject"]))
    cred = AuthenticatorData(att_obj["authData"]).credential_data
    assert cred is not None
    return cbor.dumps(dict(cred.public_key))


async def test_built_in_uv_enrolled_by_python_fido2(authenticator: Any, three_rps: Any) -> None:
    """python-fido2 sets a PIN and enrolls a fingerprint (authenticatorBioEnrollment); then both clients get UV
    from the built-in sensor (getPinUvAuthTokenUsingUvWithPermissions, no PIN asked) and all three verify UV."""
    from fido2.ctap2.base import Ctap2 as Fido2Ctap2
    from fido2.ctap2.bio import FPBioEnrollment
    from fido2.ctap2.pin import ClientPin as Fido2ClientPin

    with authenticator.fido2_device() as fdev:
        ctap = Fido2Ctap2(fdev)
        client_pin = Fido2ClientPin(ctap)
        client_pin.set_pin(PIN)
        token = client_pin.get_pin_token(PIN, Fido2ClientPin.PERMISSION.BIO_ENROLL)
        enrollment = FPBioEnrollment(ctap, client_pin.protocol, token).enroll()
        while enrollment.capture() is None:
            pass
        assert Fido2Ctap2(fdev).get_info().options["uv"] is True

        class NoPin(UserInteraction):
            def request_pin(self, permissions: Any, rp_id: Any) -> str:
                raise AssertionError("the PIN must not be needed: built-in UV is there")

        rp = three_rps(authenticator.root_der)
        fclient = Fido2Client(fdev, DefaultClientDataCollector(ORIGIN), NoPin())
        options = rp.register_begin(b"jane", user_verification="required")
        theirs = rp.register_complete(dict(await anyio.to_thread.run_sync(fclient.make_credential, options.public_key)))
        assert theirs.user_verified
    async with aioctap.open_device(authenticator.address) as dev:
        client = WebAuthnClient(dev, ORIGIN)  # no PIN given: asking for one would fail the test
        ours = rp.register_complete(await client.create(dict(rp.register_begin(b"kim", user_verification="required"))))
        assert ours.user_verified
        for cred in (ours, theirs):
            request = rp.authenticate_begin(user_verification="required", only=cred)
            assert rp.authenticate_complete(await client.get(dict(request))).user_verified


async def test_prf_at_creation_equals_prf_at_assertion(authenticator: Any, three_rps: Any) -> None:
    """prf with eval at create (hmac-secret-mc, CTAP 2.2 §12.7) gives the value a later get with the same input
    gives (same UV state): for aioctap's client and for python-fido2's, each on its own credential."""
    rp = three_rps(authenticator.root_der)
    prf_input = {"prf": {"eval": {"first": websafe_encode(b"the prf input")}}}
    async with aioctap.open_device(authenticator.address) as dev:
        client = WebAuthnClient(dev, ORIGIN)
        ours_reg = await client.create(dict(rp.register_begin(b"lena", extensions=prf_input)))
        ours = rp.register_complete(ours_reg)
        ours_get = await client.get(dict(rp.authenticate_begin(extensions=prf_input, only=ours)))
        rp.authenticate_complete(ours_get)
        with authenticator.fido2_device() as fdev:
            fclient = fido2_client(fdev)
            options = rp.register_begin(b"mike", extensions=prf_input)
            theirs_reg = dict(await anyio.to_thread.run_sync(fclient.make_credential, options.public_key))
            theirs = rp.register_complete(theirs_reg)
            options = rp.authenticate_begin(extensions=prf_input, only=theirs)
            selection = await anyio.to_thread.run_sync(fclient.get_assertion, options.public_key)
            theirs_get = dict(selection.get_response(0))
            rp.authenticate_complete(theirs_get)
    for reg, get in ((ours_reg, ours_get), (theirs_reg, theirs_get)):
        created = without_empty(reg["clientExtensionResults"])["prf"]
        assert created["enabled"] is True
        assert created["results"] == without_empty(get["clientExtensionResults"])["prf"]["results"]
    assert set(ours_reg["clientExtensionResults"]["prf"]) == {"enabled", "results"}
    assert (
        ours_get["clientExtensionResults"]["prf"]["results"] != theirs_get["clientExtensionResults"]["prf"]["results"]
    )


class AioctapU2fOnly(CtapDevice):
    """An aioctap device shown as a U2F-only key: aioctap's client then registers and signs in over CTAP1."""

    def __init__(self, inner: CtapDevice) -> None:
        self.inner = inner

    @property
    def capabilities(self) -> int:
        return int(self.inner.capabilities) & ~int(CAPABILITY.CBOR)

    async def call(self, cmd: int, data: bytes = b"", *, on_keepalive: Any = None) -> bytes:
        return await self.inner.call(cmd, data, on_keepalive=on_keepalive)


async def test_aioctap_client_over_u2f_accepted_by_all(authenticator: Any, three_rps: Any) -> None:
    """The fido-u2f attestation object and the U2F assertion that aioctap's client builds from CTAP1 answers
    (§6.5.1 zero AAGUID, the COSE form of the raw key, §8.6) verify everywhere, chain included."""
    rp = three_rps(authenticator.root_der, attestation="direct")
    async with aioctap.open_device(authenticator.address) as dev:
        client = WebAuthnClient(AioctapU2fOnly(dev), ORIGIN)
        registration = await client.create(dict(rp.register_begin(b"nina")))
        registered = rp.register_complete(registration)
        assert registered.aioctap.fmt == "fido-u2f" and registered.aioctap.attestation_trusted
        assert bytes(registered.aioctap.aaguid) == bytes(16)
        check_public_key_members(registration)
        for _ in range(2):
            assertion = await client.get(dict(rp.authenticate_begin()))
            assert rp.authenticate_complete(assertion).user_present


async def test_hmac_secret_with_and_without_uv(authenticator: Any, three_rps: Any) -> None:
    """CTAP 2.1 §12.5: CredRandomWithUV and CredRandomWithoutUV differ; each client gets the one its UV state
    selects, and for the same state both clients get the same output."""
    rp = three_rps(authenticator.root_der)
    salt = {"hmacGetSecret": {"salt1": websafe_encode(hashlib.sha256(b"uv or not").digest())}}
    async with aioctap.open_device(authenticator.address) as dev:
        await ClientPin(await Ctap2.create(dev)).set_pin(PIN)
        client = WebAuthnClient(dev, ORIGIN, pin=PIN)
        cred = rp.register_complete(
            await client.create(dict(rp.register_begin(b"olga", extensions={"hmacCreateSecret": True})))
        )
        outputs: dict[tuple[str, str], str] = {}
        with authenticator.fido2_device() as fdev:
            fclient = fido2_client(fdev)
            for uv in ("discouraged", "required"):
                ours = await client.get(dict(rp.authenticate_begin(user_verification=uv, extensions=salt, only=cred)))
                assert rp.authenticate_complete(ours).user_verified is (uv == "required")
                outputs["aioctap", uv] = ours["clientExtensionResults"]["hmacGetSecret"]["output1"]
                options = rp.authenticate_begin(user_verification=uv, extensions=salt, only=cred)
                selection = await anyio.to_thread.run_sync(fclient.get_assertion, options.public_key)
                theirs = dict(selection.get_response(0))
                rp.authenticate_complete(theirs)
                outputs["python-fido2", uv] = theirs["clientExtensionResults"]["hmacGetSecret"]["output1"]
    assert outputs["aioctap", "required"] == outputs["python-fido2", "required"]
    assert outputs["aioctap", "discouraged"] == outputs["python-fido2", "discouraged"]
    assert outputs["aioctap", "required"] != outputs["aioctap", "discouraged"]


async def test_always_uv_set_by_python_fido2(authenticator: Any, three_rps: Any) -> None:
    """python-fido2 turns on alwaysUv (authenticatorConfig toggleAlwaysUv, CTAP 2.1 §6.11.2); then even an RP that
    discourages UV gets UV from aioctap's client, and all three verifiers see the UV flag."""
    from fido2.ctap2.base import Ctap2 as Fido2Ctap2
    from fido2.ctap2.config import Config
    from fido2.ctap2.pin import ClientPin as Fido2ClientPin

    with authenticator.fido2_device() as fdev:
        ctap = Fido2Ctap2(fdev)
        client_pin = Fido2ClientPin(ctap)
        client_pin.set_pin(PIN)
        token = client_pin.get_pin_token(PIN, Fido2ClientPin.PERMISSION.AUTHENTICATOR_CFG)
        Config(ctap, client_pin.protocol, token).toggle_always_uv()
        info = Fido2Ctap2(fdev).get_info()
        assert info.options["alwaysUv"] is True and "U2F_V2" not in info.versions
    rp = three_rps(authenticator.root_der)
    async with aioctap.open_device(authenticator.address) as dev:
        client = WebAuthnClient(dev, ORIGIN, pin=PIN)
        registered = rp.register_complete(await client.create(dict(rp.register_begin(b"petra"))))
        assert registered.user_verified
        assertion = await client.get(dict(rp.authenticate_begin()))
        assert rp.authenticate_complete(assertion).user_verified
