"""Completed WebAuthn sign-ins per second through the relying party's ASGI app, per store.

    python3 benchmarks/bench_http.py [--quick]

One completed assertion is the whole HTTP flow of a passkey sign-in through the Starlette app in its
default account mode (httpx's ASGITransport, no socket): ``POST /fido2/assertion/options`` (challenge,
ceremony session written to the store; the same answer for every user name, so no user lookup), an ES256
signature made in process by a minimal client (``cryptography``), and ``POST /fido2/assertion/result``
(ceremony session taken, credential read, verification, then one atomic store write: the sign-count
compare-and-set, the new account session, the end of the previous one; the client keeps the cookie).
The "called directly" rows drive the same app without httpx (a dict of cookies, as a browser keeps them):
the server's own cost, since httpx's cookie jar costs about as much per request as the handler.
Stores: memory, SQLite (a temporary file) and Redis (a ``redis-server`` started on a free port when
installed). No peer server exists to run the same HTTP flow, so those rows have no peer. The last rows
compare the in-process ceremony (begin + complete, no HTTP, no store) with python-fido2's ``Fido2Server``
doing the same work on the same assertions.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import struct
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

import anyio  # noqa: E402
import httpx  # noqa: E402
from _report import Row, print_rows  # noqa: E402
from _servers import redis_server  # noqa: E402
from cryptography.hazmat.primitives import hashes  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import ec  # noqa: E402

from aioctap import cbor  # noqa: E402
from aioctap.server.app import create_app  # noqa: E402
from aioctap.server.ceremony import Fido2Server, StoredCredential  # noqa: E402
from aioctap.stores import open_store  # noqa: E402
from aioctap.webauthn import websafe_encode  # noqa: E402

RP_ID = "localhost"
ORIGIN = "http://localhost:8000"
RP_ID_HASH = hashlib.sha256(RP_ID.encode()).digest()


class MiniClient:
    """The least a browser does: client data, authenticator data and an ES256 signature."""

    def __init__(self) -> None:
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.credential_id = os.urandom(32)
        self.counter = 0
        self.user_handle = ""
        nums = self.key.public_key().public_numbers()
        self.cose = cbor.dumps({1: 2, 3: -7, -1: 1, -2: nums.x.to_bytes(32, "big"), -3: nums.y.to_bytes(32, "big")})

    def _client_data(self, kind: str, challenge: str) -> bytes:
        return json.dumps({"type": kind, "challenge": challenge, "origin": ORIGIN, "crossOrigin": False}).encode()

    def create(self, options: dict[str, Any]) -> dict[str, Any]:
        self.user_handle = options["user"]["id"]
        cid = self.credential_id
        auth_data = RP_ID_HASH + b"\x45" + struct.pack(">I", 0) + bytes(16) + struct.pack(">H", len(cid)) + cid
        att_obj = cbor.dumps({"fmt": "none", "attStmt": {}, "authData": auth_data + self.cose})
        return {
            "id": websafe_encode(cid),
            "rawId": websafe_encode(cid),
            "type": "public-key",
            "response": {
                "clientDataJSON": websafe_encode(self._client_data("webauthn.create", options["challenge"])),
                "attestationObject": websafe_encode(att_obj),
            },
        }

    def get(self, options: dict[str, Any]) -> dict[str, Any]:
        self.counter += 1
        client_data = self._client_data("webauthn.get", options["challenge"])
        auth_data = RP_ID_HASH + b"\x05" + struct.pack(">I", self.counter)
        signature = self.key.sign(auth_data + hashlib.sha256(client_data).digest(), ec.ECDSA(hashes.SHA256()))
        return {
            "id": websafe_encode(self.credential_id),
            "rawId": websafe_encode(self.credential_id),
            "type": "public-key",
            "response": {
                "clientDataJSON": websafe_encode(client_data),
                "authenticatorData": websafe_encode(auth_data),
                "signature": websafe_encode(signature),
                "userHandle": self.user_handle,
            },
        }


@contextlib.asynccontextmanager
async def _app_client(url: str) -> AsyncIterator[httpx.AsyncClient]:
    async with open_store(url) as store:
        app = create_app(store, rp_id=RP_ID, origin=ORIGIN, otp_routes=False)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://localhost:8000") as http:
            yield http


async def _http_rate(url: str, seconds: float) -> float:
    client = MiniClient()
    async with _app_client(url) as http:
        r = await http.post("/fido2/attestation/options", json={"username": "bench", "displayName": "Bench"})
        options = r.json()
        r = await http.post(
            "/fido2/attestation/result", json={**client.create(options), "fido2SessionId": options["fido2SessionId"]}
        )
        if r.status_code != 200:
            raise RuntimeError(f"registration failed: {r.text}")

        async def one() -> None:
            r = await http.post("/fido2/assertion/options", json={"username": "bench"})
            options = r.json()
            assertion = {**client.get(options), "fido2SessionId": options["fido2SessionId"]}
            r = await http.post("/fido2/assertion/result", json=assertion)
            if r.status_code != 200:
                raise RuntimeError(f"assertion failed: {r.text}")

        for _ in range(20):  # warm up
            await one()
        count, start = 0, time.perf_counter()
        while time.perf_counter() - start < seconds:
            await one()
            count += 1
        return count / (time.perf_counter() - start)


class AsgiBrowser:
    """Calls the ASGI app directly, keeping cookies in a dict as a browser does: the server's own cost per
    sign-in, without httpx (whose cookie jar costs about as much per request as the server's handler)."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.cookies: dict[str, str] = {}

    async def post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        raw = json.dumps(body).encode()
        headers = [(b"content-type", b"application/json"), (b"host", b"localhost:8000"),
                   (b"content-length", str(len(raw)).encode())]  # fmt: skip
        if self.cookies:
            headers.append((b"cookie", "; ".join(f"{k}={v}" for k, v in self.cookies.items()).encode()))
        scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
                 "scheme": "http", "path": path, "raw_path": path.encode(), "query_string": b"", "root_path": "",
                 "headers": headers, "client": ("127.0.0.1", 1), "server": ("localhost", 8000)}  # fmt: skip
        done = False
        chunks: list[bytes] = []

        async def receive() -> dict[str, Any]:
            nonlocal done
            if done:
                return {"type": "http.disconnect"}
            done = True
            return {"type": "http.request", "body": raw, "more_body": False}

        async def send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                for name, value in message["headers"]:
                    if name == b"set-cookie":
                        key, _, rest = value.decode().partition("=")
                        self.cookies[key] = rest.split(";", 1)[0]
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))

        await self.app(scope, receive, send)
        return dict(json.loads(b"".join(chunks)))


async def _asgi_rate(url: str, seconds: float) -> float:
    """Completed sign-ins per second with the app called directly (see AsgiBrowser)."""
    client = MiniClient()
    async with open_store(url) as store:
        browser = AsgiBrowser(create_app(store, rp_id=RP_ID, origin=ORIGIN, otp_routes=False))
        # a user name of its own: the store may hold the httpx rows' "bench" (an account anonymous callers
        # cannot add a passkey to)
        body = {"username": "bench-asgi", "displayName": "Bench"}
        options = await browser.post("/fido2/attestation/options", body)
        answer = await browser.post(
            "/fido2/attestation/result", {**client.create(options), "fido2SessionId": options["fido2SessionId"]}
        )
        if answer["status"] != "ok":
            raise RuntimeError(f"registration failed: {answer}")

        async def one() -> None:
            options = await browser.post("/fido2/assertion/options", {"username": "bench-asgi"})
            assertion = {**client.get(options), "fido2SessionId": options["fido2SessionId"]}
            answer = await browser.post("/fido2/assertion/result", assertion)
            if answer["status"] != "ok":
                raise RuntimeError(f"assertion failed: {answer}")

        for _ in range(20):
            await one()
        count, start = 0, time.perf_counter()
        while time.perf_counter() - start < seconds:
            await one()
            count += 1
        return count / (time.perf_counter() - start)


def _ceremony_rates(seconds: float) -> tuple[float, float]:
    """Completed in-process ceremonies per second: aioctap's Fido2Server and python-fido2's on the same data."""
    from fido2.cose import CoseKey as Fido2CoseKey
    from fido2.server import Fido2Server as PeerServer
    from fido2.webauthn import AttestedCredentialData, PublicKeyCredentialRpEntity, UserVerificationRequirement

    client = MiniClient()
    client.user_handle = websafe_encode(b"user")
    ours = Fido2Server(RP_ID, ORIGIN)
    stored = [StoredCredential(client.credential_id, client.cose, 0, b"user")]
    peer = PeerServer(PublicKeyCredentialRpEntity(name="Bench", id=RP_ID), verify_origin=lambda o: o == ORIGIN)
    peer_creds = [
        AttestedCredentialData.create(bytes(16), client.credential_id, Fido2CoseKey.parse(cbor.loads(client.cose)))
    ]

    def ours_one() -> None:
        options, state = ours.authenticate_begin(stored, user_verification="discouraged")
        ours.authenticate_complete(state, stored, client.get(options))

    def peer_one() -> None:
        options, state = peer.authenticate_begin(peer_creds, user_verification=UserVerificationRequirement.DISCOURAGED)
        challenge = websafe_encode(options.public_key.challenge)
        peer.authenticate_complete(state, peer_creds, client.get({"challenge": challenge}))

    rates = []
    for fn in (ours_one, peer_one):
        for _ in range(50):
            fn()
        count, start = 0, time.perf_counter()
        while time.perf_counter() - start < seconds:
            fn()
            count += 1
        rates.append(count / (time.perf_counter() - start))
    return rates[0], rates[1]


def run(quick: bool = False) -> list[Row]:
    seconds = 1.5 if quick else 5.0
    rows: list[Row] = []
    with tempfile.TemporaryDirectory() as tmp, redis_server() as redis_url:
        stores = [("memory", "memory://"), ("SQLite", f"sqlite:///{tmp}/bench.db")]
        if redis_url is not None:
            stores.append(("Redis", redis_url))
        for name, url in stores:
            rate = anyio.run(_http_rate, url, seconds)
            rows.append(Row("http", f"completed assertions (options+result), {name}", "1/s", rate))
        for name, url in stores:
            rate = anyio.run(_asgi_rate, url, seconds)
            rows.append(Row("http", f"... the app called directly (server cost), {name}", "1/s", rate))
        if redis_url is None:
            print("redis-server not installed: Redis row skipped (apt-get install redis-server)", file=sys.stderr)
    ours, peer = _ceremony_rates(seconds / 2)
    rows.append(Row("http", "in-process ceremony begin+complete", "1/s", ours, "python-fido2 Fido2Server", peer))
    return rows


if __name__ == "__main__":
    print_rows(run("--quick" in sys.argv), "Relying party over HTTP (ASGI app): completed sign-ins per second")
