"""Fixtures for the cross-implementation checks.

* ``authenticator`` / ``authenticator_none`` / ``authenticator_self``: ``aioctap virtual --udp`` as a real
  process (packed attestation with a chain, "none", packed self attestation). One process per kind serves the
  whole session (starting one costs ~0.5 s); before every test it is power-cycled (SIGUSR1) and reset with
  python-fido2's ``Ctap2.reset()``, so each test sees an empty authenticator with no PIN. The test process
  creates the state file, so it knows the attestation root (and the keys, for re-signing forgeries).
* ``three_rps``: a relying party whose options come from python-fido2's ``Fido2Server`` and whose every
  response is verified by python-fido2, py_webauthn AND aioctap.server (all must agree).
* ``u2f_only``: a python-fido2 device without its CBOR capability, so python-fido2's client speaks CTAP1/U2F.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from aioctap.interop import fido2_udp_device
from aioctap.virtual.storage import load_state

POWER_CYCLE_LINE = "power cycle (SIGUSR1)"


class VirtualProcess:
    """One ``python -m aioctap virtual --udp 127.0.0.1:0 --state FILE`` process."""

    def __init__(self, directory: Path, attestation: str) -> None:
        self.attestation = attestation
        self.state_file = directory / f"{attestation}.state"
        self.log_file = directory / f"{attestation}.log"
        env = {k: v for k, v in os.environ.items() if k != "AIOCTAP_VIRTUAL_KEY"}
        env["PYTHONUNBUFFERED"] = "1"
        # the test process creates the state (and its key file beside it), so it knows the attestation root
        self.root_der = load_state(self.state_file).attestation_root
        self.root = x509.load_der_x509_certificate(self.root_der)
        self.root_pem = self.root.public_bytes(serialization.Encoding.PEM)
        with self.log_file.open("wb") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "aioctap", "virtual", "--udp", "127.0.0.1:0", "--state", str(self.state_file),
                 "--attestation", attestation, "--quiet"],
                stdout=log, stderr=log, env=env,
            )  # fmt: skip
        deadline = time.monotonic() + 20
        while not (found := re.search(r"listening on udp:127\.0\.0\.1:(\d+)", self.log_file.read_text())):
            if self.proc.poll() is not None:
                raise RuntimeError(f"aioctap virtual exited: {self.log_file.read_text()}")
            if time.monotonic() > deadline:
                self.close()
                raise RuntimeError("aioctap virtual did not start listening")
            time.sleep(0.02)
        # aioctap virtual opens its signal receiver before it logs "listening": a SIGUSR1 sent as soon as the
        # line is read is a power cycle, never the default action (which would end the process)
        self.port = int(found.group(1))

    @property
    def address(self) -> str:
        """The address for ``aioctap.open_device``."""
        return f"udp:127.0.0.1:{self.port}"

    @contextmanager
    def fido2_device(self) -> Iterator[Any]:
        """A python-fido2 ``CtapHidDevice`` (a new CTAPHID channel) over UDP."""
        dev = fido2_udp_device("127.0.0.1", self.port)
        try:
            yield dev
        finally:
            dev.close()

    def power_cycle(self) -> None:
        """SIGUSR1, and wait until the process has logged that it handled it."""
        seen = self.log_file.read_text().count(POWER_CYCLE_LINE)
        self.proc.send_signal(signal.SIGUSR1)
        deadline = time.monotonic() + 10
        while self.log_file.read_text().count(POWER_CYCLE_LINE) <= seen:
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"aioctap virtual did not power-cycle: {self.log_file.read_text()}")
            time.sleep(0.005)

    def fresh(self) -> None:
        """Power-cycle (which opens the reset window) and authenticatorReset, with python-fido2."""
        from fido2.ctap2.base import Ctap2

        self.power_cycle()
        with self.fido2_device() as dev:
            Ctap2(dev).reset()

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


@pytest.fixture(scope="session")
def _virtual_processes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, VirtualProcess]]:
    started: dict[str, VirtualProcess] = {}
    started_in = tmp_path_factory.mktemp("interop-virtual")

    class Lazy(dict[str, VirtualProcess]):
        def __missing__(self, attestation: str) -> VirtualProcess:
            started[attestation] = self[attestation] = VirtualProcess(started_in, attestation)
            return started[attestation]

    try:
        yield Lazy()
    finally:
        for process in started.values():
            process.close()


@pytest.fixture
def authenticator(_virtual_processes: dict[str, VirtualProcess]) -> VirtualProcess:
    """The packed-attestation authenticator process, freshly reset (no PIN, no credentials)."""
    process = _virtual_processes["packed"]
    process.fresh()
    return process


@pytest.fixture
def authenticator_none(_virtual_processes: dict[str, VirtualProcess]) -> VirtualProcess:
    """An authenticator process whose attestation format is "none", freshly reset."""
    process = _virtual_processes["none"]
    process.fresh()
    return process


# -- three verifiers, one relying party -------------------------------------------------------------------

RP_ID = "example.com"
ORIGIN = "https://example.com"
VERIFIERS = ("python-fido2", "py_webauthn", "aioctap")


class _RootVerifier:
    """python-fido2's AttestationVerifier trusting one root (built lazily: fido2 is imported in tests only)."""

    def __new__(cls, root_der: bytes) -> Any:
        from fido2.attestation.base import AttestationVerifier

        class RootVerifier(AttestationVerifier):
            def ca_lookup(self, attestation_result: Any, auth_data: Any) -> bytes:
                return root_der

        return RootVerifier()


@dataclass
class Registered:
    """A credential every verifier accepted, with what each of them returned."""

    credential_id: bytes
    cose_key: bytes
    fido2_credential: Any
    sign_count: int
    user_verified: bool
    extensions: dict[str, Any] | None
    aioctap: Any
    py_webauthn: Any
    user_id: bytes = b""


class ThreeRelyingParties:
    """One RP (``example.com`` at ``https://example.com``) checked by three independent verifiers.

    Options come from python-fido2's ``Fido2Server``; ``register_complete`` / ``authenticate_complete``
    run python-fido2's ``Fido2Server``, py_webauthn's ``verify_*_response`` and aioctap's
    ``verify_registration`` / ``verify_authentication`` and check that they agree on what they return.
    ``*_outcomes`` give each verifier's verdict ("accepted", "rejected", or for aioctap "crashed: X" when it
    raised something else than a ``VerificationError``) without changing any state.
    """

    def __init__(self, root_der: bytes | None, *, attestation: str = "direct", algorithms: tuple[int, ...] = (-7,)):
        from fido2.server import Fido2Server
        from fido2.webauthn import (
            AttestationConveyancePreference,
            PublicKeyCredentialParameters,
            PublicKeyCredentialRpEntity,
            PublicKeyCredentialType,
        )

        self.root_der = root_der
        self.attestation = attestation
        self.server = Fido2Server(
            PublicKeyCredentialRpEntity(name="Example", id=RP_ID),
            attestation=AttestationConveyancePreference(attestation),
            verify_attestation=_RootVerifier(root_der) if root_der else None,
        )
        self.server.allowed_algorithms = [
            PublicKeyCredentialParameters(type=PublicKeyCredentialType.PUBLIC_KEY, alg=a) for a in algorithms
        ]
        self._state: Any = None
        self._challenge = b""
        self._require_uv = False
        self._user_id = b""
        self.credentials: list[Registered] = []

    # registration

    def register_begin(
        self,
        user_id: bytes = b"user-1",
        *,
        user_verification: str | None = "discouraged",
        resident_key: str | None = None,
        extensions: dict[str, Any] | None = None,
    ) -> Any:
        """python-fido2's CredentialCreationOptions (``.public_key`` for Fido2Client, ``dict()`` for JSON)."""
        from fido2.webauthn import PublicKeyCredentialUserEntity, ResidentKeyRequirement

        options, self._state = self.server.register_begin(
            PublicKeyCredentialUserEntity(id=user_id, name="alice", display_name="Alice"),
            [c.fido2_credential for c in self.credentials if c.user_id == user_id] or None,
            resident_key_requirement=ResidentKeyRequirement(resident_key) if resident_key else None,
            user_verification=_uv(user_verification),
            extensions=extensions,
        )
        self._challenge = options.public_key.challenge
        self._require_uv = user_verification == "required"
        self._user_id = user_id
        return options

    def _trust(self) -> Any:
        from aioctap.server import TrustAnchors

        if self.root_der is None:
            return None
        return TrustAnchors(roots=[x509.load_der_x509_certificate(self.root_der)])

    def _register_each(self, response: Mapping[str, Any]) -> tuple[Any, Any, Any]:
        from webauthn import verify_registration_response
        from webauthn.helpers.structs import AttestationFormat

        from aioctap.server import verify_registration

        def fido2() -> Any:
            return self.server.register_complete(self._state, dict(response))

        def py_webauthn() -> Any:
            roots = None
            if self.root_der is not None and self.attestation == "direct":
                pem = x509.load_der_x509_certificate(self.root_der).public_bytes(serialization.Encoding.PEM)
                roots = {AttestationFormat.PACKED: [pem]}
            return verify_registration_response(
                credential=dict(response), expected_challenge=self._challenge, expected_rp_id=RP_ID,
                expected_origin=ORIGIN, require_user_verification=self._require_uv,
                supported_pub_key_algs=_py_webauthn_algs(), pem_root_certs_bytes_by_fmt=roots,
            )  # fmt: skip

        def aioctap() -> Any:
            return verify_registration(
                dict(response), expected_challenge=self._challenge, expected_origin=ORIGIN, expected_rp_id=RP_ID,
                require_user_verification=self._require_uv, trust_anchors=self._trust(),
                require_attestation=self.attestation == "direct",
            )  # fmt: skip

        return fido2, py_webauthn, aioctap

    def register_outcomes(self, response: Mapping[str, Any]) -> dict[str, str]:
        """Each verifier's verdict on this registration response."""
        return _outcomes(self._register_each(response))

    def register_complete(self, response: Mapping[str, Any]) -> Registered:
        """All three must accept, and agree on the credential."""
        from aioctap import cbor

        fido2, py_webauthn, aioctap = (run() for run in self._register_each(response))
        cred = fido2.credential_data
        assert cred is not None
        assert cred.credential_id == py_webauthn.credential_id == aioctap.credential_id
        key = cbor.loads(aioctap.credential_public_key)
        assert dict(cred.public_key) == cbor.loads(py_webauthn.credential_public_key) == key
        assert fido2.counter == py_webauthn.sign_count == aioctap.sign_count
        assert str(cred.aaguid) == py_webauthn.aaguid == str(aioctap.aaguid)
        assert fido2.is_user_verified() == py_webauthn.user_verified == aioctap.user_verified
        assert py_webauthn.fmt == aioctap.fmt
        if self.attestation == "direct" and aioctap.fmt == "packed":
            assert aioctap.attestation_trusted
        registered = Registered(
            cred.credential_id, aioctap.credential_public_key, cred, aioctap.sign_count, aioctap.user_verified,
            aioctap.extensions, aioctap, py_webauthn, self._user_id,
        )  # fmt: skip
        self.credentials.append(registered)
        return registered

    # authentication

    def authenticate_begin(
        self, *, user_verification: str | None = "discouraged", extensions: dict[str, Any] | None = None,
        discoverable: bool = False, only: Registered | None = None,
    ) -> Any:  # fmt: skip
        """python-fido2's CredentialRequestOptions allowing the registered credentials (or ``only`` one of
        them; with ``discoverable``, none: the authenticator picks a discoverable one)."""
        allowed = [only] if only is not None else self.credentials
        options, self._state = self.server.authenticate_begin(
            None if discoverable else [c.fido2_credential for c in allowed],
            user_verification=_uv(user_verification),
            extensions=extensions,
        )
        self._challenge = options.public_key.challenge
        self._require_uv = user_verification == "required"
        return options

    def _stored(self, response: Mapping[str, Any]) -> Registered:
        from aioctap.webauthn import websafe_decode

        raw_id = websafe_decode(response["rawId"])
        for c in self.credentials:
            if c.credential_id == raw_id:
                return c
        raise AssertionError("the response names a credential that was never registered")

    def _authenticate_each(self, response: Mapping[str, Any]) -> tuple[Any, Any, Any]:
        from webauthn import verify_authentication_response

        from aioctap.server import verify_authentication

        stored = self._stored(response)

        def fido2() -> Any:
            return self.server.authenticate_complete(self._state, [stored.fido2_credential], dict(response))

        def py_webauthn() -> Any:
            return verify_authentication_response(
                credential=dict(response), expected_challenge=self._challenge, expected_rp_id=RP_ID,
                expected_origin=ORIGIN, credential_public_key=stored.cose_key,
                credential_current_sign_count=stored.sign_count, require_user_verification=self._require_uv,
            )  # fmt: skip

        def aioctap() -> Any:
            return verify_authentication(
                dict(response), expected_challenge=self._challenge, expected_origin=ORIGIN, expected_rp_id=RP_ID,
                credential_public_key=stored.cose_key, credential_current_sign_count=stored.sign_count,
                require_user_verification=self._require_uv,
            )  # fmt: skip

        return fido2, py_webauthn, aioctap

    def authenticate_outcomes(self, response: Mapping[str, Any]) -> dict[str, str]:
        """Each verifier's verdict on this assertion (the stored counters are not changed)."""
        return _outcomes(self._authenticate_each(response))

    def authenticate_complete(self, response: Mapping[str, Any]) -> Any:
        """All three must accept, and agree; the stored signature counter moves on. aioctap's result."""
        stored = self._stored(response)
        fido2, py_webauthn, aioctap = (run() for run in self._authenticate_each(response))
        assert fido2.credential_id == py_webauthn.credential_id == aioctap.credential_id == stored.credential_id
        assert py_webauthn.new_sign_count == aioctap.new_sign_count
        assert py_webauthn.user_verified == aioctap.user_verified
        stored.sign_count = aioctap.new_sign_count
        return aioctap


def _uv(requirement: str | None) -> Any:
    from fido2.webauthn import UserVerificationRequirement

    return UserVerificationRequirement(requirement) if requirement else None


def _py_webauthn_algs() -> list[Any]:
    from webauthn.helpers.cose import COSEAlgorithmIdentifier

    return list(COSEAlgorithmIdentifier)


def _outcomes(runs: tuple[Any, Any, Any]) -> dict[str, str]:
    from aioctap.server import VerificationError

    verdicts: dict[str, str] = {}
    for name, run in zip(VERIFIERS, runs, strict=True):
        try:
            run()
        except VerificationError:
            verdicts[name] = "rejected"
        except Exception as e:
            verdicts[name] = "rejected" if name != "aioctap" else f"crashed: {type(e).__name__}: {e}"
        else:
            verdicts[name] = "accepted"
    return verdicts


@pytest.fixture
def three_rps() -> type[ThreeRelyingParties]:
    """The class: ``three_rps(root_der, attestation="direct", algorithms=(-7,))``."""
    return ThreeRelyingParties


@pytest.fixture
def authenticator_self(_virtual_processes: dict[str, VirtualProcess]) -> VirtualProcess:
    """An authenticator process that uses packed self attestation, freshly reset."""
    process = _virtual_processes["self"]
    process.fresh()
    return process


class U2fOnly:
    """A python-fido2 device shown as a U2F-only key (no CBOR capability): python-fido2's client speaks CTAP1."""

    def __new__(cls, dev: Any) -> Any:
        from fido2.ctap import CtapDevice
        from fido2.hid import CAPABILITY

        class Wrapped(CtapDevice):
            @property
            def capabilities(self) -> int:
                return int(dev.capabilities) & ~int(CAPABILITY.CBOR)

            def call(self, cmd: int, data: bytes = b"", event: Any = None, on_keepalive: Any = None) -> bytes:
                return bytes(dev.call(cmd, data, event, on_keepalive))

            def close(self) -> None:
                dev.close()

            @classmethod
            def list_devices(cls) -> Any:
                return iter(())

        return Wrapped()


@pytest.fixture
def u2f_only() -> type[U2fOnly]:
    """``u2f_only(fido2_device)``: the same device without its CBOR capability."""
    return U2fOnly
