"""One event loop, on a thread of its own, for every async page dependency in the process.

Streamlit's loop runs on the main thread and a page runs on a script thread. ``asyncio.run`` per
call would work until a dependency caches a client bound to its loop (the next run's loop differs);
a running loop in the caller (tests under pytest-asyncio) would break it outright. A single
long-lived loop has neither problem, and the caller's context variables travel with each call.
"""

import asyncio
import concurrent.futures
import contextvars
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")

_loop: asyncio.AbstractEventLoop | None = None
_thread: threading.Thread | None = None
_lock = threading.Lock()


def page_loop() -> asyncio.AbstractEventLoop:
    """The shared loop, started on first use (a daemon thread: it never holds the process up)."""
    global _loop, _thread
    with _lock:
        if _loop is None:
            loop = asyncio.new_event_loop()
            _thread = threading.Thread(target=loop.run_forever, name="fluxlit-page-async", daemon=True)
            _thread.start()
            _loop = loop
        return _loop


def run_on_page_loop(coro: Coroutine[Any, Any, T]) -> T:
    """Run ``coro`` on the shared loop in a copy of the caller's context and wait for its result."""
    loop = page_loop()
    if threading.current_thread() is _thread:
        coro.close()
        raise RuntimeError("run_on_page_loop was called from the page loop itself; await the coroutine instead")
    done: concurrent.futures.Future[T] = concurrent.futures.Future()

    def start() -> None:
        task = loop.create_task(coro)  # copies the current context, which call_soon_threadsafe made the caller's
        task.add_done_callback(lambda t: _settle(done, t))

    loop.call_soon_threadsafe(start, context=contextvars.copy_context())
    return done.result()


def _settle(done: concurrent.futures.Future[T], task: "asyncio.Task[T]") -> None:
    if task.cancelled():
        done.cancel()
    elif (exc := task.exception()) is not None:
        done.set_exception(exc)
    else:
        done.set_result(task.result())
