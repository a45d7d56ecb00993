"""A Starlette service that mounts aioctap's relying-party API and GNU Taler's OTP-devices API on one store.

* ``/fido2/...``, ``/openapi.json`` and the demo page at ``/``: ``aioctap.server.app.create_app`` (passkey
  registration and sign-in, the FIDO conformance-server API);
* ``/merchant/private/otp-devices...``: ``aioctap.otp.api.otp_device_routes`` (Taler POS devices and
  their confirmation codes), guarded by the administrator token from ``AIOCTAP_ADMIN_TOKEN``;
* ``/health``: the service's own route.

Both APIs keep their state in the same store (``--db``: ``memory://``, ``sqlite:///file``,
``redis://...``, ``postgresql://...``), opened once for the app's lifetime. (With FastAPI, installed
or not, it is the same: ``app.mount("/", create_app(store))``.) Run it with uvicorn:

    AIOCTAP_ADMIN_TOKEN=secret-token:change-me python3 examples/starlette_app.py --db sqlite:///rp.sqlite3

``--self-test`` serves on a free port, registers a passkey from aioctap's software authenticator
through the HTTP API, signs in with it, adds a POS device and reads its confirmation code, then exits.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import secrets
import socket
from collections.abc import AsyncIterator
from typing import Any

import anyio
import httpx
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Mount, Route

from aioctap import open_device
from aioctap.client import WebAuthnClient
from aioctap.otp.api import otp_device_routes
from aioctap.server.app import create_app
from aioctap.stores import Store, open_store


def build_app(store: Store, *, rp_id: str, origin: str, admin_token: str | None) -> Starlette:
    """The service: its own routes plus the two aioctap APIs, all over ``store`` (already open)."""
    relying_party = create_app(store, rp_id=rp_id, origin=origin, otp_routes=False)

    async def health(request: Request) -> JSONResponse:
        return JSONResponse({"status": "ok", "store": type(store).__name__})

    return Starlette(
        routes=[
            Route("/health", health),
            Mount("/merchant", routes=otp_device_routes(store, admin_token=admin_token)),
            Mount("/", app=relying_party),  # last: it owns "/", "/openapi.json" and "/fido2/..."
        ]
    )


@contextlib.asynccontextmanager
async def running(app: Starlette, sock: socket.socket) -> AsyncIterator[uvicorn.Server]:
    """Serve ``app`` with uvicorn on ``sock`` in the background of this event loop."""
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    async with anyio.create_task_group() as tg:
        tg.start_soon(lambda: server.serve(sockets=[sock]))
        while not server.started:
            await anyio.sleep(0.01)
        try:
            yield server
        finally:
            server.should_exit = True


async def self_test(base_url: str, origin: str, admin_token: str) -> dict[str, Any]:
    """What a browser and a Taler merchant frontend would do against the service."""
    results: dict[str, Any] = {}
    async with httpx.AsyncClient(base_url=base_url) as http, open_device("virtual") as device:
        results["health"] = (await http.get("/health")).json()["status"]

        # a passkey: options from the server, the authenticator's answer back to it
        client = WebAuthnClient(device, origin)
        selection = {"residentKey": "required"}
        registration = {"username": "alice", "displayName": "Alice", "authenticatorSelection": selection}
        options = (await http.post("/fido2/attestation/options", json=registration)).json()
        credential = await client.create({"publicKey": options})
        registered = await http.post(
            "/fido2/attestation/result", json={**credential, "fido2SessionId": options["fido2SessionId"]}
        )
        results["registered"] = registered.json()["status"]
        options = (await http.post("/fido2/assertion/options", json={"username": "alice"})).json()
        assertion = await client.get({"publicKey": options})
        signed_in = await http.post(
            "/fido2/assertion/result", json={**assertion, "fido2SessionId": options["fido2SessionId"]}
        )
        results["signed_in"] = signed_in.json()["status"]

        # a Taler POS device and the confirmation code for a price
        auth = {"Authorization": f"Bearer {admin_token}"}
        device_key = "JBSWY3DPEHPK3PXP"
        added = await http.post(
            "/merchant/private/otp-devices",
            headers=auth,
            json={"otp_device_id": "till-1", "otp_device_description": "Till 1", "otp_key": device_key,
                  "otp_algorithm": "TOTP_WITH_PRICE"},
        )  # fmt: skip
        results["pos_device_added"] = added.status_code
        details = await http.get("/merchant/private/otp-devices/till-1", headers=auth, params={"price": "EUR:2.50"})
        results["pos_code"] = details.json().get("otp_code", "").split("\n")[2]
    for name, value in results.items():
        print(f"{name:17} {value}")
    return results


async def main(
    db: str = "memory://",
    host: str = "127.0.0.1",
    port: int = 8000,
    rp_id: str = "localhost",
    run_self_test: bool = False,
) -> dict[str, Any] | None:
    """Serve until interrupted (or, with ``run_self_test``, on a free port until the self-test is done)."""
    admin_token = os.environ.get("AIOCTAP_ADMIN_TOKEN")
    if run_self_test:
        admin_token, port = "secret-token:" + secrets.token_urlsafe(24), 0
    elif admin_token is None:
        print("AIOCTAP_ADMIN_TOKEN is not set: the OTP-devices API accepts only tokens created earlier")
    sock = socket.create_server((host, port))
    port = sock.getsockname()[1]
    origin = f"http://{rp_id}:{port}"
    async with open_store(db) as store:
        app = build_app(store, rp_id=rp_id, origin=origin, admin_token=admin_token)
        if not run_self_test:
            print(f"serving on http://{host}:{port} (open {origin} in a browser)")
            server = uvicorn.Server(uvicorn.Config(app, log_level="info"))
            await server.serve(sockets=[sock])
            return None
        async with running(app, sock):
            assert admin_token is not None
            return await self_test(f"http://{host}:{port}", origin, admin_token)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", default="memory://", help="store URL (memory://, sqlite:///FILE, redis://, ...)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--rp-id", default="localhost")
    parser.add_argument("--self-test", action="store_true", help="run a registration and a POS code, then exit")
    args = parser.parse_args()
    anyio.run(lambda: main(args.db, args.host, args.port, args.rp_id, args.self_test))
