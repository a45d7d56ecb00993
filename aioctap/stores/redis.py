"""Redis store (``redis://host:port/db``): shared state for several server instances.

Each compare-and-set, delete and take is one server-side Lua script, so it is atomic on the
server. Records are hashes (``v`` value, ``ver`` version); versions come from one ``INCR``
counter so they never repeat; a sorted set per namespace keeps keys ordered for ``scan``.

Memory (``maxmemory``, policy ``noeviction``): Redis never rolls a script back, but it looks at memory
once, when a script starts; if the server is over the limit then, it refuses the script's first command
that may grow memory (``INCR``, ``HSET``, ``ZADD``) as long as the script has written nothing yet, and
never a command after a write, so a script that crosses the limit while it runs completes. On Redis 7.0
and later (the version is read from ``INFO server`` when the store connects) a ``put`` and a transaction
with a put run as a script with a ``#!lua`` shebang and no flags, which Redis refuses whole, before it
runs, while over the limit: the call raises :class:`~aioctap.stores.base.StoreError` and writes nothing.
Redis 6 rejects a shebang, so there the scripts have none, and a transaction whose first write is a
deletion (``DEL`` and ``ZREM`` run over the limit) also runs its puts, past the limit: all of its
operations, never some. Deletes, takes and transactions of only deletions and checks free memory and
run over the limit on every version.

Waits: connecting (with its ``PING`` and ``INFO``) and every command or script are bounded by
:data:`COMMAND_TIMEOUT` seconds; a server that stops answering is a :class:`~aioctap.stores.base.StoreError`
then, not a hang (redis-py drops a connection whose command was cancelled).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import anyio

from .base import (
    ConflictError,
    Delete,
    Put,
    Record,
    StoreError,
    Write,
    scrub_url_secrets,
    url_location,
    validate_key,
    validate_name,
    validate_writes,
)

__all__ = ["RedisStore"]

PREFIX = "aioctap:"
COMMAND_TIMEOUT = 5.0  # seconds a command, a script or connecting may take (as the PostgreSQL store's statements)

DELETE = """
local cur = redis.call('HGET', KEYS[1], 'ver')
if not cur then redis.call('ZREM', KEYS[2], ARGV[2]) return {0, 0} end
if ARGV[1] ~= '' and tonumber(ARGV[1]) ~= tonumber(cur) then return {-1, tonumber(cur)} end
redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[2], ARGV[2])
return {1, 0}
"""

TAKE = """
local v = redis.call('HGET', KEYS[1], 'v')
redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[2], ARGV[1])
return v
"""

# KEYS: the version counter, then per operation its record and its namespace's index;
# ARGV: per operation kind ('p', 'd' or 'c'), expected version (or ''), value, ttl in ms (or ''), key.
# Every comparison runs before the first write, so a conflict writes nothing. A put is this script with one operation.
TRANSACT = """
local n = #ARGV / 5
local actual = {}
for i = 1, n do
  local cur = redis.call('HGET', KEYS[2 * i], 'ver')
  local a = 0
  if cur then a = tonumber(cur) end
  actual[i] = a
  local expected = ARGV[(i - 1) * 5 + 2]
  if expected ~= '' and tonumber(expected) ~= a then return {-1, i, a} end
end
local out = {1}
for i = 1, n do
  local b = (i - 1) * 5
  local kind = ARGV[b + 1]
  if kind == 'p' then
    local ver = redis.call('INCR', KEYS[1])
    redis.call('DEL', KEYS[2 * i])
    redis.call('HSET', KEYS[2 * i], 'v', ARGV[b + 3], 'ver', ver)
    if ARGV[b + 4] ~= '' then redis.call('PEXPIRE', KEYS[2 * i], ARGV[b + 4]) end
    redis.call('ZADD', KEYS[2 * i + 1], 0, ARGV[b + 5])
    out[i + 1] = ver
  elseif kind == 'd' then
    redis.call('DEL', KEYS[2 * i])
    redis.call('ZREM', KEYS[2 * i + 1], ARGV[b + 5])
    if actual[i] ~= 0 then out[i + 1] = 1 else out[i + 1] = 0 end
  else
    out[i + 1] = actual[i]
  end
end
return out
"""


# Redis >= 7: the same script with flags declared (none: it may write, so Redis refuses to start it over maxmemory;
# not allow-oom; not no-writes, it writes; every key it touches is in KEYS).
SHEBANG = "#!lua\n"


def _supports_script_flags(version: str) -> bool:
    """Whether a Redis server of ``version`` (``INFO server``'s ``redis_version``) reads script flags: 7.0 on."""
    major = version.split(".", 1)[0]
    return major.isdigit() and int(major) >= 7


def _script_args(w: Write) -> list[Any]:
    """One operation's five TRANSACT arguments."""
    expected = "" if w.expected_version is None else str(w.expected_version)
    if isinstance(w, Put):
        return ["p", expected, bytes(w.value), "" if w.ttl is None else str(max(1, int(w.ttl * 1000))), w.key]
    return ["d" if isinstance(w, Delete) else "c", expected, b"", "", w.key]


class RedisStore:
    """A :class:`~aioctap.stores.base.Store` on a Redis server."""

    def __init__(self, client: object) -> None:
        r: Any = client  # a redis.asyncio.Redis
        self._r = r
        self._delete = r.register_script(DELETE)
        self._take = r.register_script(TAKE)
        self._transact = r.register_script(TRANSACT)
        self._transact_flagged = r.register_script(SHEBANG + TRANSACT)
        self._script_flags: bool | None = None  # read from the server once, when the store connects

    async def _writing_transact(self) -> Any:
        """The TRANSACT script for operations that may grow memory: with a shebang on Redis >= 7."""
        if self._script_flags is None:  # a store made from a client, not by connect()
            info = await self._call(self._r.info, "server")
            self._script_flags = _supports_script_flags(str(info.get("redis_version", "")))
        return self._transact_flagged if self._script_flags else self._transact

    @classmethod
    async def connect(cls, url: str) -> RedisStore:
        """Connect to the Redis server at ``url`` (``redis://host:port/db``) and check it answers."""
        try:
            import redis.asyncio as aioredis
        except ImportError:
            raise StoreError("the redis store needs the 'redis' package: pip install 'aioctap[redis]'") from None
        try:
            client = aioredis.from_url(url)
            with anyio.fail_after(COMMAND_TIMEOUT):
                await client.ping()
                info = await client.info("server")
        except TimeoutError:
            await _close_quietly(client)
            raise StoreError(
                f"cannot connect to Redis at {url_location(url)}: no answer within {COMMAND_TIMEOUT:g} s"
            ) from None
        except Exception as e:
            detail = scrub_url_secrets(str(e), url)
            raise StoreError(f"cannot connect to Redis at {url_location(url)}: {type(e).__name__}: {detail}") from None
        store = cls(client)
        store._script_flags = _supports_script_flags(str(info.get("redis_version", "")))
        return store

    def __repr__(self) -> str:
        return "RedisStore()"

    @staticmethod
    def _keys(namespace: str, key: str) -> tuple[str, str]:
        validate_key(namespace, key)
        return f"{PREFIX}r:{namespace}\x00{key}", f"{PREFIX}idx:{namespace}"

    async def _call(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        """``fn`` (a client method or a script) awaited; a failure of Redis is a StoreError."""
        try:
            with anyio.fail_after(COMMAND_TIMEOUT):
                return await fn(*args, **kwargs)
        except TimeoutError:
            raise StoreError(f"Redis store failed: no answer within {COMMAND_TIMEOUT:g} s") from None
        except Exception as e:
            raise StoreError(f"Redis store failed: {type(e).__name__}: {e}") from None

    async def get(self, namespace: str, key: str) -> Record | None:
        """See :meth:`Store.get <aioctap.stores.base.Store.get>`."""
        rkey, _ = self._keys(namespace, key)
        value, version = await self._call(self._r.hmget, rkey, "v", "ver")
        if value is None or version is None:
            return None
        return Record(bytes(value), int(version))

    async def put(
        self,
        namespace: str,
        key: str,
        value: bytes,
        *,
        expected_version: int | None = None,
        ttl: float | None = None,
    ) -> int:
        """See :meth:`Store.put <aioctap.stores.base.Store.put>`."""
        return (await self._transact_script([Put(namespace, key, value, expected_version, ttl)]))[0]

    async def delete(self, namespace: str, key: str, *, expected_version: int | None = None) -> bool:
        """See :meth:`Store.delete <aioctap.stores.base.Store.delete>`."""
        rkey, idx = self._keys(namespace, key)
        args = ["" if expected_version is None else str(expected_version), key]
        status, actual = await self._call(self._delete, keys=[rkey, idx], args=args)
        if int(status) < 0:
            assert expected_version is not None
            raise ConflictError(namespace, key, expected_version, int(actual))
        return int(status) == 1

    async def take(self, namespace: str, key: str) -> bytes | None:
        """See :meth:`Store.take <aioctap.stores.base.Store.take>`."""
        rkey, idx = self._keys(namespace, key)
        value = await self._call(self._take, keys=[rkey, idx], args=[key])
        return None if value is None else bytes(value)

    async def scan(self, namespace: str, prefix: str = "", *, limit: int | None = None) -> list[tuple[str, Record]]:
        """See :meth:`Store.scan <aioctap.stores.base.Store.scan>`."""
        validate_name("namespace", namespace)
        idx = f"{PREFIX}idx:{namespace}"
        start = b"[" + prefix.encode() if prefix else b"-"
        members = await self._call(self._r.zrangebylex, idx, start, b"+")
        out: list[tuple[str, Record]] = []
        for m in members:
            key = m.decode()
            if not key.startswith(prefix):
                break
            record = await self.get(namespace, key)
            if record is None:  # expired: drop it from the index
                await self._call(self._r.zrem, idx, m)
                continue
            out.append((key, record))
            if limit is not None and len(out) >= limit:
                break
        return out

    async def transact(self, writes: Sequence[Write]) -> list[int]:
        """See :meth:`Store.transact <aioctap.stores.base.Store.transact>`: one Lua script, which Redis runs
        without interleaving any other command; every version is compared before the first write."""
        validate_writes(writes)
        return await self._transact_script(writes)

    async def _transact_script(self, writes: Sequence[Write]) -> list[int]:
        """``writes`` run as the TRANSACT script (a put is one Put); the caller has checked them."""
        keys = [f"{PREFIX}seq"]
        args: list[Any] = []
        for w in writes:
            keys.extend(self._keys(w.namespace, w.key))
            args += _script_args(w)
        # only deletions and checks: the script without flags, which runs over maxmemory (it frees memory)
        script = await self._writing_transact() if any(isinstance(w, Put) for w in writes) else self._transact
        result = await self._call(script, keys=keys, args=args)
        if int(result[0]) < 0:
            w = writes[int(result[1]) - 1]
            assert w.expected_version is not None
            raise ConflictError(w.namespace, w.key, w.expected_version, int(result[2]))
        return [int(v) for v in result[1:]]

    async def aclose(self) -> None:
        """See :meth:`Store.aclose <aioctap.stores.base.Store.aclose>`."""
        await _close_quietly(self._r)


async def _close_quietly(client: Any) -> None:
    """Close a redis-py client within :data:`COMMAND_TIMEOUT` (closing waits for its connections' sockets)."""
    with anyio.move_on_after(COMMAND_TIMEOUT):
        await client.aclose()
