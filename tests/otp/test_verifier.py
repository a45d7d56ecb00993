"""OtpVerifier on every store: replay protection under concurrency, throttling, drift, encryption."""

from __future__ import annotations

import anyio
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aioctap.otp import (
    TOTP,
    BaseOTP,
    InvalidTokenError,
    KeyFormatError,
    OTPContext,
    OtpVerifier,
    ThrottledError,
    UnknownAccountError,
    UsedTokenError,
)
from aioctap.stores import open_store

T = 1_700_000_000


async def test_100_concurrent_verifications_one_success(store_url: str) -> None:
    async with open_store(store_url) as store:
        verifier = OtpVerifier(store)
        uri = await verifier.enroll("alice", issuer="ACME")
        token = BaseOTP.from_uri(uri)
        assert isinstance(token, TOTP)
        code = token.generate(T).token
        ok, used, other = [], [], []

        async def attempt() -> None:
            try:
                ok.append(await verifier.verify("alice", code, time=T))
            except UsedTokenError:
                used.append(1)
            except Exception as e:
                other.append(e)

        async with anyio.create_task_group() as tg:
            for _ in range(100):
                tg.start_soon(attempt)
        assert (len(ok), len(used), other) == (1, 99, [])
        with pytest.raises(UsedTokenError):
            await verifier.verify("alice", code, time=T + 5)
        assert (await verifier.verify("alice", token.generate(T + 30).token, time=T + 30)).counter == (T + 30) // 30


async def test_throttling_and_unknown_accounts() -> None:
    now = [float(T)]
    async with open_store("memory://") as store:
        verifier = OtpVerifier(store, max_failures=2, clock=lambda: now[0])
        uri = await verifier.enroll("bob", key="JBSWY3DPEHPK3PXP")
        assert "secret=JBSWY3DPEHPK3PXP" in uri
        for _ in range(2):
            with pytest.raises(InvalidTokenError):
                await verifier.verify("bob", "000000")
        with pytest.raises(ThrottledError) as e:
            await verifier.verify("bob", "000000")
        assert 0 < e.value.retry_after <= 1
        now[0] += 1.5
        good = TOTP("JBSWY3DPEHPK3PXP").generate(now[0]).token
        assert (await verifier.verify("bob", good)).counter == int(now[0]) // 30
        with pytest.raises(UnknownAccountError):
            await verifier.verify("nobody", "123456")


async def test_encrypted_keys_at_rest(tmp_path: object) -> None:
    ctx = OTPContext({"1": "an application secret of enough length"}, encrypt_cost=8)
    async with open_store(f"sqlite:///{tmp_path}/otp.db") as store:
        verifier = OtpVerifier(store, context=ctx)
        uri = await verifier.enroll("carol", key="JBSWY3DPEHPK3PXP")
        record = await store.get("otp", "carol")
        assert record is not None and b"JBSWY3DPEHPK3PXP" not in record.value
        code = BaseOTP.from_uri(uri)
        assert isinstance(code, TOTP)
        await verifier.verify("carol", code.generate(T).token, time=T)


async def test_drift_is_tracked() -> None:
    async with open_store("memory://") as store:
        verifier = OtpVerifier(store)
        uri = await verifier.enroll("dave")
        totp = BaseOTP.from_uri(uri)
        assert isinstance(totp, TOTP)
        for i in range(5):
            t = T + 300 * i
            match = await verifier.verify("dave", totp.generate(t + 30).token, time=t)  # client 30 s ahead
            assert match.counter == (t + 30) // 30
        record = await store.get("otp", "dave")
        assert record is not None
        drift = float(record.value.split(b"\n", 1)[0].split()[4])  # header: otp1 last failures throttled drift
        assert 20 < drift <= 30


async def test_two_verifiers_on_one_store_never_accept_a_replay(store_url: str) -> None:
    async with open_store(store_url) as store:
        a, b = OtpVerifier(store), OtpVerifier(store)  # e.g. two server processes
        totp = BaseOTP.from_uri(await a.enroll("erin", key="JBSWY3DPEHPK3PXPJBSWY3DP"))
        assert isinstance(totp, TOTP)
        await a.verify("erin", totp.generate(T).token, time=T)  # a remembers what it wrote
        code = totp.generate(T + 30).token
        await b.verify("erin", code, time=T + 30)  # b writes behind a's back
        with pytest.raises(UsedTokenError):
            await a.verify("erin", code, time=T + 30)  # a's memory is stale: the compare-and-set catches it
        with pytest.raises(UsedTokenError):
            await b.verify("erin", code, time=T + 31)


async def test_refusals_are_decided_on_the_stored_state() -> None:
    async with open_store("memory://") as store:
        a, b = OtpVerifier(store), OtpVerifier(store)
        key = "JBSWY3DPEHPK3PXPJBSWY3DP"
        await a.enroll("fred", key=key)
        code = TOTP(key).generate(T).token
        await a.verify("fred", code, time=T)
        assert await b.remove("fred")
        await b.enroll("fred", key=key)  # re-enrolled elsewhere: the used counter is forgotten
        assert (await a.verify("fred", code, time=T)).counter == T // 30
        assert await a.remove("fred") and not await a.remove("fred")
        with pytest.raises(UnknownAccountError):
            await a.verify("fred", code, time=T)


async def test_corrupt_record_is_a_typed_error() -> None:
    async with open_store("memory://") as store:
        verifier = OtpVerifier(store)
        for bad in (b"", b"otp1 1 2 3\n{}", b"otp1 x 0 0.0 0.0\n{}", b"otp1 1 0 0.0 0.0\n", b"otp1 1 0 0.0 0.0\n[1]"):
            await store.put("otp", "gina", bad)
            with pytest.raises(KeyFormatError):
                await verifier.verify("gina", "123456", time=T)


async def test_hotp_replay_says_already_used_and_is_not_a_failure() -> None:
    """Issue 19: an HOTP replay of the last accepted code is UsedTokenError (as TOTP), not a throttled guess."""
    from aioctap.otp import HOTP

    async with open_store("memory://") as store:
        verifier = OtpVerifier(store, max_failures=1)
        await verifier.enroll("carol", otp=HOTP("JBSWY3DPEHPK3PXP"))
        code = HOTP("JBSWY3DPEHPK3PXP").generate(0)
        assert (await verifier.verify("carol", code)).counter == 0
        for _ in range(3):  # replays never throttle: they are not guesses
            with pytest.raises(UsedTokenError, match="already been used"):
                await verifier.verify("carol", code)
        assert (await verifier.verify("carol", HOTP("JBSWY3DPEHPK3PXP").generate(1))).counter == 1
        with pytest.raises(InvalidTokenError):
            await verifier.verify("carol", "000000")


async def test_concurrent_verifications_from_remembered_state_one_success(store_url: str) -> None:
    """With the account's state remembered (a success before), the concurrent verifications of the next code still
    end in exactly one success: the remembered state changes in place only under the one compare-and-set."""
    async with open_store(store_url) as store:
        verifier = OtpVerifier(store)
        totp = BaseOTP.from_uri(await verifier.enroll("gina", key="JBSWY3DPEHPK3PXPJBSWY3DP"))
        assert isinstance(totp, TOTP)
        await verifier.verify("gina", totp.generate(T).token, time=T)
        code = totp.generate(T + 30).token
        ok, used, other = [], [], []

        async def attempt() -> None:
            try:
                ok.append(await verifier.verify("gina", code, time=T + 30))
            except UsedTokenError:
                used.append(1)
            except Exception as e:
                other.append(e)

        async with anyio.create_task_group() as tg:
            for _ in range(50):
                tg.start_soon(attempt)
        assert (len(ok), len(used), other) == (1, 49, [])
        assert ok[0].counter == (T + 30) // 30


async def test_a_failed_write_leaves_no_remembered_state() -> None:
    """A store failure during the compare-and-set: the token is not spent, in the store or in the verifier's memory."""
    from aioctap.stores.base import StoreError
    from aioctap.stores.memory import MemoryStore

    class Flaky(MemoryStore):
        fail = False

        async def put(self, namespace: str, key: str, value: bytes, **kwds: object) -> int:
            if self.fail:
                raise StoreError("the store is down")
            return await super().put(namespace, key, value, **kwds)  # type: ignore[arg-type]

    store = Flaky()
    verifier = OtpVerifier(store)
    totp = BaseOTP.from_uri(await verifier.enroll("hank", key="JBSWY3DPEHPK3PXPJBSWY3DP"))
    assert isinstance(totp, TOTP)
    await verifier.verify("hank", totp.generate(T).token, time=T)
    code = totp.generate(T + 30).token
    store.fail = True
    with pytest.raises(StoreError):
        await verifier.verify("hank", code, time=T + 30)
    store.fail = False
    assert (await verifier.verify("hank", code, time=T + 30)).counter == (T + 30) // 30
    with pytest.raises(UsedTokenError):
        await verifier.verify("hank", code, time=T + 31)


class _Forgetful(dict[str, object]):
    """A verifier memory that never remembers: every verification reads the store (the general path)."""

    def get(self, key: str, default: object = None) -> object:
        return None


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from(["self", "other"]), st.integers(-2, 3), st.booleans()),
        min_size=1,
        max_size=12,
    )
)
def test_remembered_state_decides_as_a_fresh_read(ops: list[tuple[str, int, bool]]) -> None:
    """The verifier's memory of what it wrote (no read per success) is a fast path of the shell: any sequence of
    codes, replays, wrong codes and writes by a second verifier ends as with a read before every verification."""
    key = "JBSWY3DPEHPK3PXPJBSWY3DP"
    totp = TOTP(key)

    async def run(remember: bool) -> list[object]:
        async with open_store("memory://") as store:
            verifier, other = OtpVerifier(store), OtpVerifier(store)
            if not remember:
                verifier._states = _Forgetful()  # type: ignore[assignment]
            await verifier.enroll("ivy", key=key)
            outcomes: list[object] = []
            now = T
            for who, offset, valid in ops:
                now += 30
                code = totp.generate(now + 30 * offset).token if valid else "000000"
                try:
                    match = await (verifier if who == "self" else other).verify("ivy", code, time=now)
                    outcomes.append(match.counter)
                except (InvalidTokenError, UsedTokenError, ThrottledError) as e:
                    outcomes.append(type(e).__name__)
            return outcomes

    assert anyio.run(run, True) == anyio.run(run, False)
