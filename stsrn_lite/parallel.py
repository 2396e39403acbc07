"""Ordered, bounded parallel map over worker processes (used by the generator and the cache)."""
from __future__ import annotations

import multiprocessing
import sys
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from typing import TypeVar

Item = TypeVar("Item")
Result = TypeVar("Result")


def ordered_map(function: Callable[[Item], Result], items: Iterable[Item], *, workers: int = 1,
                in_flight: int | None = None) -> Iterator[Result]:
    """``function(item)`` for every item, yielded in the items' order.

    With ``workers > 1`` the calls run in that many processes, with at most ``in_flight``
    (default 8 per worker) submitted and not yet yielded, so memory stays bounded however long
    ``items`` is. An exception in a call is raised here; closing the iterator early (or an
    exception in the consumer, when it is used inside ``contextlib.closing``) cancels what has
    not started and waits for the calls that have.
    """
    if workers <= 1:
        yield from map(function, items)
        return
    limit = in_flight or 8 * workers
    context = multiprocessing.get_context("fork") if sys.platform == "linux" else None
    with ProcessPoolExecutor(workers, mp_context=context) as executor:
        pending: deque[Future] = deque()
        try:
            for item in items:
                pending.append(executor.submit(function, item))
                if len(pending) >= limit:
                    yield pending.popleft().result()
            while pending:
                yield pending.popleft().result()
        finally:
            for future in pending:
                future.cancel()
