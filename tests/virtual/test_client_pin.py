"""authenticatorClientPIN (CTAP 2.1 §6.5) of the software authenticator, protocols 1 and 2."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest

from aioctap.cose import CoseKey
from aioctap.ctap import CtapError
from aioctap.ctap2 import ClientPin, Config, FPBioEnrollment

ERR = CtapError.ERR
PIN = "4321abcd"
CDH = hashlib.sha256(b"client data").digest()
P = ClientPin.PERMISSION
VERSIONS = [1, 2]


async def pin_request(
    rig: Any, version: int, sub: int, pin: str = PIN, extra: dict[int, Any] | None = None
) -> CtapError.ERR | int:
    """A getPinToken-style request made by hand: (status) for sub 0x05 / 0x09 with ``extra`` members."""
    cp = rig.client_pin(version)
    key_agreement, shared = await cp._get_shared_secret()
    params = {
        1: version,
        2: sub,
        3: key_agreement,
        6: cp.protocol.encrypt(shared, hashlib.sha256(pin.encode()).digest()[:16]),
    }
    params.update(extra or {})
    return await rig.status(0x06, params)


@pytest.mark.parametrize("version", VERSIONS)
async def test_key_agreement_set_change_and_tokens(make_rig: Any, version: int) -> None:
    async with make_rig() as rig:
        status, resp = await rig.raw(0x06, {1: version, 2: 0x02})
        key = CoseKey.parse(resp[1])
        assert status == 0 and key[1] == 2 and key[3] == -25 and key[-1] == 1  # EC2, ECDH-ES+HKDF-256, P-256
        cp = rig.client_pin(version)
        with pytest.raises(CtapError) as e:  # no PIN yet
            await cp.get_pin_token(PIN)
        assert e.value.code == ERR.PIN_NOT_SET
        with pytest.raises(CtapError) as e:
            await cp.change_pin(PIN, "whatever1")
        assert e.value.code == ERR.PIN_NOT_SET
        await cp.set_pin(PIN)
        token = await cp.get_pin_token(PIN)  # legacy getPinToken: mc + ga, RP bound at first use
        assert len(token) == 32
        await cp.change_pin(PIN, "new pin é")
        with pytest.raises(CtapError) as e:  # changing the PIN ends the token
            await rig.make(pin_uv_param=cp.protocol.authenticate(token, CDH), pin_uv_protocol=version)
        assert e.value.code == ERR.PIN_AUTH_INVALID
        with pytest.raises(CtapError) as e:
            await cp.get_pin_token(PIN)
        assert e.value.code == ERR.PIN_INVALID
        assert await cp.get_pin_retries() == (7, False)
        token = await cp.get_pin_token("new pin é", P.MAKE_CREDENTIAL, "example.com")
        assert await cp.get_pin_retries() == (8, False)  # a right PIN restores the retries
        att = await rig.make(pin_uv_param=cp.protocol.authenticate(token, CDH), pin_uv_protocol=version)
        assert att.auth_data.is_user_verified()


async def test_pin_retries_without_a_pin_is_pin_not_set(make_rig: Any) -> None:
    """getPINRetries (§6.5.5.2) with no PIN set: the spec is silent; YubiKeys answer CTAP2_ERR_PIN_NOT_SET, and
    python-fido2's device suite (tests/device/test_clientpin.py test_set_and_reset) expects that of every key."""
    async with make_rig() as rig:
        assert await rig.status(0x06, {1: 2, 2: 0x01}) == ERR.PIN_NOT_SET
        assert await rig.status(0x06, {2: 0x01}) == ERR.PIN_NOT_SET  # pinUvAuthProtocol is optional here
        cp = await rig.set_pin(PIN)
        assert await cp.get_pin_retries() == (8, False)
        await rig.auth.reset(lambda status: None)  # reset forgets the PIN: PIN_NOT_SET again
        assert await rig.status(0x06, {1: 2, 2: 0x01}) == ERR.PIN_NOT_SET
        assert await rig.status(0x06, {1: 2, 2: 0x07}) == 0  # getUVRetries is not about the PIN


@pytest.mark.parametrize("version", VERSIONS)
async def test_force_pin_change_get_pin_token_is_pin_invalid(make_rig: Any, version: int) -> None:
    """With forcePINChange set, getPinToken (0x05) answers CTAP2_ERR_PIN_INVALID (CTAP 2.1 §6.5.5.7.1) while
    getPinUvAuthTokenUsingPinWithPermissions (0x09) answers CTAP2_ERR_PIN_POLICY_VIOLATION (§6.5.5.7.2); in
    both the PIN was right, so its retries are back at the maximum and no token is issued."""
    async with make_rig() as rig:
        cp = await rig.set_pin(PIN, version)
        proto, token = await rig.token(P.AUTHENTICATOR_CFG, version=version)
        await Config(rig.ctap, proto, token).set_min_pin_length(force_change_pin=True)
        assert (await rig.ctap.get_info()).force_pin_change
        earlier = rig.auth.pin.token  # the acfg token of before: no request below issues another
        assert await pin_request(rig, version, 0x05, "wrong-pin") == ERR.PIN_INVALID
        assert await cp.get_pin_retries() == (7, False)
        assert await pin_request(rig, version, 0x05) == ERR.PIN_INVALID
        assert await cp.get_pin_retries() == (8, False)  # the right PIN, refused only for the forced change
        assert rig.auth.pin.token is earlier
        with pytest.raises(CtapError) as e:  # python-fido2's get_pin_token without permissions: subcommand 0x05
            await cp.get_pin_token(PIN)
        assert e.value.code == ERR.PIN_INVALID
        assert await pin_request(rig, version, 0x09, extra={9: int(P.AUTHENTICATOR_CFG)}) == ERR.PIN_POLICY_VIOLATION
        assert rig.auth.pin.token is earlier
        await cp.change_pin(PIN, "a new pin")
        assert await pin_request(rig, version, 0x05, "a new pin") == 0


@pytest.mark.parametrize("version", VERSIONS)
async def test_set_pin_checks(make_rig: Any, version: int) -> None:
    async with make_rig() as rig:
        cp = rig.client_pin(version)
        proto = cp.protocol

        async def set_pin_raw(padded: bytes, *, bad_auth: bool = False) -> Any:
            key_agreement, shared = await cp._get_shared_secret()
            enc = proto.encrypt(shared, padded)
            auth = proto.authenticate(shared if not bad_auth else b"\x00" * 32, enc)
            return await rig.status(0x06, {1: version, 2: 0x03, 3: key_agreement, 4: auth, 5: enc})

        assert await set_pin_raw(b"abc".ljust(64, b"\0")) == ERR.PIN_POLICY_VIOLATION  # 3 < 4 code points
        assert await set_pin_raw("éèà".encode().ljust(64, b"\0")) == ERR.PIN_POLICY_VIOLATION  # 6 bytes, 3 points
        assert await set_pin_raw(b"x" * 64) == ERR.PIN_POLICY_VIOLATION  # no terminating zero: 64 bytes
        assert await set_pin_raw(b"\xff\xfe\xfd\xfc".ljust(64, b"\0")) == ERR.PIN_POLICY_VIOLATION  # not UTF-8
        assert await set_pin_raw(b"abcd".ljust(80, b"\0")) == ERR.INVALID_PARAMETER  # wrong padded length
        assert await set_pin_raw(b"abcd".ljust(64, b"\0"), bad_auth=True) == ERR.PIN_AUTH_INVALID
        assert rig.auth.state.pin_hash is None
        assert await set_pin_raw("éèàù".encode().ljust(64, b"\0")) == ERR.SUCCESS
        assert await set_pin_raw(b"abcd".ljust(64, b"\0")) == ERR.NOT_ALLOWED  # already set
        assert await rig.status(0x06, {1: version, 2: 0x03, 3: {}}) == ERR.MISSING_PARAMETER


@pytest.mark.parametrize("version", VERSIONS)
async def test_permissions_parameters(make_rig: Any, version: int) -> None:
    async with make_rig() as rig:
        await rig.set_pin(version=version)
        assert await pin_request(rig, version, 0x05, extra={9: 1, 10: "example.com"}) == ERR.INVALID_PARAMETER
        assert await pin_request(rig, version, 0x09) == ERR.MISSING_PARAMETER  # no permissions
        assert await pin_request(rig, version, 0x09, extra={9: 0}) == ERR.INVALID_PARAMETER
        assert await pin_request(rig, version, 0x09, extra={9: 0x80}) == ERR.UNAUTHORIZED_PERMISSION
        assert await pin_request(rig, version, 0x09, extra={9: P.MAKE_CREDENTIAL}) == ERR.MISSING_PARAMETER  # no rpId
        assert await pin_request(rig, version, 0x09, extra={9: P.CREDENTIAL_MGMT}) == ERR.SUCCESS
        assert await rig.status(0x06, {1: 3, 2: 0x02}) == ERR.INVALID_PARAMETER  # unknown protocol
        assert await rig.status(0x06, {1: version, 2: 0x08}) == ERR.INVALID_SUBCOMMAND
        assert await rig.status(0x06, {1: version}) == ERR.MISSING_PARAMETER
        assert await rig.status(0x06, {1: "2", 2: 0x02}) == ERR.CBOR_UNEXPECTED_TYPE
        # failures above did not count as wrong PINs
        assert await rig.client_pin(version).get_pin_retries() == (8, False)


async def test_legacy_token_binds_to_first_rp(make_rig: Any) -> None:
    async with make_rig() as rig:
        cp = await rig.set_pin()
        token = await cp.get_pin_token(PIN)  # getPinToken: no RP ID until its first use
        param = cp.protocol.authenticate(token, CDH)
        att = await rig.make(b"u", rp_id="first.example", pin_uv_param=param, pin_uv_protocol=2)
        assert att.auth_data.is_user_verified()
        token = await cp.get_pin_token(PIN)
        request = {2: CDH, 5: {"up": False}, 6: cp.protocol.authenticate(token, CDH), 7: 2}
        # verified (and bound to first.example), but nothing discoverable there
        assert await rig.status(0x02, {1: "first.example", **request}) == ERR.NO_CREDENTIALS
        assert await rig.status(0x02, {1: "second.example", **request}) == ERR.PIN_AUTH_INVALID


@pytest.mark.parametrize("version", VERSIONS)
async def test_three_wrong_pins_block_until_power_cycle_eight_block_for_good(make_rig: Any, version: int) -> None:
    async with make_rig() as rig:
        await rig.set_pin(version=version)
        codes = []
        for attempt in range(9):
            if attempt and attempt % 3 == 0:
                assert await rig.client_pin(version).get_pin_retries() == (8 - attempt, True)
                await rig.power_cycle()
            codes.append(await pin_request(rig, version, 0x05, pin="wrong-pin"))
        assert codes == [ERR.PIN_INVALID, ERR.PIN_INVALID, ERR.PIN_AUTH_BLOCKED] * 2 + [
            ERR.PIN_INVALID, ERR.PIN_BLOCKED, ERR.PIN_BLOCKED,
        ]  # fmt: skip
        assert rig.auth.state.pin_retries == 0
        assert await pin_request(rig, version, 0x05) == ERR.PIN_BLOCKED  # even the right PIN
        await rig.power_cycle()
        assert await pin_request(rig, version, 0x05) == ERR.PIN_BLOCKED


async def test_auth_blocked_refuses_the_right_pin_until_power_cycle(make_rig: Any) -> None:
    async with make_rig() as rig:
        await rig.set_pin()
        for _ in range(3):
            await pin_request(rig, 2, 0x05, pin="wrong-pin")
        assert await pin_request(rig, 2, 0x05) == ERR.PIN_AUTH_BLOCKED
        assert rig.auth.state.pin_retries == 5  # the refused attempt did not count
        await rig.power_cycle()
        assert await pin_request(rig, 2, 0x05) == ERR.SUCCESS
        assert await rig.client_pin().get_pin_retries() == (8, False)


async def test_token_expiry(make_rig: Any) -> None:
    async with make_rig() as rig:
        await rig.set_pin()
        proto, token = await rig.token(P.CREDENTIAL_MGMT)
        from aioctap.ctap2 import CredentialManagement

        cm = CredentialManagement(rig.ctap, proto, token)
        await cm.get_metadata()
        rig.clock.now += 601  # past the 10 minute maximum usage time
        with pytest.raises(CtapError) as e:
            await cm.get_metadata()
        assert e.value.code == ERR.PIN_TOKEN_EXPIRED
        with pytest.raises(CtapError) as e:
            await cm.get_metadata()
        assert e.value.code == ERR.PIN_AUTH_INVALID


@pytest.mark.parametrize("version", VERSIONS)
async def test_force_pin_change_and_min_pin_length(make_rig: Any, version: int) -> None:
    async with make_rig() as rig:
        cp = await rig.set_pin(PIN, version)
        proto, token = await rig.token(P.AUTHENTICATOR_CFG, version=version)
        await Config(rig.ctap, proto, token).set_min_pin_length(min_pin_length=10)
        info = await rig.ctap.get_info()
        assert info.min_pin_length == 10 and info.force_pin_change  # the current PIN is shorter than 10
        with pytest.raises(CtapError) as e:
            await cp.get_pin_token(PIN, P.MAKE_CREDENTIAL, "example.com")
        assert e.value.code == ERR.PIN_POLICY_VIOLATION
        with pytest.raises(CtapError) as e:
            await cp.change_pin(PIN, "123456789")  # 9 < 10
        assert e.value.code == ERR.PIN_POLICY_VIOLATION
        with pytest.raises(CtapError) as e:
            await cp.change_pin(PIN, PIN)
        assert e.value.code == ERR.PIN_POLICY_VIOLATION
        await cp.change_pin(PIN, "0123456789")
        assert not (await rig.ctap.get_info()).force_pin_change
        token = await cp.get_pin_token("0123456789", P.AUTHENTICATOR_CFG)
        config = Config(rig.ctap, cp.protocol, token)
        await config.set_min_pin_length(force_change_pin=True)
        assert (await rig.ctap.get_info()).force_pin_change
        with pytest.raises(CtapError) as e:  # the same PIN again is not a change
            await cp.change_pin("0123456789", "0123456789")
        assert e.value.code == ERR.PIN_POLICY_VIOLATION
        await cp.change_pin("0123456789", "abcdefghij")
        assert not (await rig.ctap.get_info()).force_pin_change


async def test_uv_token_and_retries(make_rig: Any) -> None:
    async with make_rig() as rig:
        cp = rig.client_pin()
        assert await cp.get_uv_retries() == 8
        with pytest.raises(CtapError) as e:  # nothing enrolled
            await cp.get_uv_token(P.GET_ASSERTION, "example.com")
        assert e.value.code == ERR.NOT_ALLOWED
        await rig.set_pin()
        proto, token = await rig.token(P.BIO_ENROLL)
        async for _ in FPBioEnrollment(rig.ctap, proto, token).enroll():
            pass
        token = await cp.get_uv_token(P.GET_ASSERTION | P.MAKE_CREDENTIAL, "example.com")
        att = await rig.make(
            b"u", options={"rk": True}, pin_uv_param=cp.protocol.authenticate(token, CDH), pin_uv_protocol=2
        )
        assert att.auth_data.is_user_verified()
        uv_count = rig.auth.state.uv_count_since_pin
        # no uvBioEnroll / uvAcfg; bits this authenticator does not know (§6.5.5.7.3): refused before any UV
        for perms in (P.BIO_ENROLL, P.AUTHENTICATOR_CFG, 0x80, 0x101):
            with pytest.raises(CtapError) as e:
                await cp.get_uv_token(perms)  # type: ignore[arg-type]
            assert e.value.code == ERR.UNAUTHORIZED_PERMISSION
        assert rig.auth.state.uv_count_since_pin == uv_count
        with pytest.raises(CtapError) as e:
            await cp.get_uv_token(P.GET_ASSERTION)  # ga needs an RP ID
        assert e.value.code == ERR.MISSING_PARAMETER
        rig.auth.sensor.match_results[:] = [False, False]
        for _ in range(2):
            with pytest.raises(CtapError) as e:
                await cp.get_uv_token(P.CREDENTIAL_MGMT)
            assert e.value.code == ERR.UV_INVALID
        assert await cp.get_uv_retries() == 6
        await cp.get_uv_token(P.CREDENTIAL_MGMT)
        assert await cp.get_uv_retries() == 8


async def test_uv_count_since_last_pin_entry(make_rig: Any) -> None:
    """getInfo uvCountSinceLastPinEntry (CTAP 2.2 §6.4): every built-in UV attempt, matched or not, since the PIN
    was last entered; a touch that never comes is no attempt; entering the PIN (a token, a change) starts again."""
    async with make_rig() as rig:
        cp = await rig.set_pin()
        assert (await rig.ctap.get_info()).uv_count_since_pin == 0
        proto, token = await rig.token(P.BIO_ENROLL)
        async for _ in FPBioEnrollment(rig.ctap, proto, token).enroll():
            pass
        await cp.get_uv_token(P.GET_ASSERTION, "example.com")
        rig.auth.sensor.match_results[:] = [False, "timeout"]
        for code in (ERR.UV_INVALID, ERR.USER_ACTION_TIMEOUT):
            with pytest.raises(CtapError) as e:
                await cp.get_uv_token(P.GET_ASSERTION, "example.com")
            assert e.value.code == code
        await rig.make(b"u", options={"uv": True})  # built-in UV in makeCredential counts as well
        assert (await rig.ctap.get_info()).uv_count_since_pin == 3
        await rig.power_cycle()
        assert (await rig.ctap.get_info()).uv_count_since_pin == 3  # it is about the PIN, not the power
        await rig.token(P.GET_ASSERTION, "example.com")
        assert (await rig.ctap.get_info()).uv_count_since_pin == 0
        cp = rig.client_pin()  # a new channel since the power cycle
        await cp.get_uv_token(P.GET_ASSERTION, "example.com")
        assert (await rig.ctap.get_info()).uv_count_since_pin == 1
        await cp.change_pin(PIN, "a new pin")
        assert (await rig.ctap.get_info()).uv_count_since_pin == 0


async def test_token_initial_usage_limit_and_user_present_flag(make_rig: Any) -> None:
    async with make_rig() as rig:
        await rig.set_pin()
        proto, token = await rig.token(P.MAKE_CREDENTIAL, "example.com")
        rig.clock.now += 31  # not used within the initial usage time limit (30 s on USB)
        with pytest.raises(CtapError) as e:
            await rig.make(pin_uv_param=proto.authenticate(token, CDH), pin_uv_protocol=2)
        assert e.value.code == ERR.PIN_TOKEN_EXPIRED
        proto, token = await rig.token(P.BIO_ENROLL)
        async for _ in FPBioEnrollment(rig.ctap, proto, token).enroll():
            pass
        from aioctap.virtual import DenyAll

        rig.auth.policy = DenyAll()  # the user would refuse any further touch
        cp = rig.client_pin()
        token = await cp.get_uv_token(P.MAKE_CREDENTIAL, "example.com")
        # the fingerprint touch that made the token stands for user presence (once)
        att = await rig.make(b"u", pin_uv_param=cp.protocol.authenticate(token, CDH), pin_uv_protocol=2)
        assert att.auth_data.is_user_present() and att.auth_data.is_user_verified()
        token = await cp.get_uv_token(P.MAKE_CREDENTIAL, "example.com")
        rig.clock.now += 20
        await rig.ctap.get_info()
        att = await rig.make(b"u", pin_uv_param=cp.protocol.authenticate(token, CDH), pin_uv_protocol=2)
        assert att.auth_data.is_user_present()
        token = await cp.get_uv_token(P.MAKE_CREDENTIAL | P.GET_ASSERTION, "example.com")
        rig.clock.now += 29
        # a first use within 30 s keeps the token alive, but the touch it stood for is gone after 30 s
        silent = {1: "example.com", 2: CDH, 5: {"up": False}, 6: cp.protocol.authenticate(token, CDH), 7: 2}
        assert await rig.status(0x02, silent) == ERR.NO_CREDENTIALS  # verified; nothing discoverable
        rig.clock.now += 2
        with pytest.raises(CtapError) as e:
            await rig.make(b"u", pin_uv_param=cp.protocol.authenticate(token, CDH), pin_uv_protocol=2)
        assert e.value.code == ERR.OPERATION_DENIED
        # a PIN token never stands for a touch
        proto, token = await rig.token(P.MAKE_CREDENTIAL, "example.com")
        with pytest.raises(CtapError) as e:
            await rig.make(b"u", pin_uv_param=proto.authenticate(token, CDH), pin_uv_protocol=2)
        assert e.value.code == ERR.OPERATION_DENIED


@pytest.mark.parametrize("version", VERSIONS)
async def test_pin_protocol_steps_agree_with_the_host(make_rig: Any, version: int) -> None:
    """Key agreement, shared secret, encrypt/decrypt and authenticate, host side against authenticator side."""
    async with make_rig() as rig:
        cp = rig.client_pin(version)
        status, resp = await rig.raw(0x06, {1: version, 2: 0x02})
        assert status == 0
        host_public, host_shared = cp.protocol.encapsulate(resp[1])
        device_protocol = rig.auth.pin.protocol(version)
        device_shared = device_protocol.ecdh(rig.auth.pin.key_agreement_key, host_public)
        assert device_shared == host_shared and len(device_shared) == (32 if version == 1 else 64)
        message = b"m" * 64
        assert device_protocol.decrypt(device_shared, cp.protocol.encrypt(host_shared, message)) == message
        assert cp.protocol.decrypt(host_shared, device_protocol.encrypt(device_shared, message)) == message
        tag = cp.protocol.authenticate(host_shared, message)
        assert len(tag) == (16 if version == 1 else 32) and device_protocol.verify(device_shared, message, tag)
        assert not device_protocol.verify(device_shared, message + b"x", tag)
        # a wrong PIN makes the authenticator generate a new key agreement key
        await rig.set_pin(version=version)
        before = rig.auth.pin.key_agreement_key
        with pytest.raises(CtapError):
            await cp.get_pin_token("wrong-pin")
        assert rig.auth.pin.key_agreement_key is not before


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("sub", [0x05, 0x09])
@pytest.mark.parametrize("pin_hash_enc", [b"", b"\x00" * 15, b"\x00" * 17, b"\x00" * 48])
async def test_a_pin_hash_that_does_not_decrypt_is_a_wrong_pin(
    make_rig: Any, version: int, sub: int, pin_hash_enc: bytes
) -> None:
    """§6.5.5.7 step "If an error results, or a mismatch is detected": PIN_INVALID and a retry spent (a
    hypothesis run found PIN_AUTH_INVALID with the retry spent, an error code the spec does not give)."""
    async with make_rig() as rig:
        await rig.set_pin(version=version)
        extra = {6: pin_hash_enc, **({9: P.MAKE_CREDENTIAL, 10: "example.com"} if sub == 0x09 else {})}
        assert await pin_request(rig, version, sub, extra=extra) == ERR.PIN_INVALID
        assert await rig.client_pin(version).get_pin_retries() == (7, False)
        assert await pin_request(rig, version, sub, extra={k: v for k, v in extra.items() if k != 6}) == 0
        assert await rig.client_pin(version).get_pin_retries() == (8, False)
