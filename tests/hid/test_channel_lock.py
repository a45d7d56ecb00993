"""``ChannelLock``: one transaction per channel, first come first served, cheap while free."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import anyio
import pytest

from aioctap.hid.lock import ChannelLock, Event, FutureEvent


def _event_factories() -> list[object]:
    def future_event() -> Event:
        return FutureEvent(asyncio.get_running_loop())

    asyncio_only = pytest.mark.asyncio_only(reason="FutureEvent is a bare asyncio future")
    return [
        pytest.param("future", future_event, id="future", marks=asyncio_only),
        pytest.param("anyio", anyio.Event, id="anyio"),
    ]


FACTORIES = _event_factories()


@pytest.mark.parametrize(("name", "new_event"), FACTORIES)
async def test_free_lock_is_taken_without_waiting(name: str, new_event: Callable[[], Event]) -> None:
    lock = ChannelLock(new_event)
    assert not lock.locked
    await lock.acquire()
    assert lock.locked
    lock.release()
    assert not lock.locked
    async with lock:
        assert lock.locked
    assert not lock.locked


@pytest.mark.parametrize(("name", "new_event"), FACTORIES)
async def test_waiters_get_the_lock_in_the_order_they_came(name: str, new_event: Callable[[], Event]) -> None:
    lock = ChannelLock(new_event)
    order: list[int] = []
    lock.locked = True  # held by this test

    async def waiter(i: int) -> None:
        async with lock:
            order.append(i)
            await anyio.sleep(0)  # others run meanwhile and must still wait

    async with anyio.create_task_group() as tg:
        for i in range(8):
            tg.start_soon(waiter, i)
            await anyio.sleep(0)
        # a newcomer arriving after a release must not overtake those in line
        lock.release()
        assert lock.locked  # handed to waiter 0, not freed
        tg.start_soon(waiter, 99)
    assert order == [*range(8), 99]
    assert not lock.locked


@pytest.mark.parametrize(("name", "new_event"), FACTORIES)
async def test_cancelled_waiter_leaves_the_line(name: str, new_event: Callable[[], Event]) -> None:
    lock = ChannelLock(new_event)
    lock.locked = True
    got: list[str] = []
    doomed = anyio.CancelScope()

    async def cancelled() -> None:
        with doomed:
            await lock.acquire()
            got.append("doomed")  # never
            lock.release()

    async def patient() -> None:
        await lock.acquire()
        got.append("patient")
        lock.release()

    async with anyio.create_task_group() as tg:
        tg.start_soon(cancelled)
        await anyio.sleep(0)
        tg.start_soon(patient)
        await anyio.sleep(0)
        doomed.cancel()
        await anyio.sleep(0.01)
        lock.release()
    assert got == ["patient"]
    assert not lock.locked


@pytest.mark.parametrize(("name", "new_event"), FACTORIES)
@pytest.mark.asyncio_only(reason="asyncio's task.cancel() between the hand-over and the waiter's next step")
async def test_waiter_cancelled_after_it_was_handed_the_lock_passes_it_on(
    name: str, new_event: Callable[[], Event]
) -> None:
    """``task.cancel()`` between the hand-over and the waiter's next step (anyio's own cancel
    scopes let such a task run on with the lock, which it then releases itself)."""
    lock = ChannelLock(new_event)
    lock.locked = True
    got: list[str] = []

    async def waiter(label: str) -> None:
        async with lock:
            got.append(label)

    first = asyncio.create_task(waiter("first"))
    await asyncio.sleep(0)
    second = asyncio.create_task(waiter("second"))
    await asyncio.sleep(0)
    lock.release()  # handed to the first waiter...
    first.cancel()  # ...which is cancelled before it runs: the lock must go on to the second
    with pytest.raises(asyncio.CancelledError):
        await first
    with anyio.fail_after(2):  # a lock lost with the cancelled waiter would leave the second waiting
        await second
    assert got == ["second"]
    assert not lock.locked
