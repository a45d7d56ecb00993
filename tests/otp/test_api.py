"""The Taler OTP-devices REST API end-to-end over HTTP (httpx on the ASGI app, and a real uvicorn socket)."""

from __future__ import annotations

import base64
import json
import socket
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import anyio
import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from starlette.applications import Starlette

from aioctap.otp import OTPContext, pos_confirmation
from aioctap.otp.api import MAX_BODY, otp_device_routes
from aioctap.stores import Store, open_store

ADMIN = "secret-token:admin-secret-for-tests"
AUTH = {"Authorization": f"Bearer {ADMIN}"}
KEY = base64.b32encode(b"12345678901234567890").decode()  # RFC 6238 SHA1 seed
T = 1111111109
DEVICE = {
    "otp_device_id": "pos-1",
    "otp_device_description": "till by the door",
    "otp_key": KEY,
    "otp_algorithm": 1,
}


@pytest.fixture(params=["memory", "sqlite"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Store]:
    url = "memory://" if request.param == "memory" else f"sqlite:///{tmp_path / 'api.db'}"
    async with open_store(url) as s:
        yield s


def make_client(store: Store, **kwds: Any) -> httpx.AsyncClient:
    app = Starlette(routes=otp_device_routes(store, admin_token=ADMIN, **kwds))
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test")


async def test_device_lifecycle(store: Store) -> None:
    async with make_client(store) as c:
        r = await c.post("/private/otp-devices", json=DEVICE, headers=AUTH)
        assert r.status_code == 204
        r = await c.post("/private/otp-devices", json=DEVICE, headers=AUTH)
        assert r.status_code == 204  # identical re-create is idempotent
        r = await c.post("/private/otp-devices", json={**DEVICE, "otp_device_description": "other"}, headers=AUTH)
        assert r.status_code == 409 and r.json()["code"] == 2851
        r = await c.post("/private/otp-devices", json={**DEVICE, "otp_key": "GEZDGNBV" * 4}, headers=AUTH)
        assert r.status_code == 409

        r = await c.get("/private/otp-devices", headers=AUTH)
        assert r.status_code == 200
        assert r.json() == {"otp_devices": [{"otp_device_id": "pos-1", "device_description": "till by the door"}]}

        r = await c.get("/private/otp-devices/pos-1", params={"faketime": T}, headers=AUTH)
        assert r.status_code == 200
        body = r.json()
        assert body["otp_timestamp"] == T and body["otp_algorithm"] == 1
        assert body["device_description"] == "till by the door"
        assert body["otp_code"] == pos_confirmation(KEY, 1, T)
        assert body["otp_code"].split("\n")[2] == "7081804"  # RFC 6238's 07081804, as Taler's backend prints it
        assert "otp_key" not in body and KEY not in r.text

        r = await c.patch(
            "/private/otp-devices/pos-1",
            json={"otp_device_description": "moved", "otp_algorithm": "TOTP_WITH_PRICE", "otp_ctr": 5},
            headers=AUTH,
        )
        assert r.status_code == 204
        r = await c.get("/private/otp-devices/pos-1", params={"faketime": T}, headers=AUTH)
        body = r.json()
        assert body["device_description"] == "moved" and body["otp_algorithm"] == 2 and body["otp_ctr"] == 5
        assert "otp_code" not in body  # algorithm 2 without a price: omitted, not an error
        r = await c.get("/private/otp-devices/pos-1", params={"faketime": T, "price": "EUR:1.5"}, headers=AUTH)
        assert r.json()["otp_code"] == pos_confirmation(KEY, 2, T, "EUR:1.5")
        r = await c.get("/private/otp-devices/pos-1", headers=AUTH)
        assert r.json()["otp_ctr"] == 5  # a GET never changes the counter

        r = await c.delete("/private/otp-devices/pos-1", headers=AUTH)
        assert r.status_code == 204
        for method in ("GET", "DELETE"):
            r = await c.request(method, "/private/otp-devices/pos-1", headers=AUTH)
            assert r.status_code == 404 and r.json()["code"] == 2021
        r = await c.patch(
            "/private/otp-devices/pos-1", json={"otp_device_description": "x", "otp_algorithm": 1}, headers=AUTH
        )
        assert r.status_code == 404


async def test_algorithm_0_has_no_code_and_current_time_is_default(store: Store) -> None:
    now = [float(T)]
    async with make_client(store, clock=lambda: now[0]) as c:
        assert (
            await c.post("/private/otp-devices", json={**DEVICE, "otp_algorithm": 0}, headers=AUTH)
        ).status_code == 204
        body = (await c.get("/private/otp-devices/pos-1", params={"price": "EUR:1"}, headers=AUTH)).json()
        assert body["otp_timestamp"] == T and "otp_code" not in body
        assert "otp_ctr" not in body


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (b"{not json", 22),
        (b"[1, 2]", 22),
        (json.dumps({**DEVICE, "otp_key": "not*base32"}).encode(), 26),
        (json.dumps({**DEVICE, "otp_algorithm": 7}).encode(), 26),
        (json.dumps({**DEVICE, "otp_algorithm": True}).encode(), 26),
        (json.dumps({**DEVICE, "otp_ctr": -1}).encode(), 26),
        (json.dumps({**DEVICE, "otp_device_id": "a/b"}).encode(), 26),
        (json.dumps({**DEVICE, "otp_device_id": ""}).encode(), 26),
        (json.dumps({**DEVICE, "otp_device_id": ".."}).encode(), 26),
        (json.dumps({**DEVICE, "otp_device_id": "x" * 129}).encode(), 26),
        (json.dumps({**DEVICE, "otp_device_id": "tab\there"}).encode(), 26),
        (
            b'{"otp_device_id": "\\ud800till", "otp_device_description": "d", "otp_key": "JBSWY3DPEHPK3PXP", '
            b'"otp_algorithm": 1}',
            26,
        ),  # a lone surrogate (CI fuzz seed 1): 400, not a 500 from the store
        (json.dumps({k: v for k, v in DEVICE.items() if k != "otp_key"}).encode(), 25),
        (json.dumps({k: v for k, v in DEVICE.items() if k != "otp_device_description"}).encode(), 25),
    ],
)
async def test_bad_requests_are_400(store: Store, body: bytes, code: int) -> None:
    async with make_client(store) as c:
        r = await c.post("/private/otp-devices", content=body, headers={**AUTH, "Content-Type": "application/json"})
        assert r.status_code == 400 and r.json()["code"] == code and r.json()["hint"]
        assert (await c.get("/private/otp-devices", headers=AUTH)).json() == {"otp_devices": []}


async def test_bad_query_parameters(store: Store) -> None:
    async with make_client(store) as c:
        await c.post("/private/otp-devices", json=DEVICE, headers=AUTH)
        for params in ({"faketime": "soon"}, {"faketime": "-5"}, {"price": "1.5 EUR"}):
            r = await c.get("/private/otp-devices/pos-1", params=params, headers=AUTH)
            assert r.status_code == 400 and r.json()["code"] == 26


async def test_oversized_body_is_413(store: Store) -> None:
    async with make_client(store) as c:
        big = {**DEVICE, "otp_device_description": "x" * (MAX_BODY + 1)}
        r = await c.post("/private/otp-devices", json=big, headers=AUTH)
        assert r.status_code == 413 and r.json()["code"] == 32

        async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: counted while streaming
            for _ in range(MAX_BODY // 1024 + 2):
                yield b" " * 1024

        r = await c.post("/private/otp-devices", content=chunks(), headers=AUTH)
        assert r.status_code == 413


async def test_authorization(store: Store) -> None:
    async with make_client(store) as c:
        r = await c.get("/private/otp-devices")
        assert r.status_code == 401 and r.json()["code"] == 40 and "Bearer" in r.headers["www-authenticate"]
        r = await c.get("/private/otp-devices", headers={"Authorization": "Basic abc"})
        assert r.status_code == 401 and r.json()["code"] == 43
        r = await c.get("/private/otp-devices", headers={"Authorization": "Bearer secret-token:wrong"})
        assert r.status_code == 401 and r.json()["code"] == 41
        # the admin token works with or without the secret-token: prefix
        r = await c.get("/private/otp-devices", headers={"Authorization": "Bearer admin-secret-for-tests"})
        assert r.status_code == 200


async def test_tokens_with_fewer_permissions(store: Store) -> None:
    now = [1_700_000_000.0]
    async with make_client(store, clock=lambda: now[0]) as c:
        r = await c.post("/private/token", json={"scope": "readonly", "description": "dashboard"}, headers=AUTH)
        assert r.status_code == 200
        body = r.json()
        ro = {"Authorization": f"Bearer {body['access_token']}"}
        assert body["token"].startswith("secret-token:") and body["refreshable"] is False
        assert body["expiration"] == {"t_s": 1_700_000_000 + 86400}
        assert (await c.get("/private/otp-devices", headers=ro)).status_code == 200
        r = await c.post("/private/otp-devices", json=DEVICE, headers=ro)
        assert r.status_code == 403 and r.json()["code"] == 16
        r = await c.post("/private/token", json={"scope": "write"}, headers=ro)
        assert r.status_code == 403 and r.json()["code"] == 16  # cannot mint more than it has

        r = await c.post(
            "/private/token", json={"scope": "otp-devices-write", "duration": {"d_us": 60_000_000}}, headers=AUTH
        )
        wo = {"Authorization": f"Bearer {r.json()['token']}"}
        assert (await c.post("/private/otp-devices", json=DEVICE, headers=wo)).status_code == 204
        assert (await c.get("/private/otp-devices", headers=wo)).json()["code"] == 16

        # tokens are stored hashed: no record holds the token text
        for _, record in await store.scan("otp-api-tokens"):
            assert body["token"].encode() not in record.value
            assert body["token"].split(":", 1)[1].encode() not in record.value

        listing = (await c.get("/private/tokens", headers=AUTH)).json()["tokens"]
        assert {t["scope"] for t in listing} == {"readonly", "otp-devices-write"}
        assert "token" not in json.dumps(listing).replace("tokens", "")

        now[0] += 61  # the write-only token expired
        r = await c.post("/private/otp-devices", json=DEVICE, headers=wo)
        assert r.status_code == 401 and r.json()["code"] in (41, 42)

        serial = next(t["serial"] for t in listing if t["scope"] == "readonly")
        assert (await c.delete(f"/private/tokens/{serial}", headers=AUTH)).status_code == 204
        assert (await c.delete(f"/private/tokens/{serial}", headers=AUTH)).status_code == 404
        assert (await c.get("/private/otp-devices", headers=ro)).status_code == 401

        r = await c.post("/private/token", json={"scope": "readonly", "duration": {"d_us": "forever"}}, headers=AUTH)
        own = {"Authorization": f"Bearer {r.json()['token']}"}
        assert r.json()["expiration"] == {"t_s": "never"}
        assert (await c.delete("/private/token", headers=own)).status_code == 204
        assert (await c.get("/private/otp-devices", headers=own)).status_code == 401
        assert (await c.delete("/private/token", headers=AUTH)).status_code == 403
        for bad in ({"scope": "everything"}, {"scope": "readonly", "duration": {"d_us": -1}}, {}):
            r = await c.post("/private/token", json=bad, headers=AUTH)
            assert r.status_code == 400 and r.json()["code"] in (25, 26)


async def test_instances_are_separate(store: Store) -> None:
    async with make_client(store) as c:
        assert (await c.post("/instances/shop/private/otp-devices", json=DEVICE, headers=AUTH)).status_code == 204
        assert (await c.get("/private/otp-devices", headers=AUTH)).json() == {"otp_devices": []}
        assert (await c.get("/instances/other/private/otp-devices/pos-1", headers=AUTH)).status_code == 404
        assert (await c.get("/instances/shop/private/otp-devices/pos-1", headers=AUTH)).status_code == 200
        # the bare paths are the "default" instance
        assert (await c.post("/instances/default/private/otp-devices", json=DEVICE, headers=AUTH)).status_code == 204
        assert len((await c.get("/private/otp-devices", headers=AUTH)).json()["otp_devices"]) == 1
        # a token made for one instance is unknown in another
        r = await c.post("/instances/shop/private/token", json={"scope": "all"}, headers=AUTH)
        shop = {"Authorization": f"Bearer {r.json()['token']}"}
        assert (await c.get("/instances/shop/private/otp-devices", headers=shop)).status_code == 200
        assert (await c.get("/private/otp-devices", headers=shop)).status_code == 401
        r = await c.get("/instances/bad%20name/private/otp-devices", headers=AUTH)
        assert r.status_code == 400


async def test_method_not_allowed_is_taler_json(store: Store) -> None:
    async with make_client(store) as c:
        r = await c.put("/private/otp-devices", json=DEVICE, headers=AUTH)
        assert r.status_code == 405 and r.json()["code"] == 20 and "POST" in r.headers["allow"]
        for method in ("OPTIONS", "TRACE"):  # every undocumented method, with exactly the documented ones allowed
            r = await c.request(method, "/private/tokens", headers=AUTH)
            assert r.status_code == 405 and r.json()["code"] == 20 and r.headers["allow"] == "GET"


async def test_keys_encrypted_at_rest_and_never_returned(store: Store) -> None:
    ctx = OTPContext({"1": "an application secret of enough length"}, encrypt_cost=8)
    async with make_client(store, context=ctx) as c:
        assert (await c.post("/private/otp-devices", json=DEVICE, headers=AUTH)).status_code == 204
        (_, record), *_ = await store.scan("otp-devices")
        assert KEY.encode() not in record.value and b"enckey" in record.value
        body = (await c.get("/private/otp-devices/pos-1", params={"faketime": T}, headers=AUTH)).json()
        assert body["otp_code"] == pos_confirmation(KEY, 1, T)
        assert (await c.post("/private/otp-devices", json=DEVICE, headers=AUTH)).status_code == 204  # idempotent


async def test_concurrent_creates_one_winner_on_every_store(store_url: str) -> None:
    async with open_store(store_url) as store, make_client(store) as c:
        statuses: list[int] = []

        async def create(i: int) -> None:
            body = {**DEVICE, "otp_device_description": f"variant {i}"}
            statuses.append((await c.post("/private/otp-devices", json=body, headers=AUTH)).status_code)

        async with anyio.create_task_group() as tg:
            for i in range(20):
                tg.start_soon(create, i)
        assert sorted(statuses) == [204] + [409] * 19
        devices = (await c.get("/private/otp-devices", headers=AUTH)).json()["otp_devices"]
        assert len(devices) == 1


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_over_a_real_socket(tmp_path: Path) -> None:
    import uvicorn

    async with open_store(f"sqlite:///{tmp_path / 'real.db'}") as store:
        app = Starlette(routes=otp_device_routes(store, admin_token=ADMIN))
        port = _free_port()
        server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off"))
        async with anyio.create_task_group() as tg:
            tg.start_soon(server.serve)
            with anyio.fail_after(10):
                while not server.started:
                    await anyio.sleep(0.01)
            try:
                async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as c:
                    assert (await c.post("/private/otp-devices", json=DEVICE, headers=AUTH)).status_code == 204
                    r = await c.get("/private/otp-devices/pos-1", params={"faketime": T}, headers=AUTH)
                    assert r.status_code == 200 and r.json()["otp_code"].split("\n")[2] == "7081804"
                    assert (await c.get("/private/otp-devices/pos-1")).status_code == 401
                    big = b"{" + b" " * (MAX_BODY + 10) + b"}"
                    r = await c.post("/private/otp-devices", content=big, headers=AUTH)
                    assert r.status_code == 413
            finally:
                server.should_exit = True


_json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=12,
)
_bodies = st.one_of(
    st.binary(max_size=200),
    st.fixed_dictionaries(
        {},
        optional={
            "otp_device_id": _json_values | st.text(max_size=20),
            "otp_device_description": _json_values,
            "otp_key": _json_values | st.sampled_from([KEY, KEY.lower(), KEY + "==", "A" * 17]),
            "otp_algorithm": _json_values | st.sampled_from([0, 1, 2, "NONE", "TOTP_WITH_PRICE"]),
            "otp_ctr": _json_values,
        },
    ).map(lambda d: json.dumps(d).encode()),
)


@settings(max_examples=80, deadline=None)
@given(body=_bodies, method=st.sampled_from(["POST", "PATCH"]))
def test_any_body_gives_a_taler_answer_never_a_crash(body: bytes, method: str) -> None:
    async def main() -> None:
        async with open_store("memory://") as store, make_client(store) as c:
            await c.post("/private/otp-devices", json=DEVICE, headers=AUTH)
            path = "/private/otp-devices" if method == "POST" else "/private/otp-devices/pos-1"
            r = await c.request(method, path, content=body, headers=AUTH)
            assert r.status_code in (204, 400, 409), r.text
            if r.status_code != 204:
                assert set(r.json()) == {"code", "hint"} and isinstance(r.json()["code"], int)
            r = await c.get("/private/otp-devices", headers=AUTH)
            for device in r.json()["otp_devices"]:
                detail = await c.get(f"/private/otp-devices/{quote(device['otp_device_id'], safe='')}", headers=AUTH)
                assert detail.status_code == 200  # whatever was stored can be read back

    anyio.run(main)


BAD_TEXT = [
    b'"a\\u0000b"',  # NUL
    b'"line\\nbreak"',  # C0
    b'"del\\u007f"',  # DEL
    b'"c1\\u0085"',  # C1 (NEL)
    b'"\\ud800"',  # a lone surrogate
    b'"x\\udfffy"',
]


@pytest.mark.parametrize("text", BAD_TEXT)
async def test_text_fields_refuse_control_characters_and_lone_surrogates(store: Store, text: bytes) -> None:
    """Every free-text field (a device's description at POST and PATCH, a token's description): 400 at
    the write, nothing stored, and every listing still answers JSON."""
    async with make_client(store) as c:
        headers = {**AUTH, "Content-Type": "application/json"}
        device = json.dumps({**DEVICE, "otp_device_description": "@"}).encode().replace(b'"@"', text)
        r = await c.post("/private/otp-devices", content=device, headers=headers)
        assert r.status_code == 400 and r.json()["code"] == 26 and "otp_device_description" in r.json()["hint"]
        assert (await c.get("/private/otp-devices", headers=AUTH)).json() == {"otp_devices": []}

        assert (await c.post("/private/otp-devices", json=DEVICE, headers=AUTH)).status_code == 204
        patch = b'{"otp_device_description": ' + text + b', "otp_algorithm": 1}'
        r = await c.patch("/private/otp-devices/pos-1", content=patch, headers=headers)
        assert r.status_code == 400 and r.json()["code"] == 26
        r = await c.get("/private/otp-devices", headers=AUTH)
        assert r.json()["otp_devices"] == [{"otp_device_id": "pos-1", "device_description": "till by the door"}]

        r = await c.post("/private/token", content=b'{"scope": "readonly", "description": ' + text + b"}",
                         headers=headers)  # fmt: skip
        assert r.status_code == 400 and r.json()["code"] == 26
        assert (await c.get("/private/tokens", headers=AUTH)).json() == {"tokens": []}
    # printable text of any script is kept as it is
    async with make_client(store) as c:
        text_ok = "Kasse \u00e9t\u00e9 \U0001f511 \u4e2d"
        r = await c.patch("/private/otp-devices/pos-1", json={"otp_device_description": text_ok, "otp_algorithm": 1},
                          headers=AUTH)  # fmt: skip
        assert r.status_code == 204
        assert (await c.get("/private/otp-devices/pos-1", headers=AUTH)).json()["device_description"] == text_ok


async def test_a_token_never_mints_a_later_expiry_than_its_own(store: Store) -> None:
    now = [1_700_000_000.0]
    async with make_client(store, clock=lambda: now[0]) as c:
        r = await c.post("/private/token", json={"scope": "all", "duration": {"d_us": 60_000_000}}, headers=AUTH)
        parent = {"Authorization": f"Bearer {r.json()['token']}"}
        assert r.json()["expiration"] == {"t_s": 1_700_000_060}
        children = {}
        for duration, expected in (
            ({"d_us": "forever"}, 1_700_000_060),
            ({"d_us": 3600 * 10**6}, 1_700_000_060),
            (None, 1_700_000_060),  # the default (a day)
            ({"d_us": 10 * 10**6}, 1_700_000_010),  # an earlier expiry stays
        ):
            body: dict[str, Any] = {"scope": "readonly"}
            if duration is not None:
                body["duration"] = duration
            r = await c.post("/private/token", json=body, headers=parent)
            assert r.status_code == 200 and r.json()["expiration"] == {"t_s": expected}, (duration, r.text)
            children[json.dumps(duration)] = {"Authorization": f"Bearer {r.json()['token']}"}
        # a child cannot mint more than it has, nor outlive itself
        child = children[json.dumps({"d_us": "forever"})]
        assert (await c.post("/private/token", json={"scope": "all"}, headers=child)).status_code == 403
        now[0] += 59
        assert all([(await c.get("/private/otp-devices", headers=h)).status_code == 200
                    for k, h in children.items() if "10000000" not in k])  # fmt: skip
        now[0] += 2  # past the parent's expiry: every child expired with it
        for h in (parent, *children.values()):
            assert (await c.get("/private/otp-devices", headers=h)).status_code == 401
        listing = (await c.get("/private/tokens", headers=AUTH)).json()["tokens"]
        assert listing == []


async def test_a_store_outage_is_503_with_taler_codes(tmp_path: Path) -> None:
    """The relying-party app's OTP routes on a store URL its lifespan never opened: the store is down."""
    from aioctap.server.app import create_app

    app = create_app(f"sqlite:///{tmp_path / 'down.db'}", admin_token=ADMIN)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as c:
        for method, path, body in (
            ("GET", "/private/otp-devices", None),
            ("POST", "/private/otp-devices", DEVICE),
            ("GET", "/private/otp-devices/pos-1", None),
            ("DELETE", "/private/otp-devices/pos-1", None),
            ("GET", "/private/tokens", None),
            ("POST", "/private/token", {"scope": "readonly"}),
        ):
            r = await c.request(method, path, json=body, headers=AUTH)
            assert r.status_code == 503 and r.json()["code"] in (52, 53) and r.json()["hint"], (method, path, r.text)
        # a created token checks the store: down too
        r = await c.get("/private/otp-devices", headers={"Authorization": "Bearer secret-token:other"})
        assert r.status_code == 503 and r.json()["code"] == 53


async def test_otp_keys_are_encrypted_at_rest_and_old_plain_rows_are_encrypted(store: Store) -> None:
    from aioctap.otp.api import encrypt_plaintext_keys
    from aioctap.server.app import create_app

    context = OTPContext(secrets={"1": "s" * 64}, encrypt_cost=8)
    async with make_client(store, context=context) as c:
        assert (await c.post("/private/otp-devices", json=DEVICE, headers=AUTH)).status_code == 204
        record = await store.get("otp-devices", "default/pos-1")
        assert record is not None and KEY.encode() not in record.value and b'"enckey"' in record.value
        body = (await c.get("/private/otp-devices/pos-1", params={"faketime": T}, headers=AUTH)).json()
        assert body["otp_code"] == pos_confirmation(KEY, 1, T)

    # rows an older version wrote in plain text: one is encrypted when read, the others at start-up
    for device_id in ("old-1", "old-2", "old-3"):
        row = {"id": device_id, "description": "d", "algorithm": 1, "ctr": None, "key": KEY}
        await store.put("otp-devices", f"default/{device_id}", json.dumps(row).encode())
    async with make_client(store, context=context) as c:
        body = (await c.get("/private/otp-devices/old-1", params={"faketime": T}, headers=AUTH)).json()
        assert body["otp_code"] == pos_confirmation(KEY, 1, T)
    record = await store.get("otp-devices", "default/old-1")
    assert record is not None and KEY.encode() not in record.value
    assert await encrypt_plaintext_keys(store, OTPContext()) == 0  # no secret: nothing to encrypt with
    app = create_app(store, admin_token=ADMIN, otp_context=context)
    async with app.router.lifespan_context(app):
        pass
    for _, record in await store.scan("otp-devices"):
        assert KEY.encode() not in record.value
    async with make_client(store, context=context) as c:
        for device_id in ("old-2", "old-3"):
            body = (await c.get(f"/private/otp-devices/{device_id}", params={"faketime": T}, headers=AUTH)).json()
            assert body["otp_code"] == pos_confirmation(KEY, 1, T)
