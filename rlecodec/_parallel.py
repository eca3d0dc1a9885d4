"""Run a GIL-releasing kernel over item ranges in a few threads, from one pool for the
process.  What the kernels do is the callers' business; only the threading lives here."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor

# One pool for the process, replaced by a larger one when a call needs more workers (the
# old one finishes what it was given, then its threads exit): never more threads than the
# largest count asked for.
_pool: ThreadPoolExecutor | None = None
_pool_size = 0
_pool_lock = threading.Lock()


def _forget_pool_after_fork() -> None:
    # A forked child has none of the parent's threads: start afresh instead of waiting on them.
    global _pool, _pool_size, _pool_lock
    _pool, _pool_size, _pool_lock = None, 0, threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_pool_after_fork)


def _submit(kernel: Callable[[int, int], None],
            ranges: list[tuple[int, int]]) -> list[Future[None]]:
    """Submit each range to the shared pool, grown first if it has fewer workers."""
    global _pool, _pool_size
    with _pool_lock:  # (so no range goes to a pool that another call is replacing)
        if _pool is None or _pool_size < len(ranges):
            if _pool is not None:
                _pool.shutdown(wait=False)
            _pool_size = len(ranges)
            _pool = ThreadPoolExecutor(_pool_size, thread_name_prefix="rlecodec")
        return [_pool.submit(kernel, i0, i1) for i0, i1 in ranges]


def run_ranges(kernel: Callable[[int, int], None], n_items: int, threads: int) -> None:
    """Call ``kernel(i0, i1)`` over contiguous ranges covering ``range(n_items)``.

    The kernels release the GIL, so the ranges run truly in parallel; the calling thread
    takes the first range itself.
    """
    if threads <= 1 or n_items <= 1:
        kernel(0, n_items)
        return
    bounds = [n_items * k // threads for k in range(threads + 1)]
    futures = _submit(kernel, [(bounds[k], bounds[k + 1]) for k in range(1, threads)])
    try:
        kernel(bounds[0], bounds[1])
    finally:
        # Every range is waited for, even when one fails: none may still be writing when
        # the caller goes on (or frees what they write into).
        errors = []
        for future in futures:
            try:
                future.result()
            except BaseException as err:  # noqa: BLE001 - re-raised below
                errors.append(err)
    if errors:
        raise errors[0]
