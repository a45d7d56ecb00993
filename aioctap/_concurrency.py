"""Task groups whose failures reach the caller as themselves, never as an ``ExceptionGroup``.

anyio wraps every exception that leaves a task group in an ``ExceptionGroup``, the body's own
included, so ``except KeyError`` around ``async with aioctap.open_device(...)`` would never match
and ``sys.exit(1)`` inside it would print a group traceback. aioctap's own background tasks never
raise (they record their failure and fail the waiting calls with a typed error), so a group that
leaves one of its task groups holds what the body raised: :func:`task_group` re-raises that
exception itself, with its own traceback, cause and context (DESIGN: structured concurrency that
never leaks).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import NoReturn

import anyio
from anyio.abc import TaskGroup

__all__ = ["reraise_single", "task_group"]


def _leaves(group: BaseExceptionGroup[BaseException]) -> list[BaseException]:
    out: list[BaseException] = []
    for exc in group.exceptions:
        if isinstance(exc, BaseExceptionGroup):
            out += _leaves(exc)
        else:
            out.append(exc)
    return out


def reraise_single(group: BaseExceptionGroup[BaseException]) -> NoReturn:
    """Raise the one exception ``group`` stands for (the first that is not a cancellation), as itself.

    The exception keeps its traceback, ``__cause__`` and ``__context__``: re-raising it inside the
    ``except`` clause that caught the group would otherwise chain the group to it.
    """
    leaves = _leaves(group)
    cancelled = anyio.get_cancelled_exc_class()
    chosen = next((e for e in leaves if not isinstance(e, cancelled)), leaves[0] if leaves else None)
    if chosen is None:
        raise group
    cause, context, suppress = chosen.__cause__, chosen.__context__, chosen.__suppress_context__
    try:
        raise chosen
    finally:
        chosen.__cause__, chosen.__context__, chosen.__suppress_context__ = cause, context, suppress
        del chosen, group, leaves


@asynccontextmanager
async def task_group() -> AsyncIterator[TaskGroup]:
    """``anyio.create_task_group()`` whose exceptions come out unwrapped (see :func:`reraise_single`)."""
    try:
        async with anyio.create_task_group() as tg:
            yield tg
    except BaseExceptionGroup as group:
        reraise_single(group)
