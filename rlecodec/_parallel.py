"""Run a GIL-releasing kernel over item ranges in a few threads."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

_pools: dict[int, ThreadPoolExecutor] = {}
_pools_lock = threading.Lock()


def _forget_pools_after_fork() -> None:
    # A forked child has none of the parent's threads: start afresh instead of waiting on them.
    global _pools_lock
    _pools.clear()
    _pools_lock = threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_pools_after_fork)


def _pool(workers: int) -> ThreadPoolExecutor:
    with _pools_lock:
        pool = _pools.get(workers)
        if pool is None:
            pool = _pools[workers] = ThreadPoolExecutor(workers, thread_name_prefix="rlecodec")
        return pool


def run_ranges(kernel: Callable[[int, int], None], n_items: int, threads: int) -> None:
    """Call ``kernel(i0, i1)`` over contiguous ranges covering ``range(n_items)``.

    The kernels release the GIL, so the ranges run truly in parallel; the calling thread
    takes the first range itself.
    """
    if threads <= 1 or n_items <= 1:
        kernel(0, n_items)
        return
    bounds = [n_items * k // threads for k in range(threads + 1)]
    futures = [_pool(threads - 1).submit(kernel, bounds[k], bounds[k + 1])
               for k in range(1, threads)]
    kernel(bounds[0], bounds[1])
    for future in futures:
        future.result()
