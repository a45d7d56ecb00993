"""A Redis server that accepts connections and never answers: StoreError within COMMAND_TIMEOUT, not a hang
(connecting, and each operation of a store whose server stopped answering)."""

from __future__ import annotations

import contextlib
import time
from collections.abc import AsyncIterator

import anyio
import anyio.abc
import pytest

from aioctap.stores import StoreError, open_store
from aioctap.stores.base import Delete

pytest.importorskip("redis")

from aioctap.stores import redis as redis_store


@contextlib.asynccontextmanager
async def silent_server() -> AsyncIterator[int]:
    """A TCP port that accepts connections, reads what it is sent and never answers."""

    async def handle(client: anyio.abc.SocketStream) -> None:
        try:
            while True:
                await client.receive()
        except (anyio.EndOfStream, anyio.BrokenResourceError, anyio.ClosedResourceError, OSError):
            pass

    listener = await anyio.create_tcp_listener(local_host="127.0.0.1", local_port=0)
    port = int(listener.extra(anyio.abc.SocketAttribute.local_port))
    async with anyio.create_task_group() as tg:
        tg.start_soon(listener.serve, handle)
        yield port
        tg.cancel_scope.cancel()


async def test_connecting_to_a_silent_redis_is_a_store_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(redis_store, "COMMAND_TIMEOUT", 0.5)
    async with silent_server() as port:
        start = time.monotonic()
        with anyio.fail_after(10), pytest.raises(StoreError, match=r"no answer within 0\.5 s") as info:
            async with open_store(f"redis://:hunter2@127.0.0.1:{port}/0"):
                pass
        assert time.monotonic() - start < 3
        assert "hunter2" not in str(info.value)


async def test_each_operation_on_a_silent_redis_is_a_store_error(monkeypatch: pytest.MonkeyPatch) -> None:
    import redis.asyncio as aioredis

    monkeypatch.setattr(redis_store, "COMMAND_TIMEOUT", 0.3)
    async with silent_server() as port:
        store = redis_store.RedisStore(aioredis.from_url(f"redis://127.0.0.1:{port}/0"))
        operations = [
            lambda: store.get("ns", "k"),
            lambda: store.put("ns", "k", b"v"),
            lambda: store.delete("ns", "k"),
            lambda: store.take("ns", "k"),
            lambda: store.scan("ns"),
            lambda: store.transact([Delete("ns", "k")]),
        ]
        for operation in operations:
            start = time.monotonic()
            with anyio.fail_after(10), pytest.raises(StoreError, match=r"no answer within 0\.3 s"):
                await operation()
            assert time.monotonic() - start < 2
        with anyio.fail_after(10):
            await store.aclose()
