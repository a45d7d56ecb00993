"""The software authenticator: makeCredential and getAssertion per second, beside the raw signature rate.

    python3 benchmarks/bench_authenticator.py [--quick]

The "getAssertion" rows are the authenticator's rate through the in-memory CTAPHID transport (issue 4's
measure): a host sends prepared request bytes with ``CtapHidDevice.call`` over the in-memory packet
transport, through the device-side CTAPHID core, to the authenticator (strict CBOR decoding, request checks,
credential ID unsealing, authenticator data, signature, response CBOR) and back. The "with aioctap's Ctap2"
rows add the host's own CTAP2 layer (``aioctap.ctap2.Ctap2``: request building and encoding, strict decoding
and parsing of the response), the path an application takes. The peer is ``cryptography``'s own signature
rate for the same algorithm over a message of the same size, measured in the same run (for the getAssertion
rows in 50 ms slices alternating with the measured path's, so that both see the same machine). Target (issue 4):
getAssertion at least 0.5x the raw sign rate.

Two more rows say where the time goes: "engine only" calls ``VirtualAuthenticator.handle`` directly with
the same request bytes (no CTAPHID, no transport), and "CTAPHID PING" is a round trip of a request and a
response of getAssertion's sizes through the same in-memory transport with no authenticator work at all:
the floor under any command through that transport.

The "algorithms" rows are the other signature algorithms of the authenticator (ES384, ES512, PS256, ML-DSA-44/65/87):
getAssertion through the engine alone beside ``cryptography``'s sign rate for the same key type and message size,
and ``aioctap.cose`` verifying one such assertion signature beside ``cryptography``'s own verify.

The "cbor" rows time ``aioctap.cbor.loads(data, strict=True)`` (the authenticator's strict canonical decoding
of every request, and the client's of every response) on a typical getAssertion request and response, beside
cbor2's own ``loads`` with no checks at all, and ``aioctap.cbor.dumps`` of a getAssertion request beside
``cbor2.dumps``; one loads row cycles through 256 requests each with its own hash and credential ID.
"""

from __future__ import annotations

import functools
import hashlib
import sys
import time
import timeit
from collections.abc import Awaitable, Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

import anyio  # noqa: E402
import cbor2  # noqa: E402
from _report import Row, print_rows  # noqa: E402
from cryptography.hazmat.primitives import hashes  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, mldsa, padding, rsa  # noqa: E402

from aioctap import cbor  # noqa: E402
from aioctap.cose import CoseKey  # noqa: E402
from aioctap.ctap2 import Ctap2  # noqa: E402
from aioctap.hid.protocol import CTAPHID  # noqa: E402
from aioctap.virtual import VirtualAuthenticator, open_virtual_device  # noqa: E402

ALGORITHMS = {"ES256": -7, "EdDSA": -8}
SLICE = 0.05  # s: the raw sign rate and the getAssertion rate are measured in turns of this length
CDH = hashlib.sha256(b"benchmark client data").digest()
RP = {"id": "bench.example", "name": "Bench"}


def _raw_signer_for(alg: str) -> Callable[[], object]:
    """One raw ``cryptography`` signature of a getAssertion's signed bytes (a fresh key of ``alg``) per call."""
    message = bytes(37) + CDH  # authenticator data (no extensions) + client data hash
    if alg == "EdDSA":
        return functools.partial(ed25519.Ed25519PrivateKey.generate().sign, message)
    return functools.partial(ec.generate_private_key(ec.SECP256R1()).sign, message, ec.ECDSA(hashes.SHA256()))


def _no_status(_status: object) -> None:
    pass


async def _get_assertion_payload(send: Callable[[bytes], Awaitable[bytes]], alg: int) -> bytes:
    """A getAssertion request (command byte + CBOR) for a new credential of ``alg``, made with ``send``."""
    request = {1: CDH, 2: RP, 3: {"id": b"u"}, 4: [{"type": "public-key", "alg": alg}]}
    response = await send(b"\x01" + cbor.dumps(request))
    auth_data = cbor.loads(response[1:])[2]
    cred_id = auth_data[55 : 55 + int.from_bytes(auth_data[53:55], "big")]
    return b"\x02" + cbor.dumps({1: RP["id"], 2: CDH, 3: [{"type": "public-key", "id": cred_id}]})


async def _get_assertion_rate(send: Callable[[bytes], Awaitable[bytes]], alg: int, seconds: float) -> float:
    """getAssertions per second, each request's bytes (command byte + CBOR) sent with ``send``."""
    payload = await _get_assertion_payload(send, alg)
    count = 0
    start = time.perf_counter()
    while (elapsed := time.perf_counter() - start) < seconds:
        for _ in range(20):
            if (await send(payload))[0] != 0:
                raise RuntimeError("getAssertion failed")
        count += 20
    return count / elapsed


async def _engine_rate(alg: int, seconds: float) -> float:
    """The authenticator alone: ``VirtualAuthenticator.handle`` called directly."""
    auth = VirtualAuthenticator(attestation="none")

    async def send(data: bytes) -> bytes:
        return await auth.handle(CTAPHID.CBOR, data, _no_status)

    return await _get_assertion_rate(send, alg, seconds)


async def _authenticator_rate(alg: int, name: str, seconds: float) -> tuple[float, float]:
    """getAssertion through the in-memory CTAPHID transport, the host sending prepared request bytes, and the raw
    sign rate, measured in alternating slices of ``SLICE`` s so that both see the same machine (on a shared
    machine, two rates taken seconds apart differ by up to a third)."""
    async with open_virtual_device(attestation="none") as dev:
        send = functools.partial(dev.call, CTAPHID.CBOR)
        payload = await _get_assertion_payload(send, alg)
        sign = _raw_signer_for(name)
        counts, spent = [0, 0], [0.0, 0.0]
        while min(spent) < seconds:
            start = time.perf_counter()
            while (elapsed := time.perf_counter() - start) < SLICE:
                for _ in range(10):
                    sign()
                counts[0] += 10
            spent[0] += elapsed
            start = time.perf_counter()
            while (elapsed := time.perf_counter() - start) < SLICE:
                for _ in range(10):
                    if (await send(payload))[0] != 0:
                        raise RuntimeError("getAssertion failed")
                counts[1] += 10
            spent[1] += elapsed
        return counts[1] / spent[1], counts[0] / spent[0]


async def _ping_rate(seconds: float) -> float:
    async with open_virtual_device() as dev:
        request, response_size = bytes(120), 160  # about a getAssertion request and response
        count = 0
        start = time.perf_counter()
        while (elapsed := time.perf_counter() - start) < seconds:
            await dev.call(CTAPHID.PING, request + bytes(response_size - len(request)))
            count += 1
        return count / elapsed


async def _ctap_rates(alg: int, seconds: float) -> tuple[float, float]:
    async with open_virtual_device(attestation="none") as dev:
        ctap = await Ctap2.create(dev)
        params = [{"type": "public-key", "alg": alg}]
        count = 0
        start = time.perf_counter()
        while (elapsed := time.perf_counter() - start) < seconds:
            att = await ctap.make_credential(CDH, RP, {"id": count.to_bytes(4, "big"), "name": "u"}, params)
            count += 1
        make_rate = count / elapsed
        cred = att.auth_data.credential_data
        assert cred is not None
        allow = [{"type": "public-key", "id": cred.credential_id}]
        count = 0
        start = time.perf_counter()
        while (elapsed := time.perf_counter() - start) < seconds:
            await ctap.get_assertion(RP["id"], CDH, allow)
            count += 1
        return make_rate, count / elapsed


def _per_call_us(fn: object, seconds: float) -> float:
    timer = timeit.Timer(fn)  # type: ignore[arg-type]
    number, _ = timer.autorange()
    repeat = max(3, int(seconds / max(timer.timeit(number), 1e-3)))
    return min(timer.repeat(repeat=min(repeat, 15), number=number)) / number * 1e6


def _cbor_rows(seconds: float) -> list[Row]:
    cred_id = bytes(range(64))
    request = cbor.dumps({1: RP["id"], 2: CDH, 3: [{"type": "public-key", "id": cred_id}], 5: {"up": True}})
    response = cbor.dumps(
        {1: {"type": "public-key", "id": cred_id}, 2: bytes(37), 3: bytes(71), 4: {"id": b"user-id-1234"}}
    )
    # what an authenticator sees: each request with its own clientDataHash and credential ID
    varied = [
        cbor.dumps(
            {
                1: RP["id"],
                2: hashlib.sha256(i.to_bytes(4, "big")).digest(),
                3: [{"type": "public-key", "id": hashlib.sha512(i.to_bytes(4, "big")).digest()}],
                5: {"up": True},
            }
        )
        for i in range(256)
    ]

    def loads_varied() -> None:
        for data in varied:
            cbor.loads(data, strict=True)

    def cbor2_varied() -> None:
        for data in varied:
            cbor2.loads(data)

    rows = []
    for name, data in (("getAssertion request", request), ("getAssertion response", response)):
        ours = _per_call_us(lambda data=data: cbor.loads(data, strict=True), seconds / 6)
        peer = _per_call_us(lambda data=data: cbor2.loads(data), seconds / 6)
        case = f"strict loads, {name} ({len(data)} B)"
        rows.append(Row("cbor", case, "us", ours, "cbor2.loads, no checks", peer, "<= 2.5 us"))
    ours = _per_call_us(loads_varied, seconds / 6) / len(varied)
    peer = _per_call_us(cbor2_varied, seconds / 6) / len(varied)
    case = "strict loads, 256 getAssertion requests, each its own hash and ID"
    rows.append(Row("cbor", case, "us", ours, "cbor2.loads, no checks", peer, "<= 2.5 us"))
    # a host's getAssertion request as it builds it: the allowList entry's keys not yet in CTAP2 order
    value = {1: RP["id"], 2: CDH, 3: [{"type": "public-key", "id": cred_id}]}
    ours = _per_call_us(lambda: cbor.dumps(value), seconds / 6)
    peer = _per_call_us(lambda: cbor2.dumps(value), seconds / 6)
    rows.append(Row("cbor", "dumps, getAssertion request", "us", ours, "cbor2.dumps, dict order", peer, "<= 2 us"))
    return rows


MORE_ALGORITHMS = {"ES384": -35, "ES512": -36, "PS256": -37, "ML-DSA-44": -48, "ML-DSA-65": -49, "ML-DSA-87": -50}
_PSS = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=padding.PSS.MAX_LENGTH)


def _raw_signer(alg: int) -> tuple[Callable[[bytes], bytes], Callable[[bytes, bytes], None]]:
    """``cryptography``'s sign and verify for a fresh key of COSE algorithm ``alg``."""
    if alg in (-35, -36):
        curve, algorithm = (ec.SECP384R1(), ec.ECDSA(hashes.SHA384())) if alg == -35 else (
            ec.SECP521R1(), ec.ECDSA(hashes.SHA512()))  # fmt: skip
        key = ec.generate_private_key(curve)
        public = key.public_key()
        return (lambda m: key.sign(m, algorithm)), (lambda s, m: public.verify(s, m, algorithm))
    if alg == -37:
        rsa_key = rsa.generate_private_key(65537, 2048)
        rsa_public = rsa_key.public_key()
        return (lambda m: rsa_key.sign(m, _PSS, hashes.SHA256())), (
            lambda s, m: rsa_public.verify(s, m, _PSS, hashes.SHA256()))  # fmt: skip
    private = {-48: mldsa.MLDSA44PrivateKey, -49: mldsa.MLDSA65PrivateKey, -50: mldsa.MLDSA87PrivateKey}[alg]
    pq_key = private.generate()
    pq_public = pq_key.public_key()
    return pq_key.sign, (lambda s, m: pq_public.verify(s, m))


def _rate(fn: Callable[[], object], seconds: float) -> float:
    count = 0
    start = time.perf_counter()
    while (elapsed := time.perf_counter() - start) < seconds:
        for _ in range(5):
            fn()
        count += 5
    return count / elapsed


async def _signature_and_key(alg: int) -> tuple[bytes, bytes, CoseKey]:
    """One getAssertion's signed bytes, its signature and the credential's COSE key, from the engine."""
    auth = VirtualAuthenticator(attestation="none")
    request = {1: CDH, 2: RP, 3: {"id": b"u"}, 4: [{"type": "public-key", "alg": alg}]}
    response = cbor.loads((await auth.handle(CTAPHID.CBOR, b"\x01" + cbor.dumps(request), _no_status))[1:])
    auth_data = response[2]
    length = int.from_bytes(auth_data[53:55], "big")
    cred_id = auth_data[55 : 55 + length]
    key = CoseKey.parse(cbor.loads(auth_data[55 + length :]))
    payload = b"\x02" + cbor.dumps({1: RP["id"], 2: CDH, 3: [{"type": "public-key", "id": cred_id}]})
    assertion = cbor.loads((await auth.handle(CTAPHID.CBOR, payload, _no_status))[1:])
    return assertion[2] + CDH, assertion[3], key


def _algorithm_rows(seconds: float) -> list[Row]:
    rows = []
    message = bytes(37) + CDH  # authenticator data (no extensions) + client data hash
    for name, alg in MORE_ALGORITHMS.items():
        sign, verify = _raw_signer(alg)
        raw_sign = _rate(functools.partial(sign, message), seconds)
        engine = anyio.run(_engine_rate, alg, seconds)
        case = f"getAssertion {name}, engine only"
        rows.append(Row("algorithms", case, "ops/s", engine, "cryptography sign", raw_sign))
        signed, signature, key = anyio.run(_signature_and_key, alg)
        raw_signature = sign(signed)
        ours = _rate(functools.partial(key.verify, signed, signature), seconds)
        peer = _rate(functools.partial(verify, raw_signature, signed), seconds)
        rows.append(Row("algorithms", f"verify {name} (aioctap.cose)", "ops/s", ours, "cryptography verify", peer))
    return rows


def run(quick: bool = False) -> list[Row]:
    seconds = 0.7 if quick else 3.0
    rows: list[Row] = _cbor_rows(seconds)
    for name, alg in ALGORITHMS.items():
        make_rate, get_rate = anyio.run(_ctap_rates, alg, seconds)
        raw = _rate(_raw_signer_for(name), seconds)
        rows.append(Row("authenticator", f"makeCredential {name}", "ops/s", make_rate, "cryptography sign", raw))
        through, paired_raw = anyio.run(_authenticator_rate, alg, name, seconds)
        case = f"getAssertion {name}"
        rows.append(
            Row("authenticator", case, "ops/s", through, "cryptography sign, same slices", paired_raw, ">= 0.5x")
        )
        case = f"getAssertion {name}, with aioctap's Ctap2"
        rows.append(Row("authenticator", case, "ops/s", get_rate, "cryptography sign", raw))
        engine = anyio.run(_engine_rate, alg, seconds)
        rows.append(
            Row("authenticator", f"getAssertion {name}, engine only", "ops/s", engine, "cryptography sign", raw)
        )
    rows.append(Row("transport", "CTAPHID PING 160 B, in memory", "ops/s", anyio.run(_ping_rate, seconds)))
    rows += _algorithm_rows(seconds / 2)
    return rows


if __name__ == "__main__":
    print_rows(run(quick="--quick" in sys.argv), "Software authenticator through the in-memory transport")
