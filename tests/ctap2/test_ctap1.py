"""Ctap1 (U2F over CTAPHID_MSG) against the software authenticator: status words as typed errors,
response parsers of untrusted bytes (property tests)."""

from __future__ import annotations

import hashlib

import pytest
from cryptography.exceptions import InvalidSignature
from hypothesis import given, settings
from hypothesis import strategies as st

from aioctap.ctap1 import (
    APDU,
    ApduError,
    ClaNotSupportedError,
    Ctap1,
    InsNotSupportedError,
    RegistrationData,
    SignatureData,
    U2fResponseError,
    UseNotSatisfiedError,
    WrongDataError,
    WrongLengthError,
)
from aioctap.virtual import open_virtual_device

APP = hashlib.sha256(b"https://example.com").digest()
CHAL = hashlib.sha256(b"challenge").digest()


async def test_register_authenticate_and_status_words() -> None:
    async with open_virtual_device() as dev:
        ctap1 = Ctap1(dev)
        assert await ctap1.get_version() == "U2F_V2"
        reg = await ctap1.register(CHAL, APP)
        reg.verify(APP, CHAL)
        with pytest.raises(InvalidSignature):
            reg.verify(APP, hashlib.sha256(b"other").digest())
        sig = await ctap1.authenticate(CHAL, APP, reg.key_handle)
        assert sig.user_presence & 1 and sig.counter >= 1
        sig.verify(APP, CHAL, reg.public_key)
        with pytest.raises(UseNotSatisfiedError) as e:  # check-only on our own key handle
            await ctap1.authenticate(CHAL, APP, reg.key_handle, check_only=True)
        assert e.value.code == APDU.USE_NOT_SATISFIED and "0x6985" in str(e.value)
        with pytest.raises(WrongDataError):  # a key handle for another application
            await ctap1.authenticate(CHAL, hashlib.sha256(b"other").digest(), reg.key_handle)
        with pytest.raises(WrongLengthError):
            await ctap1.send_apdu(ins=Ctap1.INS.REGISTER, data=b"\x00" * 10)
        with pytest.raises(InsNotSupportedError):
            await ctap1.send_apdu(ins=0x55)
        with pytest.raises(ClaNotSupportedError):
            await ctap1.send_apdu(cla=0x80, ins=Ctap1.INS.VERSION)
        assert isinstance(ApduError.for_status(0x6F00), ApduError)
        assert type(ApduError.for_status(0x6F00)) is ApduError and "UNKNOWN" in str(ApduError(0x6F00))


@settings(max_examples=200, deadline=None)
@given(data=st.binary(max_size=400))
def test_registration_parser_gives_only_typed_errors(data: bytes) -> None:
    try:
        RegistrationData.from_bytes(data)
    except U2fResponseError:
        pass


@settings(max_examples=100, deadline=None)
@given(kh=st.binary(max_size=255), cert_len=st.integers(0, 300), tail=st.binary(max_size=80))
def test_registration_parser_on_nearly_valid_input(kh: bytes, cert_len: int, tail: bytes) -> None:
    cert = b"\x30\x82" + cert_len.to_bytes(2, "big") + b"\x00" * cert_len
    data = b"\x05" + b"\x04" + b"\x01" * 64 + bytes([len(kh)]) + kh + cert + tail
    try:
        parsed = RegistrationData.from_bytes(data)
    except U2fResponseError:
        assert not tail
        return
    assert parsed.key_handle == kh and parsed.signature == tail and len(parsed.certificate) == cert_len + 4
    with pytest.raises(U2fResponseError, match="certificate"):  # zeros are no certificate
        parsed.verify(APP, CHAL)


@given(data=st.binary(max_size=20))
def test_signature_parser(data: bytes) -> None:
    try:
        parsed = SignatureData.from_bytes(data)
    except U2fResponseError:
        assert len(data) < 6
        return
    assert parsed.user_presence == data[0] and parsed.signature == data[5:]
    with pytest.raises(U2fResponseError, match="P-256"):
        parsed.verify(APP, CHAL, b"\x04" + b"\x00" * 64)


def _registration_bytes() -> bytes:
    cert = bytes.fromhex("3003020101")  # a DER SEQUENCE, 5 bytes
    return b"\x05" + b"\x04" + b"\x11" * 64 + b"\x03kh!" + cert + b"sig"


def test_registration_data_is_python_fido2s_bytes() -> None:
    data = _registration_bytes()
    reg = RegistrationData(data)
    assert isinstance(reg, bytes) and reg == data and bytes(reg) == data
    assert reg.public_key == b"\x04" + b"\x11" * 64 and reg.key_handle == b"kh!"
    assert reg.certificate == bytes.fromhex("3003020101") and reg.signature == b"sig"
    assert RegistrationData.from_bytes(data) == reg
    assert RegistrationData.from_b64(reg.b64) == reg
    built = RegistrationData(reg.public_key, reg.key_handle, reg.certificate, reg.signature)
    assert built == reg and built.key_handle == b"kh!"
    by_name = RegistrationData(public_key=reg.public_key, key_handle=b"k", certificate=b"c", signature=b"s")
    assert bytes(by_name) == b"\x05" + reg.public_key + b"\x01kcs" and by_name.certificate == b"c"
    assert "key_handle=b'kh!'" in repr(reg)


def test_registration_data_is_immutable_and_checked() -> None:
    reg = RegistrationData(_registration_bytes())
    with pytest.raises(AttributeError):
        reg.key_handle = b"other"  # type: ignore[misc]
    with pytest.raises(U2fResponseError):
        RegistrationData(b"\x06" + _registration_bytes()[1:])
    with pytest.raises(ValueError):
        RegistrationData(b"\x04" * 65, b"k" * 256, b"c", b"s")
    with pytest.raises(TypeError):
        RegistrationData(b"\x04" * 65, b"k")  # type: ignore[call-overload]


async def test_send_apdu_always_sends_lc() -> None:
    class Device:
        sent: list[bytes] = []

        async def call(self, cmd: int, data: bytes = b"", *, on_keepalive: object = None) -> bytes:
            self.sent.append(data)
            return b"U2F_V2\x90\x00"

    device = Device()
    assert await Ctap1(device).get_version() == "U2F_V2"  # type: ignore[arg-type]
    assert device.sent == [b"\x00\x03\x00\x00\x00\x00\x00\x00\x00"]  # extended length, Lc = 0, Le = 0


def test_registration_data_copies_and_pickles() -> None:
    import copy
    import pickle

    built = RegistrationData(b"\x04" * 65, b"kh", b"not DER", b"sig")  # members that would not parse back
    for again in (copy.copy(built), copy.deepcopy(built), pickle.loads(pickle.dumps(built))):
        assert again == built and type(again) is RegistrationData and again.certificate == b"not DER"
