"""A frozen PostgreSQL server: the store answers StoreError within its timeouts instead of hanging, the
relying party answers 503 within a few seconds, and both recover once the server answers again.

The freeze is a TCP proxy between the store and the real server that stops forwarding (and leaves new
connections unanswered): to the client, exactly a database that stopped answering."""

from __future__ import annotations

import time
import uuid

import anyio
import anyio.abc
import httpx
import pytest

from aioctap.server.app import create_app
from aioctap.stores import StoreError
from aioctap.stores.postgresql import PostgresStore


class FreezingProxy:
    """Forwards TCP connections to ``target``; while ``frozen`` nothing moves, in either direction."""

    def __init__(self, host: str, port: int) -> None:
        self.target = (host, port)
        self.running = anyio.Event()
        self.running.set()
        self.port = 0

    def freeze(self) -> None:
        self.running = anyio.Event()

    def thaw(self) -> None:
        self.running.set()

    async def _pump(self, source: anyio.abc.ByteStream, sink: anyio.abc.ByteStream) -> None:
        try:
            while True:
                data = await source.receive()
                await self.running.wait()
                await sink.send(data)
        except (anyio.EndOfStream, anyio.BrokenResourceError, anyio.ClosedResourceError, OSError):
            pass
        finally:
            await sink.aclose()

    async def _handle(self, client: anyio.abc.SocketStream) -> None:
        await self.running.wait()
        async with client, await anyio.connect_tcp(*self.target) as server, anyio.create_task_group() as tg:
            tg.start_soon(self._pump, client, server)
            tg.start_soon(self._pump, server, client)

    async def serve(self, *, task_status: anyio.abc.TaskStatus[None] = anyio.TASK_STATUS_IGNORED) -> None:
        listener = await anyio.create_tcp_listener(local_host="127.0.0.1", local_port=0)
        self.port = int(listener.extra(anyio.abc.SocketAttribute.local_port))
        task_status.started()
        await listener.serve(self._handle)


async def _database(postgresql_url: str) -> str:
    import asyncpg

    name = "t_" + uuid.uuid4().hex[:12]
    admin = await asyncpg.connect(postgresql_url)
    await admin.execute(f"CREATE DATABASE {name}")
    await admin.close()
    return postgresql_url.rsplit("/", 1)[0] + "/" + name


async def _proxied(url: str, proxy: FreezingProxy) -> str:
    rest = url.split("@", 1)[1]
    return url.split("@", 1)[0] + f"@127.0.0.1:{proxy.port}/" + rest.split("/", 1)[1]


async def test_a_frozen_postgresql_is_a_store_error_then_503(postgresql_url: str) -> None:
    url = await _database(postgresql_url)
    host_port = url.split("@", 1)[1].split("/", 1)[0]
    proxy = FreezingProxy(host_port.split(":")[0], int(host_port.split(":")[1]))
    async with anyio.create_task_group() as tg:
        await tg.start(proxy.serve)
        store = await PostgresStore.connect(await _proxied(url, proxy), command_timeout=1.0, acquire_timeout=1.0)
        try:
            await store.put("ns", "k", b"v")
            app = create_app(store, origin="http://localhost:8000", otp_routes=False)
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://x") as http:
                proxy.freeze()
                for operation in (store.get("ns", "k"), store.put("ns", "k", b"w"), store.scan("ns")):
                    start = time.monotonic()
                    with pytest.raises(StoreError):
                        await operation
                    assert time.monotonic() - start < 3.5
                start = time.monotonic()
                r = await http.post("/fido2/assertion/options", json={})
                assert r.status_code == 503 and r.json()["status"] == "failed", r.text
                assert time.monotonic() - start < 3.5

                proxy.thaw()  # answering again: the pool replaces its broken connections
                with anyio.fail_after(20):
                    while True:
                        try:
                            record = await store.get("ns", "k")
                            break
                        except StoreError:
                            await anyio.sleep(0.2)
                assert record is not None and record.value == b"v"  # the put during the freeze did not happen
                assert (await http.post("/fido2/assertion/options", json={})).status_code == 200
        finally:
            proxy.thaw()
            with anyio.move_on_after(10):
                await store.aclose()
            tg.cancel_scope.cancel()


async def test_closing_a_store_whose_postgresql_froze_is_bounded(postgresql_url: str) -> None:
    url = await _database(postgresql_url)
    host_port = url.split("@", 1)[1].split("/", 1)[0]
    proxy = FreezingProxy(host_port.split(":")[0], int(host_port.split(":")[1]))
    async with anyio.create_task_group() as tg:
        await tg.start(proxy.serve)
        store = await PostgresStore.connect(await _proxied(url, proxy), command_timeout=1.0, acquire_timeout=1.0)
        try:
            await store.put("ns", "k", b"v")
            proxy.freeze()
            start = time.monotonic()
            with anyio.fail_after(30):
                try:
                    await store.aclose()  # closed, or its connections dropped with a StoreError
                except StoreError:
                    pass
            assert time.monotonic() - start < 3.5
        finally:
            proxy.thaw()
            tg.cancel_scope.cancel()
