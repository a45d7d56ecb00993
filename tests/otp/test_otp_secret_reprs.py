"""No OTP secret in a repr: the verifier's per-account state, the API bodies that carry a key or a token."""

from __future__ import annotations

from aioctap.otp.bodies import LoginTokenSuccessResponse, OtpDeviceAddDetails, OtpDevicePatchDetails, Timestamp
from aioctap.otp.core import TOTP
from aioctap.otp.verifier import _State

KEY = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
TOKEN = "secret-token:ZZZZSECRETZZZZ"


def _shown(obj: object) -> str:
    return repr(obj) + str(obj)


def test_verifier_state_hides_the_serialized_otp() -> None:
    blob = TOTP(KEY).to_json().encode()
    assert KEY.encode() in blob or KEY in blob.decode()  # an unencrypted key is in the record itself
    state = _State(blob, last_counter=7)
    assert KEY not in _shown(state)
    assert "last_counter=7" in repr(state)


def test_api_bodies_hide_keys_and_tokens() -> None:
    add = OtpDeviceAddDetails(otp_device_id="d", otp_device_description="x", otp_key=KEY, otp_algorithm=1)
    patch = OtpDevicePatchDetails(otp_device_description="x", otp_key=KEY, otp_algorithm=1)
    login = LoginTokenSuccessResponse(
        token=TOKEN, access_token=TOKEN, scope="all", refreshable=False, expiration=Timestamp(t_s=1), serial="s"
    )
    for body in (add, patch, login):
        text = _shown(body)
        assert KEY not in text and TOKEN not in text
    assert add.otp_key == KEY and login.access_token == TOKEN  # the values are untouched
    assert login.model_dump()["token"] == TOKEN  # and still serialized
    assert "otp_device_id='d'" in repr(add)
