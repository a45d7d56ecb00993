"""Redis store (``redis://host:port/db``): shared state for several server instances.

Each compare-and-set, delete and take is one server-side Lua script, so it is atomic on the
server. Records are hashes (``v`` value, ``ver`` version); versions come from one ``INCR``
counter so they never repeat; a sorted set per namespace keeps keys ordered for ``scan``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .base import ConflictError, Delete, Put, Record, StoreError, Write, validate_key, validate_name, validate_writes

__all__ = ["RedisStore"]

PREFIX = "aioctap:"

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

    @classmethod
    async def connect(cls, url: str) -> RedisStore:
        """Connect to the Redis server at ``url`` (``redis://host:port/db``) and check it answers."""
        try:
            import redis.asyncio as aioredis
        except ImportError:
            raise StoreError("the redis store needs the 'redis' package: pip install 'aioctap[redis]'") from None
        try:
            client = aioredis.from_url(url)
            await client.ping()
        except Exception as e:
            raise StoreError(f"cannot connect to Redis at {url.split('@')[-1]}: {type(e).__name__}: {e}") from None
        return cls(client)

    def __repr__(self) -> str:
        return "RedisStore()"

    @staticmethod
    def _keys(namespace: str, key: str) -> tuple[str, str]:
        validate_key(namespace, key)
        return f"{PREFIX}r:{namespace}\x00{key}", f"{PREFIX}idx:{namespace}"

    async def _call(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        """``fn`` (a client method or a script) awaited; a failure of Redis is a StoreError."""
        try:
            return await fn(*args, **kwargs)
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
        rkey, idx = self._keys(namespace, key)
        args = _script_args(Put(namespace, key, value, expected_version, ttl))
        result = await self._call(self._transact, keys=[f"{PREFIX}seq", rkey, idx], args=args)
        if int(result[0]) < 0:
            assert expected_version is not None
            raise ConflictError(namespace, key, expected_version, int(result[2]))
        return int(result[1])

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
        try:
            start = b"[" + prefix.encode() if prefix else b"-"
            members = await self._r.zrangebylex(idx, start, b"+")
        except Exception as e:
            raise StoreError(f"Redis store failed: {type(e).__name__}: {e}") from None
        out: list[tuple[str, Record]] = []
        for m in members:
            key = m.decode()
            if not key.startswith(prefix):
                break
            record = await self.get(namespace, key)
            if record is None:  # expired: drop it from the index
                await self._r.zrem(idx, m)
                continue
            out.append((key, record))
            if limit is not None and len(out) >= limit:
                break
        return out

    async def transact(self, writes: Sequence[Write]) -> list[int]:
        """See :meth:`Store.transact <aioctap.stores.base.Store.transact>`: one Lua script, which Redis runs
        without interleaving any other command; every version is compared before the first write."""
        validate_writes(writes)
        keys = [f"{PREFIX}seq"]
        args: list[Any] = []
        for w in writes:
            keys.extend(self._keys(w.namespace, w.key))
            args += _script_args(w)
        result = await self._call(self._transact, keys=keys, args=args)
        if int(result[0]) < 0:
            w = writes[int(result[1]) - 1]
            assert w.expected_version is not None
            raise ConflictError(w.namespace, w.key, w.expected_version, int(result[2]))
        return [int(v) for v in result[1:]]

    async def aclose(self) -> None:
        """See :meth:`Store.aclose <aioctap.stores.base.Store.aclose>`."""
        await self._r.aclose()
