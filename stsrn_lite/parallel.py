"""Ordered, bounded parallel map over worker processes (used by the generator and the cache)."""

from __future__ import annotations

import ctypes
import multiprocessing
import os
import signal
import sys
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from multiprocessing.connection import Connection
from typing import TypeVar

import cv2

Item = TypeVar("Item")
Result = TypeVar("Result")


_PR_SET_PDEATHSIG = 1  # linux/prctl.h


def _start_worker(parent_alive: Connection) -> None:
    """Set up one worker: a single OpenCV thread, and death with the process that made the pool.

    Workers split the cores between them, as OpenCV's own thread pool would oversubscribe.
    A worker must not outlive its pool's owner: killed with SIGKILL, the owner runs no clean-up,
    and the workers (and the fork server, which waits for them) would otherwise wait forever
    for work.
    """
    cv2.setNumThreads(1)
    _die_with_fork_server()
    threading.Thread(target=_exit_when_closed, args=(parent_alive,), name="parent-watch", daemon=True).start()


def _die_with_fork_server() -> None:
    """Have Linux send SIGKILL to this worker when its parent, the fork server, dies."""
    if not sys.platform.startswith("linux"):
        return
    try:
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):
        pass  # the pipe watch of `_exit_when_closed` still ends the worker


def _exit_when_closed(parent_alive: Connection) -> None:
    """End this process once the pool's owner has closed its end of ``parent_alive``.

    The owner holds the only writing end and never writes, so reading returns only when it
    closes it: when the pool is done, or when the owner dies, however it dies.
    """
    try:
        parent_alive.recv_bytes()
    except (EOFError, OSError):
        pass
    os._exit(1)


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
    thread, so that the workers share the cores instead of oversubscribing them. Workers die
    with this process, even when it is killed with SIGKILL (see `_start_worker`); the fork
    server then ends by itself, as it does once all its clients are gone.
    """
    if workers <= 1:
        yield from map(function, items)
        return
    limit = in_flight or 8 * workers
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload([function.__module__])  # used when the server starts
    parent_alive, alive = context.Pipe(duplex=False)  # workers get the reading end; see _start_worker
    pool = ProcessPoolExecutor(workers, mp_context=context, initializer=_start_worker, initargs=(parent_alive,))
    with parent_alive, alive, pool as executor:
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
