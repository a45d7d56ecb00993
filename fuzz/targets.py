"""Fuzz targets: every parser of untrusted bytes, with the typed errors it may raise.

A target is a function of one ``bytes`` argument. Raising one of its ``expected`` exception types
is a correct rejection; any other exception is a crash (a bug). Run with ``python fuzz/run.py``;
``tests/test_fuzz_targets.py`` runs every target on its seed corpus in the normal test suite.

Targets are built by factories (registered with :func:`target`) so that the modules they exercise
are imported inside atheris' instrumentation. A factory raises :class:`TargetUnavailable` when the
module it fuzzes does not exist (yet); ``run.py`` reports such a target as skipped.

Several targets decode a small framing so that one input can drive a whole exchange:
``records`` is a sequence of ``u16 length || bytes`` (see :func:`split_records`). ``make_corpus.py``
writes seeds in the same framing from real exchanges with the software authenticator.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime
import hashlib
import json
import struct
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any, TypeVar

__all__ = [
    "AUTH_CHALLENGE",
    "HOST_CID",
    "HOST_NONCE",
    "ORIGIN",
    "REG_CHALLENGE",
    "RP_ID",
    "TARGETS",
    "VIRTUAL_MASTER_KEY",
    "VIRTUAL_PIN",
    "ScriptExhausted",
    "Target",
    "TargetUnavailable",
    "join_records",
    "run_async",
    "split_records",
    "target",
]

T = TypeVar("T")

# Constants shared with make_corpus.py so that seeds pass the checks a target makes.
RP_ID = "example.com"
ORIGIN = "https://example.com"
REG_CHALLENGE = hashlib.sha256(b"aioctap fuzz registration challenge").digest()
AUTH_CHALLENGE = hashlib.sha256(b"aioctap fuzz authentication challenge").digest()
HOST_CID = 0x11223344
HOST_NONCE = bytes(range(1, 9))
VIRTUAL_MASTER_KEY = hashlib.sha256(b"aioctap fuzz master key").digest()
VIRTUAL_PIN = "1234"
# A fixed P-256 key: the attestation certificates of the certificate seeds carry it, so the harness
# can sign for them and the certificate checks after the signature check are reached.
HARNESS_SCALAR = int.from_bytes(hashlib.sha256(b"aioctap fuzz attestation key").digest(), "big") % (2**255)
NOW = datetime.datetime(2030, 1, 1, tzinfo=datetime.UTC)


@dataclass(frozen=True)
class Target:
    """One fuzz target: ``func(data)`` may raise only ``expected`` exception types."""

    name: str
    func: Callable[[bytes], object]
    expected: tuple[type[BaseException], ...]
    max_len: int = 4096
    tokens: tuple[bytes, ...] = ()  # a libFuzzer dictionary: byte strings worth inserting


CBOR_TOKENS = (
    b"\x20", b"\x38\xff", b"\x39\xff\xff", b"\x3b" + b"\xff" * 8, b"\x1b" + b"\xff" * 8,
    b"\xf4", b"\xf5", b"\xf6", b"\xf7", b"\xfb\x7f\xf0\x00\x00\x00\x00\x00\x00", b"\xc0", b"\xd8\x18", b"\x5f", b"\x7f",
    b"\x9f", b"\xbf", b"\xff", b"\x80", b"\xa0", b"\x40", b"\x60", b"\x62\xed\xa0",
)  # fmt: skip
JSON_TOKENS = (
    b'"\\u0000"', b"\\ud800", b"\\u0000", b"null", b"true", b"false", b"[]", b"{}", b"-1", b"0", b"1e400", b"1.5",
    b"18446744073709551616", b"-9223372036854775809", b'""', b'":"', b"NaN", b"Infinity", b"[[[[[[[[",
)  # fmt: skip


class TargetUnavailable(Exception):
    """The module a target fuzzes does not exist in this checkout; the target is skipped."""


class ScriptExhausted(Exception):
    """A scripted fake device ran out of responses: the input ended (a normal end of a run)."""


TARGETS: dict[str, Callable[[], Target]] = {}


def target(name: str) -> Callable[[Callable[[], Target]], Callable[[], Target]]:
    """Register a target factory (imports happen inside, under atheris' instrumentation)."""

    def deco(factory: Callable[[], Target]) -> Callable[[], Target]:
        TARGETS[name] = factory
        return factory

    return deco


def _require(module: str) -> None:
    """Import ``module`` or raise :class:`TargetUnavailable` if it (not one of its imports) is missing."""
    import importlib

    try:
        importlib.import_module(module)
    except ModuleNotFoundError as e:
        if e.name is not None and (module == e.name or module.startswith(e.name + ".")):
            raise TargetUnavailable(f"{module} is not available: {e}") from None
        raise


# -- helpers ---------------------------------------------------------------------------------------------


def split_records(data: bytes) -> list[bytes]:
    """``u16 big-endian length || bytes`` records; a truncated last record keeps what is there."""
    out: list[bytes] = []
    i = 0
    while i + 2 <= len(data):
        n = int.from_bytes(data[i : i + 2], "big")
        out.append(data[i + 2 : i + 2 + n])
        i += 2 + n
    return out


def join_records(records: list[bytes]) -> bytes:
    """The inverse of :func:`split_records`."""
    return b"".join(len(r).to_bytes(2, "big") + r for r in records)


_LOOP: asyncio.AbstractEventLoop | None = None


def run_async(coro: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine on one event loop kept for the whole process (a new loop per input is slow)."""
    global _LOOP
    if _LOOP is None or _LOOP.is_closed():
        _LOOP = asyncio.new_event_loop()
    return _LOOP.run_until_complete(coro)


def _text(data: bytes) -> str:
    # JSON and URL decoding can both produce lone surrogates: keep them reachable
    return data.decode("utf-8", "surrogateescape")


def _scripted_device(responses: list[bytes] | Callable[[int, bytes], bytes]) -> Any:
    """A CtapDevice answering each call with the next scripted response (or ``responses(cmd, data)``)."""
    from aioctap.ctap import CtapDevice, KeepaliveCallback
    from aioctap.hid.protocol import CAPABILITY

    class ScriptedDevice(CtapDevice):
        @property
        def capabilities(self) -> int:
            return int(CAPABILITY.CBOR | CAPABILITY.WINK)

        async def call(self, cmd: int, data: bytes = b"", *, on_keepalive: KeepaliveCallback | None = None) -> bytes:
            if callable(responses):
                return responses(cmd, data)
            if not responses:
                raise ScriptExhausted()
            return responses.pop(0)

    return ScriptedDevice()


INFO_MAP: dict[int, Any] = {
    1: ["FIDO_2_0", "FIDO_2_1"],
    2: ["credProtect", "hmac-secret", "largeBlobKey"],
    3: b"\x01" * 16,
    4: {"rk": True, "clientPin": True, "pinUvAuthToken": True, "credMgmt": True, "bioEnroll": True,
        "largeBlobs": True, "authnrCfg": True},
    5: 1200,
    6: [2, 1],
}  # fmt: skip


# -- CBOR, COSE, WebAuthn data ---------------------------------------------------------------------------


@target("cbor")
def _cbor() -> Target:
    from aioctap import cbor

    def strict(decode: Callable[[], object]) -> str:
        try:
            return repr(decode())  # repr tells 1 from True and keeps dict order
        except cbor.CborError as e:
            return f"CborError: {e}"

    def run(data: bytes) -> None:
        # strict loads (its fast path first) answers as its general path does; not canonical: the lenient decoder
        # (responses, attestation objects) must still cope
        assert strict(lambda: cbor.loads(data)) == strict(lambda: cbor._loads_general(data, True))
        obj = cbor.loads(data, strict=False)
        # whatever decodes non-strictly is CTAP2 data: it must encode and decode again
        assert cbor.loads(cbor.dumps(obj)) == obj

    return Target("cbor", run, (cbor.CborError,), tokens=CBOR_TOKENS)


@target("cose")
def _cose() -> Target:
    from aioctap.cose import CoseError, CoseKey

    def run(data: bytes) -> None:
        key = CoseKey.from_bytes(data)
        # a parsed key must give a public key or say why not, and verify or reject a signature
        for check in (key.public_key, lambda: key.verify(b"message", data[:64])):
            try:
                check()
            except CoseError:
                pass

    return Target("cose", run, (CoseError,), tokens=(*CBOR_TOKENS, b"\x26", b"\x27", b"\x38\x24", b"\x39\x01\x00"))


@target("authenticator_data")
def _auth_data() -> Target:
    from aioctap.webauthn import AuthenticatorData, WebAuthnDataError

    def run(data: bytes) -> None:
        if len(data) > 33 and data[0] & 1:
            # force the AT and ED flags so the attested credential and extension parsers run
            try:
                AuthenticatorData(data[:32] + bytes([data[32] | 0xC0]) + data[33:])
            except WebAuthnDataError:
                pass
        ad = AuthenticatorData(data)
        repr(ad)
        # what was parsed serializes (canonically) to authenticator data that parses the same
        again = AuthenticatorData.create(ad.rp_id_hash, ad.flags, ad.counter, ad.credential_data or b"", ad.extensions)
        assert (again.flags, again.counter, again.credential_data, again.extensions) == (
            ad.flags, ad.counter, ad.credential_data, ad.extensions
        )  # fmt: skip

    return Target("authenticator_data", run, (WebAuthnDataError,), tokens=CBOR_TOKENS)


@target("client_data")
def _client_data() -> Target:
    from aioctap.webauthn import CollectedClientData, WebAuthnDataError

    def run(data: bytes) -> None:
        cd = CollectedClientData(data)
        repr(cd)
        _ = cd.hash

    tokens = (*JSON_TOKENS, b'"type"', b'"challenge"', b'"origin"', b'"crossOrigin"', b'"topOrigin"', b"webauthn.get")
    return Target("client_data", run, (WebAuthnDataError,), tokens=tokens)


# -- CTAPHID ---------------------------------------------------------------------------------------------


@target("hid_report_descriptor")
def _hid_report_descriptor() -> Target:
    """A device's HID report descriptor into ``hid.base.parse_report_descriptor`` (python-fido2's name)."""
    from aioctap.hid.base import parse_report_descriptor

    def run(data: bytes) -> None:
        sizes = parse_report_descriptor(data)
        assert all(0 <= size <= 0xFFFF for size in sizes), sizes  # no report a host should not allocate

    tokens = (b"\x06\xd0\xf1", b"\x09\x01", b"\xa1\x01", b"\x75\x08", b"\x95\x40", b"\x81\x02", b"\x91\x02",
              b"\xc0", b"\xfe", b"\x77\xff\xff\xff\xff", b"\x97\xff\xff\xff\xff")  # fmt: skip
    return Target("hid_report_descriptor", run, (ValueError,), tokens=tokens)


@target("ctaphid_host")
def _ctaphid_host() -> Target:
    """Reports from a (hostile) device into the host core: events or drops, never a crash.

    Records of 1 control byte + one report (the last one may be short). The control byte's low bits
    pick what the host does before the report arrives (nothing, a new request, a cancel, time passing),
    bit 3 whether a report goes to the fast path (``receive_answer``) first, and the rest how much time
    passes. Checked: every outcome names a call that is waiting, no call
    gets two, an allocation is answered only with its own nonce and a usable channel id.
    """
    from aioctap.ctap import CtapError
    from aioctap.hid.host_core import (
        Allocated,
        AllocationFailed,
        Answer,
        CtapHidTimeout,
        Failed,
        HostCore,
    )
    from aioctap.hid.protocol import BROADCAST_CID, CTAPHID, CtapHidProtocolError, parse_packet

    def run(data: bytes) -> None:
        nonces = iter([HOST_NONCE] + [HOST_NONCE[:7] + bytes([i]) for i in range(256)])
        core = HostCore(random=lambda n: next(nonces))
        now = 0.0
        nonce, out = core.allocate_channel(now, 1.0)
        allocation_pending = True
        waiting: set[int] = set()
        for i in range(0, len(data), 65):
            control = data[i]
            now += (control >> 3) / 32
            action = control & 7
            if action == 1 and HOST_CID not in waiting:
                out = list(out) + list(core.send(HOST_CID, CTAPHID.CBOR, data[i + 1 : i + 9] or b"\x04", now, 1.0,
                                                 retry_busy=bool(control & 8)))  # fmt: skip
                waiting.add(HOST_CID)
            elif action == 2 and HOST_CID in waiting:
                out = list(out) + list(core.cancel(HOST_CID, now))
                waiting.discard(HOST_CID)
            elif action == 3:
                more, events = core.handle_timer(now)
                out = list(out) + list(more)
            else:
                report = data[i + 1 : i + 65]
                # bit 3 offers the report to the fast path first (as the router does); it either takes a whole
                # answer to the waiting call or changes nothing
                fast = core.receive_answer(report) if control & 8 else None
                if fast is not None:
                    assert HOST_CID in waiting, "the fast path answered a channel with no call waiting"
                    waiting.discard(HOST_CID)
                    events = []
                else:
                    more, events = core.receive(report, now)
                    out = list(out) + list(more)
            if action == 3 or action not in (1, 2):
                for event in events:
                    if isinstance(event, Answer | Failed):
                        assert event.cid in waiting, "an outcome for a channel with no call waiting"
                        waiting.discard(event.cid)
                        if isinstance(event, Failed):
                            assert isinstance(event.error, CtapError | CtapHidProtocolError | CtapHidTimeout)
                    elif isinstance(event, Allocated | AllocationFailed):
                        assert allocation_pending and event.nonce == nonce, "an allocation nobody started"
                        allocation_pending = False
                        if isinstance(event, Allocated):
                            assert event.init.channel_id not in (0, BROADCAST_CID)
        for report in out:
            assert len(report) == 64, "host core framed a report that is not 64 bytes"
            parse_packet(report)

    return Target("ctaphid_host", run, ())


@target("ctaphid_device")
def _ctaphid_device() -> Target:
    """Packets from a (hostile) host into the device-side core: it must answer, never raise."""
    from aioctap.ctap import STATUS
    from aioctap.hid.device_side import DeviceCore, Request
    from aioctap.hid.protocol import parse_packet

    def run(data: bytes) -> None:
        core = DeviceCore()
        now = 0.0
        out: list[bytes] = []
        # records of 1 time-step byte + one report (the last one may be short)
        for i in range(0, len(data), 65):
            now += data[i] / 64
            sent, events = core.receive(data[i + 1 : i + 65], now)
            out += sent
            for event in events:
                if isinstance(event, Request):
                    if data[i] & 1:  # answer at once; otherwise leave it running
                        out += core.respond(event.cid, event.cmd, b"\x00" + event.data[:100])
                    else:
                        out.append(core.keepalive(event.cid, STATUS.PROCESSING))
            out += core.tick(now)
        for p in out:
            assert len(p) == 64, "device core framed a report that is not 64 bytes"
            parse_packet(p)

    return Target("ctaphid_device", run, ())


# -- CTAP2 responses (host side) -------------------------------------------------------------------------


@target("ctap2_response")
def _ctap2_response() -> Target:
    """Selector byte + scripted device responses into Ctap2, ClientPin, CredentialManagement, FPBioEnrollment."""
    from aioctap.ctap import CtapError
    from aioctap.ctap2.base import Ctap2, CtapResponseError, Info
    from aioctap.ctap2.bio import CaptureError, FPBioEnrollment
    from aioctap.ctap2.credman import CredentialManagement
    from aioctap.ctap2.pin import ClientPin, PinProtocolError, PinProtocolV1, PinProtocolV2

    info = Info.from_dict(INFO_MAP)
    token = b"\x07" * 32

    async def scenario(selector: int, responses: list[bytes]) -> None:
        ctap = Ctap2(_scripted_device(responses), strict_cbor=not selector & 0x80)
        ctap._info = info
        op = selector & 0x0F
        protocol = PinProtocolV1() if selector & 0x10 else PinProtocolV2()
        if op == 0:
            await ctap.get_info()
        elif op == 1:
            att = await ctap.make_credential(
                b"\0" * 32, {"id": RP_ID}, {"id": b"user"}, [{"type": "public-key", "alg": -7}]
            )
            att.attestation_object()
        elif op == 2:
            async for assertion in ctap.get_assertions(RP_ID, b"\0" * 32):
                repr(assertion)
        elif op == 3:
            pin = ClientPin(ctap, protocol)
            await pin.get_pin_retries()
            await pin.get_uv_retries()
            await pin.get_pin_token(VIRTUAL_PIN, ClientPin.PERMISSION.MAKE_CREDENTIAL, RP_ID)
        elif op == 4:
            cm = CredentialManagement(ctap, protocol, token)
            await cm.get_metadata()
            async for rp in cm.rps():
                h = rp.get(CredentialManagement.RESULT.RP_ID_HASH)
                async for _ in cm.credentials(h if isinstance(h, bytes) else b"\0" * 32):
                    pass
        elif op == 5:
            bio = FPBioEnrollment(ctap, protocol, token)
            await bio.get_fingerprint_sensor_info()
            await bio.enumerate_enrollments()
            async for sample in bio.enroll():
                sample.raise_for_status()
        else:
            await ctap.selection()

    def run(data: bytes) -> None:
        if not data:
            return
        run_async(scenario(data[0], split_records(data[1:])))

    return Target(
        "ctap2_response",
        run,
        (CtapResponseError, CtapError, PinProtocolError, CaptureError, ScriptExhausted),
        max_len=16384,
        tokens=CBOR_TOKENS,
    )


@target("large_blob_array")
def _large_blob_array() -> Target:
    """A 32-byte largeBlobKey, a flag byte and the serialized large-blob array served by a fake device."""
    from aioctap import cbor
    from aioctap.ctap import CtapError
    from aioctap.ctap2.base import Ctap2, CtapResponseError, Info
    from aioctap.ctap2.blob import LargeBlobs

    info = Info.from_dict(INFO_MAP)

    def run(data: bytes) -> None:
        if len(data) < 33:
            return
        key, flags, array = data[:32], data[32], data[33:]
        if flags & 1:  # fix up the SHA-256 trailer so the array parser runs
            array += hashlib.sha256(array).digest()[:16]

        def device(cmd: int, request: bytes) -> bytes:
            params = cbor.loads(request[1:])
            if 1 in params:
                offset, get = params[3], params[1]
                return b"\x00" + cbor.dumps({1: array[offset : offset + get]})
            return b"\x00"

        async def scenario() -> None:
            ctap = Ctap2(_scripted_device(device))
            ctap._info = info
            blobs = LargeBlobs(ctap)
            await blobs.get_blob(key)
            if flags & 2:
                await blobs.put_blob(key, b"new data")

        run_async(scenario())

    return Target("large_blob_array", run, (CtapResponseError, CtapError), max_len=8192, tokens=CBOR_TOKENS)


# -- the software authenticator (device side) ------------------------------------------------------------


class _VirtualHarness:
    """One software authenticator, restored to one of three snapshots before each input.

    Snapshot 0: resident credentials, no PIN. 1: PIN set, a fingerprint enrolled, a pinUvAuthToken
    with the cm/be/lbw/acfg permissions. 2: as 1 with an mc/ga token bound to ``RP_ID``. The master
    key is fixed, so credential IDs in the seeds (made by make_corpus.py) open here.
    """

    def __init__(self) -> None:
        from aioctap import cbor
        from aioctap.ctap2.pin import PinProtocolV2
        from aioctap.virtual import ApproveAll, VirtualAuthenticator

        self.cbor = cbor
        self.now = 1000.0
        self.auth = VirtualAuthenticator(policy=ApproveAll(), reset_window=None, clock=lambda: self.now)
        self.auth.state.master_key = VIRTUAL_MASTER_KEY
        self.protocol = PinProtocolV2()
        for i, (alg, rp) in enumerate(((-7, RP_ID), (-8, RP_ID), (-7, "other.example"))):
            self.ctap2(0x01, {
                1: b"\x01" * 32, 2: {"id": rp, "name": rp}, 3: {"id": bytes([i]) * 8, "name": f"user{i}"},
                4: [{"type": "public-key", "alg": alg}], 6: {"credProtect": 1 + i % 2, "credBlob": b"blob",
                "largeBlobKey": True, "hmac-secret": True}, 7: {"rk": True},
            })  # fmt: skip
        self.snapshots: dict[int, tuple[bytes, Any]] = {0: (self.auth.state.to_bytes(), None)}
        key_agreement, shared = self._shared()
        new_pin_enc = self.protocol.encrypt(shared, VIRTUAL_PIN.encode().ljust(64, b"\0"))
        self.ctap2(0x06, {1: 2, 2: 3, 3: key_agreement, 4: self.protocol.authenticate(shared, new_pin_enc),
                          5: new_pin_enc})  # fmt: skip
        token = self._token(0x3C, None)
        assert self.auth.pin.token is not None
        template = self.ctap2(0x09, {1: 1, 2: 1}, token)[4]
        while self.ctap2(0x09, {1: 1, 2: 2, 3: {1: template}}, token).get(6):
            pass
        self.snapshots[1] = (self.auth.state.to_bytes(), dataclasses.replace(self.auth.pin.token))
        self._token(0x03, RP_ID)
        assert self.auth.pin.token is not None
        self.snapshots[2] = (self.auth.state.to_bytes(), dataclasses.replace(self.auth.pin.token))

    def _shared(self) -> tuple[dict[int, Any], bytes]:
        return self.protocol.encapsulate(self.ctap2(0x06, {1: 2, 2: 2})[1])

    def _token(self, permissions: int, rp_id: str | None) -> bytes:
        key_agreement, shared = self._shared()
        pin_hash_enc = self.protocol.encrypt(shared, hashlib.sha256(VIRTUAL_PIN.encode()).digest()[:16])
        params = {1: 2, 2: 9, 3: key_agreement, 6: pin_hash_enc, 9: permissions}
        if rp_id is not None:
            params[10] = rp_id
        return self.protocol.decrypt(shared, self.ctap2(0x06, params)[2])

    def handle(self, cmd: int, payload: bytes) -> bytes:
        return run_async(self.auth.handle(cmd, payload, lambda status: None))

    def ctap2(self, command: int, params: dict[int, Any], token: bytes | None = None) -> dict[Any, Any]:
        if token is not None:
            self.sign(command, params, token)
        response = self.handle(0x10, bytes([command]) + self.cbor.dumps(params))
        if response[0] != 0:
            raise RuntimeError(f"harness setup: command 0x{command:02x} failed with 0x{response[0]:02x}")
        return self.cbor.loads(response[1:]) if len(response) > 1 else {}

    def restore(self, snapshot: int) -> Any:
        from aioctap.virtual.state import AuthenticatorState

        state, token = self.snapshots[snapshot]
        self.auth.state.__dict__.update(AuthenticatorState.from_bytes(state).__dict__)
        self.auth.power_cycle()  # forgets pending assertions, enrollments, blob writes and the token
        self.auth.sensor.match_results.clear()
        pin = self.auth.pin
        pin.token = dataclasses.replace(token) if token is not None else None
        return pin.token

    # pinUvAuthParam of each command: (param key, protocol key, message)
    def sign(self, command: int, params: dict[Any, Any], token: bytes) -> None:
        """Add a valid pinUvAuthParam to a decoded request so the checks after it are reached."""
        dumps = self.cbor.dumps
        spec: tuple[int, int, bytes] | None = None
        if command == 0x01 and isinstance(params.get(1), bytes):
            spec = (8, 9, params[1])
        elif command == 0x02 and isinstance(params.get(2), bytes):
            spec = (6, 7, params[2])
        elif command in (0x09, 0x40) and isinstance(params.get(2), int) and 0 <= params[2] < 256:
            spec = (5, 4, bytes([1, params[2]]) + (dumps(params[3]) if 3 in params else b""))
        elif command in (0x0A, 0x41) and isinstance(params.get(1), int) and 0 <= params[1] < 256:
            spec = (4, 3, bytes([params[1]]) + (dumps(params[2]) if 2 in params else b""))
        elif command == 0x0C and isinstance(params.get(3), int) and 0 <= params[3] < 2**32:
            blob = params[2] if isinstance(params.get(2), bytes) else b""
            spec = (5, 6, b"\xff" * 32 + b"\x0c\x00" + struct.pack("<I", params[3]) + hashlib.sha256(blob).digest())
        elif command == 0x0D and isinstance(params.get(1), int):
            sub_params = params.get(2)
            spec = (
                4,
                3,
                b"\xff" * 32 + b"\x0d" + bytes([params[1] & 0xFF]) + (dumps(sub_params) if sub_params else b""),
            )
        if spec is not None:
            param_key, proto_key, message = spec
            params[param_key] = self.protocol.authenticate(token, message)
            params[proto_key] = 2


_HARNESS: _VirtualHarness | None = None


def _harness() -> _VirtualHarness:
    global _HARNESS
    if _HARNESS is None:
        _HARNESS = _VirtualHarness()
    return _HARNESS


@target("virtual_ctap2")
def _virtual_ctap2() -> Target:
    """Flag byte + a CTAP2 request (command byte || CBOR) into the software authenticator.

    Flags: bits 0-1 pick the snapshot (see :class:`_VirtualHarness`), bit 2 has the harness add a
    valid pinUvAuthParam made with the snapshot's token. The answer must be a status byte, then
    canonical CBOR on success; nothing may raise.
    """
    from aioctap import cbor
    from aioctap.hid.protocol import CTAPHID

    harness = _harness()

    def run(data: bytes) -> None:
        if len(data) < 2:
            return  # the CTAPHID layer answers INVALID_LEN to an empty CTAPHID_CBOR
        flags, request = data[0], data[1:]
        token = harness.restore((flags & 3) % 3)
        if flags & 4 and token is not None and len(request) > 1:
            try:
                params = cbor.loads(request[1:])
            except cbor.CborError:
                params = None
            if isinstance(params, dict):
                harness.sign(request[0], params, token.value)
                request = request[:1] + cbor.dumps(params)
        response = harness.handle(CTAPHID.CBOR, request)
        assert response, "empty CTAP2 response"
        if response[0] == 0 and len(response) > 1:
            assert isinstance(cbor.loads(response[1:]), dict), "CTAP2 success response is not a CBOR map"

    return Target("virtual_ctap2", run, (), max_len=8192, tokens=CBOR_TOKENS)


@target("virtual_u2f")
def _virtual_u2f() -> Target:
    """A CTAP1/U2F command APDU into the software authenticator: always a status word, never an exception."""
    from aioctap.hid.protocol import CTAPHID

    harness = _harness()

    def run(data: bytes) -> None:
        harness.restore(0)
        response = harness.handle(CTAPHID.MSG, data)
        assert len(response) >= 2, "U2F response without a status word"

    return Target("virtual_u2f", run, ())


@target("ctap1_response")
def _ctap1_response() -> Target:
    """Selector byte + U2F response bytes into the CTAP1 client's parsers and verifiers."""
    from cryptography.exceptions import InvalidSignature

    from aioctap.ctap1 import ApduError, Ctap1, RegistrationData, SignatureData, U2fResponseError

    app_param, client_param = hashlib.sha256(RP_ID.encode()).digest(), b"\x02" * 32

    async def over_device(response: bytes) -> None:
        ctap1 = Ctap1(_scripted_device([response, response, response]))
        await ctap1.get_version()
        await ctap1.authenticate(client_param, app_param, b"\x01" * 64)
        await ctap1.register(client_param, app_param)

    def run(data: bytes) -> None:
        if not data:
            return
        selector, body = data[0] % 3, data[1:]
        if selector == 0:
            reg = RegistrationData.from_bytes(body)
            reg.verify(app_param, client_param)
        elif selector == 1:
            # records: public key (from the registration), authentication response
            records = [*split_records(body), b"", b""]
            SignatureData.from_bytes(records[1]).verify(app_param, client_param, records[0])
        else:
            run_async(over_device(body))

    return Target("ctap1_response", run, (U2fResponseError, ApduError, InvalidSignature, ScriptExhausted), max_len=8192)


# -- relying party: attestation and verification ---------------------------------------------------------


def _harness_key() -> Any:
    from cryptography.hazmat.primitives.asymmetric import ec

    return ec.derive_private_key(HARNESS_SCALAR, ec.SECP256R1())


@target("attestation")
def _attestation() -> Target:
    """A CBOR attestation object {fmt, attStmt, authData} into verify_attestation."""
    from cryptography import x509

    from aioctap import cbor
    from aioctap.server.attestation import TrustAnchors, verify_attestation
    from aioctap.server.errors import AttestationError
    from aioctap.webauthn import AuthenticatorData, WebAuthnDataError

    anchors = TrustAnchors(roots=[x509.load_der_x509_certificate(_root_certificate())])

    def run(data: bytes) -> None:
        obj = cbor.loads(data, strict=False)
        if not isinstance(obj, dict):
            return
        fmt, att_stmt, auth_data = obj.get("fmt"), obj.get("attStmt"), obj.get("authData")
        if not isinstance(fmt, str) or not isinstance(att_stmt, dict) or not isinstance(auth_data, bytes):
            return
        ad = AuthenticatorData(auth_data)
        cdh = obj["clientDataHash"] if isinstance(obj.get("clientDataHash"), bytes) else b"\0" * 32
        stamp = obj.get("_now")
        now = NOW
        if isinstance(stamp, int) and 0 < stamp < 2**34:  # harness member: when the seed's certificates were valid
            now = datetime.datetime.fromtimestamp(stamp, datetime.UTC)
        verify_attestation(fmt, att_stmt, ad, cdh, now=now)
        try:  # and the trust path: the anchor is the harness root, so mostly "untrusted"
            verify_attestation(fmt, att_stmt, ad, cdh, trust_anchors=anchors, now=now)
        except AttestationError:
            pass

    tokens = (*CBOR_TOKENS, b"\x63x5c", b"\x63alg", b"\x63sig", b"\x68certInfo", b"\x67pubArea", b"\x63ver")
    return Target(
        "attestation", run, (AttestationError, cbor.CborError, WebAuthnDataError), max_len=8192, tokens=tokens
    )


def _root_certificate() -> bytes:
    """A self-signed root with the harness key (the trust anchor of the certificate seeds)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.x509.oid import NameOID

    key = _harness_key()
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "aioctap fuzz root")])
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(datetime.datetime(2020, 1, 1, tzinfo=datetime.UTC))
        .not_valid_after(datetime.datetime(2040, 1, 1, tzinfo=datetime.UTC))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    return cert.public_bytes(serialization.Encoding.DER)


@target("attestation_certificate")
def _attestation_certificate() -> Target:
    """Raw DER as the attestation certificate of packed and fido-u2f statements the harness signs.

    The harness signs with a fixed key; certificates (seeds) that carry that key get past the signature
    check, so the certificate requirement checks (§8.2.1) and the chain checks run on mutated DER.
    """
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec

    from aioctap.cose import ES256
    from aioctap.server.attestation import TrustAnchors, verify_attestation
    from aioctap.server.errors import AttestationError
    from aioctap.webauthn import AttestedCredentialData, AuthenticatorData

    key = _harness_key()
    anchors = TrustAnchors(roots=[x509.load_der_x509_certificate(_root_certificate())])
    cred_key = ES256.from_cryptography_key(ec.derive_private_key(12345, ec.SECP256R1()).public_key())
    aaguid = b"\x01" * 16
    auth_data = AuthenticatorData.create(
        hashlib.sha256(RP_ID.encode()).digest(), 0x41, 1, AttestedCredentialData.create(aaguid, b"\x09" * 16, cred_key)
    )
    cdh = b"\x03" * 32
    packed_sig = key.sign(bytes(auth_data) + cdh, ec.ECDSA(hashes.SHA256()))
    u2f_data = b"\x00" + auth_data.rp_id_hash + cdh + b"\x09" * 16 + b"\x04" + cred_key[-2] + cred_key[-3]
    u2f_sig = key.sign(u2f_data, ec.ECDSA(hashes.SHA256()))
    der_reader: Callable[[bytes], object] | None
    try:
        from aioctap.server.attestation import _der

        der_reader = _der.parse_all
    except ImportError:
        der_reader = None

    def run(data: bytes) -> None:
        for fmt, sig in (("packed", packed_sig), ("fido-u2f", u2f_sig)):
            for trust in (None, anchors):
                try:
                    verify_attestation(
                        fmt, {"alg": -7, "sig": sig, "x5c": [data]}, auth_data, cdh, trust_anchors=trust, now=NOW
                    )
                except AttestationError:
                    pass
        if der_reader is not None:
            der_reader(data)

    return Target("attestation_certificate", run, (AttestationError,))


@target("attestation_structures")
def _attestation_structures() -> Target:
    """Selector byte + bytes into the attestation formats' own parsers: TPM certInfo (0) and pubArea (1),
    android-key KeyDescription (2), compact JWS (3), the DER reader (4) and a FIDO MDS3 BLOB (5: aioctap.server.mds and
    aioctap.mds3's python-fido2 dataclasses)."""
    _require("aioctap.server.attestation.tpm")
    from cryptography import x509
    from cryptography.hazmat.primitives.asymmetric import ec

    from aioctap.cose import ES256
    from aioctap.server.attestation import _der
    from aioctap.server.attestation.android_key import KeyDescription
    from aioctap.server.attestation.android_safetynet import Jws
    from aioctap.server.attestation.tpm import TpmsAttest, TpmtPublic, tpm_name
    from aioctap.server.errors import AttestationError, MetadataError
    from aioctap.webauthn import AttestedCredentialData

    root_der = _root_certificate()
    root = x509.load_der_x509_certificate(root_der)
    cred = AttestedCredentialData.create(
        b"\x01" * 16, b"\x09" * 16, ES256.from_cryptography_key(ec.derive_private_key(7, ec.SECP256R1()).public_key())
    )

    def walk(tlvs: list[Any], depth: int = 0) -> None:
        for tlv in tlvs:
            for read in (_der.read_integer, _der.read_octets, _der.read_set_of_integers):
                try:
                    read(tlv, "fuzz")
                except AttestationError:
                    pass
            if tlv.constructed and depth < 8:
                walk(tlv.children(), depth + 1)

    def run(data: bytes) -> None:
        if not data:
            return
        selector, body = data[0] % 6, data[1:]
        if selector == 0:
            TpmsAttest.parse(body)
        elif selector == 1:
            pub = TpmtPublic.parse(body)
            pub.matches(cred)
            for alg in (0x000B, 0x000C, 0x0004):
                tpm_name(body, alg)
        elif selector == 2:
            KeyDescription.parse(body)
        elif selector == 3:
            jws = Jws.parse(body, "fuzz JWS")
            jws.verify(jws.certificates("fuzz JWS")[0], "fuzz JWS")
        elif selector == 4:
            walk(_der.parse_all(body))
        else:
            from aioctap.server.mds import parse_metadata_blob

            blob = parse_metadata_blob(body, root, now=NOW, allow_expired=True)
            for entry in blob.entries:
                blob.trust_anchors(entry)
                blob.check_status(entry, NOW.date())
            # python-fido2's dataclasses over the same verified payload (aioctap.mds3): MetadataError or parsed
            from aioctap.mds3 import parse_blob

            for parsed in parse_blob(body, root_der, now=NOW, allow_expired=True).entries:
                dict(parsed)

    return Target("attestation_structures", run, (AttestationError, MetadataError), max_len=8192)


@target("verify_registration")
def _verify_registration() -> Target:
    """A registration response (PublicKeyCredential JSON) into verify_registration."""
    from aioctap.server import VerificationError, verify_registration

    def run(data: bytes) -> None:
        verify_registration(
            data, expected_challenge=REG_CHALLENGE, expected_origin=ORIGIN, expected_rp_id=RP_ID, now=NOW
        )

    return Target("verify_registration", run, (VerificationError,), max_len=16384, tokens=JSON_TOKENS)


@target("verify_authentication")
def _verify_authentication() -> Target:
    """An assertion (PublicKeyCredential JSON) into verify_authentication.

    The harness takes the stored credential public key (base64url COSE) from an extra top-level
    member ``_publicKey`` when present, so the seeds verify and the key parser is fuzzed too.
    """
    from aioctap.server import VerificationError, verify_authentication
    from aioctap.webauthn import WebAuthnDataError, websafe_decode

    default_key = bytes.fromhex(
        "a5010203262001215820" + "11" * 32 + "225820" + "22" * 32
    )  # an ES256 key; seeds carry their own

    def run(data: bytes) -> None:
        credential: Any = data
        public_key = default_key
        try:
            obj = json.loads(data)
        except (ValueError, RecursionError):
            obj = None
        if isinstance(obj, dict) and isinstance(obj.get("_publicKey"), str):
            try:
                public_key = websafe_decode(obj.pop("_publicKey"))
            except WebAuthnDataError:
                return
            credential = obj
        verify_authentication(
            credential,
            expected_challenge=AUTH_CHALLENGE,
            expected_origin=ORIGIN,
            expected_rp_id=RP_ID,
            credential_public_key=public_key,
            credential_current_sign_count=0,
        )

    return Target("verify_authentication", run, (VerificationError,), max_len=16384, tokens=JSON_TOKENS)


# -- OTP ---------------------------------------------------------------------------------------------------


@target("otpauth")
def _otpauth() -> Target:
    """Selector byte + text: otpauth URIs, serialized (and encrypted) OTPs, tokens."""
    from aioctap.otp import HOTP, TOTP, BaseOTP, KeyFormatError, OTPContext, TokenError

    context = OTPContext({"1": "aioctap fuzz application secret"}, encrypt_cost=8)
    totp = TOTP("JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP", label="alice", issuer="Example")
    hotp = HOTP("JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP", counter=5)

    def check(otp: BaseOTP) -> None:
        # whatever was accepted must serialize and come back equal
        again = BaseOTP.from_json(otp.to_json())
        assert again.key == otp.key and again.to_dict() == otp.to_dict()
        if otp.label:
            assert BaseOTP.from_uri(otp.to_uri()).key == otp.key
        if isinstance(otp, TOTP):  # a time before T0 is the caller's ValueError, not the parser's
            otp.generate(max(1_700_000_000, otp.t0))
        elif isinstance(otp, HOTP):
            otp.generate()

    def run(data: bytes) -> None:
        if not data:
            return
        selector, text = data[0] % 5, _text(data[1:])
        if selector == 0:
            check(BaseOTP.from_uri(text))
        elif selector == 1:
            try:
                enc = json.loads(text).get("enckey")
            except (ValueError, AttributeError, RecursionError):
                enc = None
            if isinstance(enc, dict) and isinstance(enc.get("c"), int) and enc["c"] > 10:
                return  # PBKDF2 with 2^cost iterations: slow by design, not a parser path
            check(context.from_json(text))
        elif selector == 2:
            check(BaseOTP.from_source(text))
        elif selector == 3:
            totp.match(text, 1_700_000_000)
        else:
            hotp.match(text)

    tokens = (*JSON_TOKENS, b"otpauth://", b"totp", b"hotp", b"secret=", b"issuer=", b"algorithm=", b"digits=",
              b"period=", b"counter=", b"%00", b"%ZZ", b"%ED%A0%80", b"&", b"?", b"enckey", b'"v":1')  # fmt: skip
    return Target("otpauth", run, (KeyFormatError, TokenError), tokens=tokens)


@target("taler")
def _taler() -> Target:
    """Taler amounts and POS confirmation parameters (``key|algorithm|price`` text, 4-byte time)."""
    from aioctap.otp.errors import KeyFormatError
    from aioctap.otp.taler import TalerAmount, pos_confirmation

    def run(data: bytes) -> None:
        if len(data) < 4:
            return
        now = int.from_bytes(data[:4], "big")
        text = _text(data[4:])
        try:
            amount = TalerAmount.parse(text)
        except KeyFormatError:
            pass
        else:
            assert TalerAmount.parse(str(amount)) == amount
            assert len(amount.to_nbo()) == 24
        parts = text.split("|")
        key, algorithm, price = parts[0], parts[1] if len(parts) > 1 else "0", parts[2] if len(parts) > 2 else None
        pos_confirmation(key, algorithm, now, price)

    return Target("taler", run, (KeyFormatError,))


# -- HTTP APIs (in-process ASGI) -------------------------------------------------------------------------


async def _asgi_request(
    app: Any,
    method: str,
    path: str,
    body: bytes,
    headers: list[tuple[bytes, bytes]] | None = None,
    query: bytes = b"",
) -> tuple[int, bytes]:
    """One request through an ASGI app, without a server: (status, body)."""
    from urllib.parse import quote

    raw_path = quote(path, safe="/")
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method, "scheme": "http",
        "path": path, "raw_path": raw_path.encode(), "query_string": query, "root_path": "",
        "headers": [(b"content-type", b"application/json"), (b"host", b"localhost"), *(headers or [])],
        "client": ("127.0.0.1", 1234), "server": ("localhost", 80),
    }  # fmt: skip
    sent = False
    status = 0
    chunks: list[bytes] = []

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    await app(scope, receive, send)
    return status, b"".join(chunks)


class _ServerErrors:
    """Keeps the exception an app logged while answering 500, so the crash report names where it was raised."""

    def __init__(self) -> None:
        import logging

        class Keep(logging.Handler):
            def emit(inner, record: logging.LogRecord) -> None:  # the enclosing self keeps it
                if record.exc_info and record.exc_info[1] is not None:
                    self.caught = record.exc_info[1]

        self.caught: BaseException | None = None
        logger = logging.getLogger("aioctap")
        logger.addHandler(Keep(logging.ERROR))

    def check(self, status: int, what: str, answer: bytes) -> None:
        caught, self.caught = self.caught, None
        if status >= 500:
            if caught is not None:
                raise caught
            raise AssertionError(f"{what} answered {status}: {answer[:200]!r}")


FIDO2_ROUTES = ("/fido2/attestation/options", "/fido2/attestation/result", "/fido2/assertion/options",
                "/fido2/assertion/result")  # fmt: skip


@target("fido2_api")
def _fido2_api() -> Target:
    """Selector byte + JSON body into the /fido2 routes of the relying-party app (memory store).

    Selector bits 0-1 pick the route; for the result routes bit 2 has the harness open a real ceremony
    first and put its session id into the body (when the body is a JSON object), so the body reaches
    the verification. A 500 answer (or an exception out of the app) is a crash.
    """
    _require("aioctap.server.app")
    from aioctap.server.app import create_app
    from aioctap.stores.memory import MemoryStore

    store = MemoryStore()
    app = create_app(store, rp_id=RP_ID, origin=ORIGIN, otp_routes=False)
    errors = _ServerErrors()

    def run(data: bytes) -> None:
        if not data:
            return
        store.__init__()  # type: ignore[misc]  # an empty store for each input, the app kept (building it is slow)
        path = FIDO2_ROUTES[data[0] & 3]
        body = data[1:]

        async def scenario() -> None:
            nonlocal body
            cookie = None
            if data[0] & 4 and path.endswith("/result"):
                options = {"username": "alice", "displayName": "Alice"} if "attestation" in path else {}
                if "assertion" in path:  # a user with a credential is needed for a named assertion
                    options = {"username": ""}
                status, answer = await _asgi_request(
                    app, "POST", path.replace("result", "options"), json.dumps(options).encode()
                )
                assert status < 500, answer
                session = json.loads(answer).get("fido2SessionId")
                try:
                    obj = json.loads(body)
                except (ValueError, RecursionError):
                    obj = None
                if isinstance(obj, dict) and isinstance(session, str):
                    obj.setdefault("fido2SessionId", session)
                    body = json.dumps(obj).encode()
                elif isinstance(session, str):
                    cookie = f"fido2-session={session}"
            status, answer = await _asgi_request(
                app, "POST", path, body, [(b"cookie", cookie.encode())] if cookie else None
            )
            errors.check(status, path, answer)

        run_async(scenario())

    tokens = (*JSON_TOKENS, b'"username"', b'"displayName"', b'"authenticatorSelection"', b'"residentKey"',
              b'"userVerification"', b'"attestation"', b'"extensions"', b'"fido2SessionId"', b'"ceremony"',
              b'"authentication"', b'"rawId"', b'"response"', b'"userHandle"', b'"transports"')  # fmt: skip
    return Target("fido2_api", run, (), max_len=16384, tokens=tokens)


ACCOUNT_CREDENTIAL = b"fuzz-credential-1"


@target("fido2_account_api")
def _fido2_account_api() -> Target:
    """Selector byte + bytes into the signed-in user's routes of the relying-party app (memory store).

    A user with two credentials is signed in for each input. Selector bits 0-2 pick the request: PATCH
    (rename) or DELETE of a credential, GET /fido2/account, GET /fido2/credentials, POST /fido2/logout;
    bit 3 names the credential from the input (its first line) instead of the user's own; bit 4 sends
    the input's first line as the session cookie instead of the real one. The rest is the body. A 500
    answer (or an exception out of the app) is a crash.
    """
    _require("aioctap.server.accounts")
    from aioctap.server.app import create_app
    from aioctap.server.records import RelyingParty
    from aioctap.server.verify import RegistrationResult
    from aioctap.stores.memory import MemoryStore
    from aioctap.webauthn import Aaguid, websafe_encode

    store = MemoryStore()
    app = create_app(store, rp_id=RP_ID, origin=ORIGIN, otp_routes=False)
    rp: RelyingParty = app.state.relying_party
    errors = _ServerErrors()
    own = websafe_encode(ACCOUNT_CREDENTIAL)

    def registration(credential_id: bytes) -> RegistrationResult:
        from aioctap.server.attestation import AttestationType

        return RegistrationResult(
            credential_id=credential_id, credential_public_key=b"\xa0", sign_count=0, aaguid=Aaguid(bytes(16)),
            fmt="none", attestation_type=AttestationType.NONE, trust_path=(), attestation_trusted=False,
            user_verified=True, user_present=True, backup_eligible=False, backup_state=False, transports=(),
            extensions=None, alg=-7,
        )  # fmt: skip

    requests = (("PATCH", "credential"), ("DELETE", "credential"), ("GET", "/fido2/account"),
                ("GET", "/fido2/credentials"), ("POST", "/fido2/logout"), ("PATCH", "credential"),
                ("DELETE", "credential"), ("POST", "/fido2/logout"))  # fmt: skip

    def run(data: bytes) -> None:
        if not data:
            return
        store.__init__()  # type: ignore[misc]  # an empty store for each input, the app kept
        method, path = requests[data[0] & 7]
        first, _, body = data[1:].partition(b"\n")
        text = first.decode("utf-8", "replace")

        async def scenario() -> None:
            token, writes = rp.open_session("alice", websafe_encode(b"user-1"), own, websafe_encode(b"\xa0"))
            await rp.add_credential("alice", b"user-1", registration(ACCOUNT_CREDENTIAL), also=writes)
            await rp.add_credential("alice", b"user-1", registration(b"fuzz-credential-2"))
            url = path
            if path == "credential":
                url = "/fido2/credentials/" + (text.replace("/", "_") if data[0] & 8 else own)
            cookie = text if data[0] & 16 else token
            status, answer = await _asgi_request(
                app, method, url, body, [(b"cookie", f"aioctap-account={cookie}".encode("utf-8", "replace"))]
            )
            errors.check(status, f"{method} {url}", answer)

        run_async(scenario())

    tokens = (*JSON_TOKENS, b'"name"', b"\n", own.encode())
    return Target("fido2_account_api", run, (), max_len=4096, tokens=tokens)


@target("otp_api")
def _otp_api() -> Target:
    """Selector byte + bytes into the Taler OTP-devices and token routes (memory store, admin token).

    The harness first creates device ``dev1`` (algorithm 1, or 2 with selector bit 3). Selector bits
    0-2 pick what the rest of the input is: 0 POST device body, 1 PATCH body, 2 GET query string,
    3 POST token body, 4 device id in the path, 5 token serial in the path, 6 instance in the path,
    7 the Authorization header. A 500 answer (or an exception out of the app) is a crash.
    """
    _require("aioctap.otp.api")
    from starlette.applications import Starlette

    from aioctap.otp.api import otp_device_routes
    from aioctap.stores.memory import MemoryStore

    admin = [(b"authorization", b"Bearer secret-token:fuzz-admin-token")]

    store = MemoryStore()
    app = Starlette(routes=otp_device_routes(store, admin_token="secret-token:fuzz-admin-token"))
    errors = _ServerErrors()

    def run(data: bytes) -> None:
        if not data:
            return
        store.__init__()  # type: ignore[misc]  # an empty store for each input, the app kept (building it is slow)
        selector, body = data[0], data[1:]
        # a path segment as a server decodes it from the request line (percent-decoded UTF-8, invalid -> U+FFFD)
        text = body.decode("utf-8", "replace")

        async def scenario() -> None:
            device = {"otp_device_id": "dev1", "otp_device_description": "till", "otp_key": "JBSWY3DPEHPK3PXP",
                      "otp_algorithm": 2 if selector & 8 else 1, "otp_ctr": 0}  # fmt: skip
            status, answer = await _asgi_request(
                app, "POST", "/private/otp-devices", json.dumps(device).encode(), admin
            )
            assert status == 204, answer
            route = selector & 7
            if route == 0:
                status, answer = await _asgi_request(app, "POST", "/private/otp-devices", body, admin)
            elif route == 1:
                status, answer = await _asgi_request(app, "PATCH", "/private/otp-devices/dev1", body, admin)
            elif route == 2:
                status, answer = await _asgi_request(app, "GET", "/private/otp-devices/dev1", b"", admin, body)
            elif route == 3:
                status, answer = await _asgi_request(app, "POST", "/private/token", body, admin)
            elif route == 4:
                status, answer = await _asgi_request(app, "GET", f"/private/otp-devices/{text}", b"", admin)
            elif route == 5:
                status, answer = await _asgi_request(app, "DELETE", f"/private/tokens/{text}", b"", admin)
            elif route == 6:
                path = f"/instances/{text}/private/otp-devices"
                status, answer = await _asgi_request(app, "POST", path, json.dumps(device).encode(), admin)
            else:
                status, answer = await _asgi_request(
                    app, "GET", "/private/otp-devices", b"", [(b"authorization", body)]
                )
            errors.check(status, f"route {route}", answer)

        run_async(scenario())

    tokens = (*JSON_TOKENS, b'"otp_device_id"', b'"otp_device_description"', b'"otp_key"', b'"otp_algorithm"',
              b'"otp_ctr"', b'"scope"', b'"duration"', b'"d_us"', b'"forever"', b'"refreshable"', b"faketime=",
              b"price=", b"TOTP_WITH_PRICE", b"secret-token:", b"Bearer ", b"%00", b"%2F")  # fmt: skip
    return Target("otp_api", run, (), max_len=8192, tokens=tokens)


def load_target(name: str) -> Target:
    """Build one target (raises :class:`TargetUnavailable` when its module is missing)."""
    return TARGETS[name]()
