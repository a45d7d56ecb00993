"""CTAP 2.1 PIN/UV auth protocols 1 and 2: python-fido2's host against aioctap's authenticator, and aioctap's
host reading what python-fido2 did; plus the protocols' primitives compared function by function (§6.5.6, 6.5.7).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from fido2.ctap import CtapError as Fido2CtapError
from fido2.ctap2.base import Ctap2 as Fido2Ctap2
from fido2.ctap2.pin import ClientPin as Fido2ClientPin
from fido2.ctap2.pin import PinProtocolV1 as Fido2V1
from fido2.ctap2.pin import PinProtocolV2 as Fido2V2
from hypothesis import given, settings
from hypothesis import strategies as st

import aioctap
from aioctap.cose import EcdhEsHkdf256
from aioctap.ctap import CtapError
from aioctap.ctap2 import ClientPin, Ctap2, PinProtocolV1, PinProtocolV2
from aioctap.ctap2.pin import PinProtocol

PIN, NEW_PIN = "first-PIN-1234", "second-PIN-5678"
CDH = hashlib.sha256(b"interop client data").digest()
RP = {"id": "example.com", "name": "Example"}
ES256: list[Mapping[str, Any]] = [{"type": "public-key", "alg": -7}]
OURS: dict[int, type[PinProtocol]] = {1: PinProtocolV1, 2: PinProtocolV2}
THEIRS: dict[int, Any] = {1: Fido2V1, 2: Fido2V2}
FIDO2_ERR = Fido2CtapError.ERR


def fido2_status(call: Any) -> int:
    with pytest.raises(Fido2CtapError) as e:
        call()
    return int(e.value.code)


async def our_retries(address: str, version: int) -> tuple[int, bool | None]:
    async with aioctap.open_device(address) as dev:
        return await ClientPin(await Ctap2.create(dev), OURS[version]()).get_pin_retries()


@pytest.mark.parametrize("version", [1, 2])
async def test_fido2_sets_changes_and_uses_pin_aioctap_reads_retries(authenticator: Any, version: int) -> None:
    with authenticator.fido2_device() as dev:
        ctap = Fido2Ctap2(dev)
        cp = Fido2ClientPin(ctap, THEIRS[version]())
        cp.set_pin(PIN)
        assert Fido2Ctap2(dev).get_info().options["clientPin"] is True
        assert await our_retries(authenticator.address, version) == (8, False)
        assert cp.get_pin_retries()[0] == 8

        for left in (7, 6):
            assert fido2_status(lambda: cp.get_pin_token("not-the-PIN")) == FIDO2_ERR.PIN_INVALID
            assert cp.get_pin_retries()[0] == left
            assert (await our_retries(authenticator.address, version))[0] == left

        cp.change_pin(PIN, NEW_PIN)  # a correct PIN resets the retries (§6.5.5.6 step 9)
        assert (await our_retries(authenticator.address, version))[0] == 8
        assert fido2_status(lambda: cp.get_pin_token(PIN)) == FIDO2_ERR.PIN_INVALID

        # a token with permissions (getPinUvAuthTokenUsingPinWithPermissions) and the legacy getPinToken
        for permissions in (Fido2ClientPin.PERMISSION.MAKE_CREDENTIAL, None):
            token = cp.get_pin_token(NEW_PIN, permissions, "example.com" if permissions else None)
            # aioctap's protocol computes the pinUvAuthParam for python-fido2's token: the authenticator agrees
            param = OURS[version]().authenticate(token, CDH)
            assert param == cp.protocol.authenticate(token, CDH)
            att = ctap.make_credential(
                CDH, RP, {"id": b"u" + bytes([version]), "name": "u"}, ES256,
                pin_uv_param=param, pin_uv_protocol=version,
            )  # fmt: skip
            assert att.auth_data.is_user_verified()

        # aioctap's host gets a token with the same PIN: a new token, python-fido2's old one stops working
        async with aioctap.open_device(authenticator.address) as our_dev:
            ours = ClientPin(await Ctap2.create(our_dev), OURS[version]())
            our_token = await ours.get_pin_token(NEW_PIN, ClientPin.PERMISSION.MAKE_CREDENTIAL, "example.com")
            assert our_token != token
            with pytest.raises(CtapError) as e:
                await ours.get_pin_token(PIN)
            assert e.value.code == CtapError.ERR.PIN_INVALID
        stale = cp.protocol.authenticate(token, CDH)
        status = fido2_status(
            lambda: ctap.make_credential(
                CDH, RP, {"id": b"v", "name": "v"}, ES256, pin_uv_param=stale, pin_uv_protocol=version
            )
        )
        assert status == FIDO2_ERR.PIN_AUTH_INVALID
        ctap.make_credential(
            CDH, RP, {"id": b"w", "name": "w"}, ES256,
            pin_uv_param=cp.protocol.authenticate(our_token, CDH), pin_uv_protocol=version,
        )  # fmt: skip


async def test_pin_blocked_until_power_cycle_seen_by_both_hosts(authenticator: Any) -> None:
    with authenticator.fido2_device() as dev:
        cp = Fido2ClientPin(Fido2Ctap2(dev), Fido2V1())
        cp.set_pin(PIN)
        for _ in range(2):
            assert fido2_status(lambda: cp.get_pin_token("wrong-PIN-0")) == FIDO2_ERR.PIN_INVALID
        # the third wrong PIN in a row (§6.5.5.5 step 6): PIN_AUTH_BLOCKED until the next power cycle
        assert fido2_status(lambda: cp.get_pin_token("wrong-PIN-0")) == FIDO2_ERR.PIN_AUTH_BLOCKED
        assert fido2_status(lambda: cp.get_pin_token(PIN)) == FIDO2_ERR.PIN_AUTH_BLOCKED
        retries, power_cycle = cp.get_pin_retries()
    assert retries == 5 and power_cycle
    assert await our_retries(authenticator.address, 2) == (5, True)
    authenticator.power_cycle()
    assert await our_retries(authenticator.address, 2) == (5, False)
    with authenticator.fido2_device() as dev:
        cp = Fido2ClientPin(Fido2Ctap2(dev), Fido2V2())
        assert len(cp.get_pin_token(PIN, Fido2ClientPin.PERMISSION.GET_ASSERTION, "example.com")) == 32
        assert cp.get_pin_retries()[0] == 8


async def test_aioctap_sets_pin_python_fido2_uses_it(authenticator: Any) -> None:
    async with aioctap.open_device(authenticator.address) as dev:
        await ClientPin(await Ctap2.create(dev), PinProtocolV1()).set_pin(PIN)
    with authenticator.fido2_device() as dev:
        ctap = Fido2Ctap2(dev)
        protocols: list[Any] = [Fido2V1(), Fido2V2()]
        for proto in protocols:
            cp = Fido2ClientPin(ctap, proto)
            token = cp.get_pin_token(PIN, Fido2ClientPin.PERMISSION.MAKE_CREDENTIAL, "example.com")
            ctap.make_credential(
                CDH, RP, {"id": b"x", "name": "x"}, ES256,
                pin_uv_param=proto.authenticate(token, CDH), pin_uv_protocol=proto.VERSION,
            )  # fmt: skip
        Fido2ClientPin(ctap, Fido2V2()).change_pin(PIN, NEW_PIN)
    async with aioctap.open_device(authenticator.address) as dev:
        ours = ClientPin(await Ctap2.create(dev))
        assert ours.protocol.VERSION == 2  # the authenticator's first choice
        assert len(await ours.get_pin_token(NEW_PIN, ClientPin.PERMISSION.GET_ASSERTION, "example.com")) == 32


# -- the primitives, side by side ------------------------------------------------------------------------


@settings(max_examples=60, deadline=None, derandomize=True)
@given(
    version=st.sampled_from([1, 2]),
    z=st.binary(min_size=32, max_size=32),
    blocks=st.integers(1, 5),
    data=st.data(),
)
def test_primitives_agree_with_python_fido2(version: int, z: bytes, blocks: int, data: st.DataObject) -> None:
    ours, theirs = OURS[version](), THEIRS[version]()
    key = ours.kdf(z)
    assert key == theirs.kdf(z)
    assert len(key) == (32 if version == 1 else 64)
    plaintext = data.draw(st.binary(min_size=16 * blocks, max_size=16 * blocks))
    message = data.draw(st.binary(max_size=200))
    assert ours.authenticate(key, message) == theirs.authenticate(key, message)
    assert theirs.decrypt(key, ours.encrypt(key, plaintext)) == plaintext
    assert ours.decrypt(key, theirs.encrypt(key, plaintext)) == plaintext
    if version == 1:  # a zero IV: the ciphertexts themselves are equal
        assert ours.encrypt(key, plaintext) == theirs.encrypt(key, plaintext)
    token = data.draw(st.binary(min_size=32, max_size=32))
    assert ours.validate_token(token) == theirs.validate_token(token)


@pytest.mark.parametrize("version", [1, 2])
def test_key_agreement_both_directions(version: int) -> None:
    """Each side's encapsulate gives the secret the other derives with its private key (§6.5.6 ecdh)."""
    ours, theirs = OURS[version](), THEIRS[version]()
    authenticator_key = ec.generate_private_key(ec.SECP256R1())
    peer = dict(EcdhEsHkdf256.from_cryptography_key(authenticator_key.public_key()))
    for encapsulate in (ours.encapsulate, theirs.encapsulate):
        key_agreement, shared = encapsulate(peer)
        assert key_agreement[1] == 2 and key_agreement[3] == -25 and key_agreement[-1] == 1
        assert ours.ecdh(authenticator_key, dict(key_agreement)) == shared
