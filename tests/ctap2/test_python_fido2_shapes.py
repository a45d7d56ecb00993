"""python-fido2's shapes that its own unit tests (test_ctap2.py) rely on: ``info[key]``, ``send_cbor`` of any CBOR
value, commands that encode their arguments as given, ClientPin's keyword calls of ``ctap.client_pin``."""

from __future__ import annotations

from unittest import mock

import pytest

from aioctap import cbor
from aioctap.ctap2 import ClientPin, Ctap2, Info, PinProtocolV1
from aioctap.webauthn import Aaguid

INFO = {1: ["U2F_V2", "FIDO_2_0"], 2: ["hmac-secret"], 3: b"\x01" * 16, 4: {"rk": True}, 5: 1200, 6: [1]}


def test_info_is_indexed_by_cbor_key() -> None:
    info = Info.from_dict(INFO)
    assert info[0x01] == ["U2F_V2", "FIDO_2_0"] and info[0x02] == ["hmac-secret"]
    assert info[0x03] == b"\x01" * 16 and isinstance(info[0x03], Aaguid)
    assert info[0x04] == {"rk": True} and info[0x05] == 1200 and info[0x06] == [1]
    assert info[0x16] == ["packed"]  # attestationFormats' default
    for absent in (0x07, 0, 32, -1):  # None members and keys beyond the last are KeyError
        with pytest.raises(KeyError):
            info[absent]


def _device(answer: bytes) -> mock.AsyncMock:
    device = mock.AsyncMock()
    device.call.return_value = answer
    return device


async def test_send_cbor_encodes_any_value() -> None:
    ctap = Ctap2(_device(b"\x00" + cbor.encode({1: b"response"})))
    assert await ctap.send_cbor(2, b"foobar") == {1: b"response"}  # type: ignore[arg-type]
    ctap.device.call.assert_called_with(0x10, b"\x02" + cbor.encode(b"foobar"), on_keepalive=None)  # type: ignore[attr-defined]


async def test_commands_encode_their_arguments_as_given() -> None:
    ctap = Ctap2(_device(b"\x00" + cbor.encode({1: "none", 2: bytes(37), 3: {}})))
    await ctap.make_credential(1, 2, 3, 4)  # type: ignore[arg-type]
    ctap.device.call.assert_called_with(0x10, b"\x01" + cbor.encode({1: 1, 2: 2, 3: 3, 4: 4}), on_keepalive=None)  # type: ignore[attr-defined]
    rp = {"id": "example.com"}
    await ctap.make_credential(b"h", rp, {"id": b"u"}, ({"type": "public-key", "alg": -7},))
    sent = cbor.decode(ctap.device.call.call_args[0][1][1:])  # type: ignore[attr-defined]
    assert sent == {1: b"h", 2: rp, 3: {"id": b"u"}, 4: [{"type": "public-key", "alg": -7}]}


SHARED = bytes(range(32))


async def test_set_and_change_pin_call_client_pin_with_python_fido2s_keywords() -> None:
    ctap = mock.AsyncMock()
    pin = ClientPin(ctap, PinProtocolV1())
    with mock.patch.object(pin, "_get_shared_secret", return_value=({}, SHARED)):
        await pin.set_pin("1234")
        assert set(ctap.client_pin.call_args.kwargs) == {"key_agreement", "new_pin_enc", "pin_uv_param"}
        await pin.change_pin("1234", "4321")
        kwargs = ctap.client_pin.call_args.kwargs
        assert set(kwargs) == {"key_agreement", "new_pin_enc", "pin_uv_param", "pin_hash_enc"}
        protocol = PinProtocolV1()
        assert kwargs["pin_uv_param"] == protocol.authenticate(SHARED, kwargs["new_pin_enc"] + kwargs["pin_hash_enc"])
    assert ctap.client_pin.call_args.args == (1, ClientPin.CMD.CHANGE_PIN)


async def test_fido2_client_uses_the_patchable_ctap2_and_its_backends_ctap1() -> None:
    """python-fido2's tests patch ``fido2.client.Ctap2`` and set ``client._backend.ctap1``: both work here."""
    import hashlib

    from aioctap.client import DefaultClientDataCollector, Fido2Client
    from aioctap.ctap1 import Ctap1
    from aioctap.hid import CAPABILITY
    from aioctap.virtual import VirtualAuthenticator, open_virtual_device

    collector = DefaultClientDataCollector("https://example.com")
    options = {
        "rp": {"id": "example.com", "name": "Example"},
        "user": {"id": b"user", "name": "user"},
        "challenge": b"challenge-challenge",
        "pubKeyCredParams": [{"type": "public-key", "alg": -7}],
    }
    ctap2 = mock.AsyncMock()
    ctap2.get_info.return_value = Info.from_dict(INFO)
    with mock.patch("aioctap.client.Ctap2", return_value=ctap2) as patched:
        device = mock.Mock(capabilities=CAPABILITY.CBOR)
        client = await Fido2Client(device, collector)
        patched.assert_called_once_with(device)
        assert client.info == ctap2.get_info.return_value and client._ctap2 is ctap2
    auth = VirtualAuthenticator()
    auth.capabilities = CAPABILITY.WINK  # no CBOR: a U2F-only key
    async with open_virtual_device(authenticator=auth) as dev:
        client = await Fido2Client(dev, collector)
        assert isinstance(client._backend.ctap1, Ctap1) and client.info.versions == ["U2F_V2"]
        spy = mock.AsyncMock(wraps=client._backend.ctap1)
        client._backend.ctap1 = spy
        result = await client.make_credential({**options, "attestation": "direct"})
        spy.register.assert_called_once()
        assert spy.register.call_args.args[1] == hashlib.sha256(b"example.com").digest()
        assert result.response.attestation_object.fmt == "fido-u2f"
