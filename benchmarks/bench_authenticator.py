"""The software authenticator: makeCredential and getAssertion per second, beside the raw signature rate.

    python3 benchmarks/bench_authenticator.py [--quick]

Each call goes the whole way a host's call goes: ``aioctap.ctap2.Ctap2`` on a ``CtapHidDevice``, the
in-memory packet transport, the device-side CTAPHID core and the authenticator (request checks,
credential ID unsealing, authenticator data, signature, CBOR). The peer is ``cryptography``'s own
signature rate for the same algorithm over a message of the same size, measured in the same run.
Target (issue 4): getAssertion at least 0.5x the raw sign rate.

Two more rows say where the time goes: "engine only" calls ``VirtualAuthenticator.handle`` directly with
the same request bytes (no CTAPHID, no transport), and "CTAPHID PING" is a round trip of a request and a
response of getAssertion's sizes through the same in-memory transport with no authenticator work at all:
the floor under any command through that transport.

The "cbor" rows time ``aioctap.cbor.loads(data, strict=True)`` (the authenticator's strict canonical decoding
of every request, and the client's of every response) on a typical getAssertion request and response, beside
cbor2's own ``loads`` with no checks at all.
"""

from __future__ import annotations

import hashlib
import sys
import time
import timeit
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

import anyio  # noqa: E402
import cbor2  # noqa: E402
from _report import Row, print_rows  # noqa: E402
from cryptography.hazmat.primitives import hashes  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import ec, ed25519  # noqa: E402

from aioctap import cbor  # noqa: E402
from aioctap.ctap2 import Ctap2  # noqa: E402
from aioctap.hid.protocol import CTAPHID  # noqa: E402
from aioctap.virtual import VirtualAuthenticator, open_virtual_device  # noqa: E402

ALGORITHMS = {"ES256": -7, "EdDSA": -8}
CDH = hashlib.sha256(b"benchmark client data").digest()
RP = {"id": "bench.example", "name": "Bench"}


def _raw_sign_rate(alg: str, seconds: float) -> float:
    message = bytes(37) + CDH  # authenticator data (no extensions) + client data hash
    count = 0
    if alg == "EdDSA":
        ed = ed25519.Ed25519PrivateKey.generate()
        start = time.perf_counter()
        while (elapsed := time.perf_counter() - start) < seconds:
            for _ in range(50):
                ed.sign(message)
            count += 50
    else:
        key = ec.generate_private_key(ec.SECP256R1())
        algorithm = ec.ECDSA(hashes.SHA256())
        start = time.perf_counter()
        while (elapsed := time.perf_counter() - start) < seconds:
            for _ in range(50):
                key.sign(message, algorithm)
            count += 50
    return count / elapsed


def _no_status(_status: object) -> None:
    pass


async def _engine_rate(alg: int, seconds: float) -> float:
    auth = VirtualAuthenticator(attestation="none")
    request = {1: CDH, 2: RP, 3: {"id": b"u"}, 4: [{"type": "public-key", "alg": alg}]}
    response = await auth.handle(CTAPHID.CBOR, b"\x01" + cbor.dumps(request), _no_status)
    auth_data = cbor.loads(response[1:])[2]
    cred_id = auth_data[55 : 55 + int.from_bytes(auth_data[53:55], "big")]
    payload = b"\x02" + cbor.dumps({1: RP["id"], 2: CDH, 3: [{"type": "public-key", "id": cred_id}]})
    count = 0
    start = time.perf_counter()
    while (elapsed := time.perf_counter() - start) < seconds:
        for _ in range(20):
            await auth.handle(CTAPHID.CBOR, payload, _no_status)
        count += 20
    return count / elapsed


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
    rows = []
    for name, data in (("getAssertion request", request), ("getAssertion response", response)):
        ours = _per_call_us(lambda data=data: cbor.loads(data, strict=True), seconds / 4)
        peer = _per_call_us(lambda data=data: cbor2.loads(data), seconds / 4)
        rows.append(Row("cbor", f"strict loads, {name} ({len(data)} B)", "us", ours, "cbor2.loads, no checks", peer))
    return rows


def run(quick: bool = False) -> list[Row]:
    seconds = 0.7 if quick else 3.0
    rows: list[Row] = _cbor_rows(seconds)
    for name, alg in ALGORITHMS.items():
        make_rate, get_rate = anyio.run(_ctap_rates, alg, seconds)
        raw = _raw_sign_rate(name, seconds)
        rows.append(Row("authenticator", f"makeCredential {name}", "ops/s", make_rate, "cryptography sign", raw))
        rows.append(
            Row("authenticator", f"getAssertion {name}", "ops/s", get_rate, "cryptography sign", raw, ">= 0.5x")
        )
        engine = anyio.run(_engine_rate, alg, seconds)
        rows.append(
            Row("authenticator", f"getAssertion {name}, engine only", "ops/s", engine, "cryptography sign", raw)
        )
    rows.append(Row("transport", "CTAPHID PING 160 B, in memory", "ops/s", anyio.run(_ping_rate, seconds)))
    return rows


if __name__ == "__main__":
    print_rows(run(quick="--quick" in sys.argv), "Software authenticator through the in-memory transport")
