"""Start and stop the stack around an ASGI lifespan: upstream pool, Streamlit child, the user's API."""

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING

from starlette.types import Receive, Send

from .server import refuse_multiple_workers
from .sidecar import StreamlitSidecar
from .target import Target, infer_target, parse_target

if TYPE_CHECKING:
    from ..app import FluxLit

log = logging.getLogger("fluxlit.runtime")


def app_target(app: "FluxLit") -> Target:
    """Where the Streamlit child imports the app from: explicit target, ``FLUXLIT_APP``, or inferred."""
    if app.import_target is not None:
        return app.import_target
    if app.settings.app:
        return parse_target(app.settings.app, Path.cwd())
    return infer_target(app, app.created_in)


@contextlib.asynccontextmanager
async def running(app: "FluxLit") -> AsyncIterator[None]:
    """Everything the gateway needs while it serves; torn down in reverse order."""
    settings = app.settings
    refuse_multiple_workers(settings)
    upstream = app.gateway.upstream
    async with contextlib.AsyncExitStack() as stack:
        stack.push_async_callback(upstream.close)
        if upstream.base is None:
            sidecar = StreamlitSidecar.for_app(app_target(app), settings)
            sidecar.start()
            stack.push_async_callback(asyncio.to_thread, sidecar.stop)
            upstream.exit_code = sidecar.exit_code
            await sidecar.wait_healthy(upstream.session, settings.streamlit_startup_timeout_s)
            upstream.base = sidecar.url
            stack.callback(setattr, upstream, "base", None)
        await stack.enter_async_context(app.api.router.lifespan_context(app.api))
        if app.gateway.debug is not None:
            app.gateway.debug.announce()
        yield


async def serve_lifespan(app: "FluxLit", receive: Receive, send: Send) -> None:
    """The ASGI lifespan protocol around ``running(app)``."""
    await receive()  # lifespan.startup
    stack = contextlib.AsyncExitStack()
    try:
        await stack.enter_async_context(running(app))
    except Exception as exc:
        log.error("FluxLit startup failed: %s", exc)
        await send({"type": "lifespan.startup.failed", "message": str(exc)})
        return
    await send({"type": "lifespan.startup.complete"})
    await receive()  # lifespan.shutdown
    try:
        await stack.aclose()
    except Exception as exc:
        await send({"type": "lifespan.shutdown.failed", "message": str(exc)})
        return
    await send({"type": "lifespan.shutdown.complete"})
