"""Ordered, bounded parallel map over worker processes (used by the generator and the cache)."""

from __future__ import annotations

import multiprocessing
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from typing import TypeVar

import cv2

Item = TypeVar("Item")
Result = TypeVar("Result")


def _one_thread_per_worker() -> None:
    """Workers split the cores between them: OpenCV's own thread pool would oversubscribe."""
    cv2.setNumThreads(1)


def ordered_map(
    function: Callable[[Item], Result], items: Iterable[Item], *, workers: int = 1, in_flight: int | None = None
) -> Iterator[Result]:
    """``function(item)`` for every item, yielded in the items' order.

    With ``workers > 1`` the calls run in that many processes, with at most ``in_flight``
    (default 8 per worker) submitted and not yet yielded, so memory stays bounded however long
    ``items`` is. An exception in a call is raised here; closing the iterator early (or an
    exception in the consumer, when it is used inside ``contextlib.closing``) cancels what has
    not started and waits for the calls that have.

    Workers come from a fork server, not from a fork of this process: a process that has
    started threads (OpenCV's and torch's pools, tqdm's monitor) cannot be forked safely. The
    server imports ``function``'s module once, so workers start quickly; each uses one OpenCV
    thread, so that the workers share the cores instead of oversubscribing them.
    """
    if workers <= 1:
        yield from map(function, items)
        return
    limit = in_flight or 8 * workers
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload([function.__module__])  # used when the server starts
    with ProcessPoolExecutor(workers, mp_context=context, initializer=_one_thread_per_worker) as executor:
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
