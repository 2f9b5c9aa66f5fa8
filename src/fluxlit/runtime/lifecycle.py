"""Start and stop the stack around an ASGI lifespan: upstream pools, Streamlit child, the user's API."""

import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING

from fastapi import FastAPI
from starlette.types import Receive, Send

from ..gateway import Gateway
from ..urls import FluxLitPublicUrls
from .address import loopback_host, uvicorn_bind
from .server import refuse_multiple_workers
from .sidecar import StreamlitSidecar
from .supervisor import StreamlitSupervisor
from .target import Target

if TYPE_CHECKING:
    from ..settings import FluxlitSettings

log = logging.getLogger("fluxlit.runtime")


@contextlib.asynccontextmanager
async def running(gateway: Gateway, api: FastAPI, target: Callable[[], Target]) -> AsyncIterator[None]:
    """Everything the gateway needs while it serves; torn down in reverse order.

    ``target`` is asked only when a Streamlit child is started (it may have to be inferred).
    """
    settings = gateway.settings
    refuse_multiple_workers(settings)
    upstream = gateway.upstream
    async with contextlib.AsyncExitStack() as stack:
        stack.push_async_callback(upstream.close)
        if upstream.managed:
            app = target()
            supervisor = StreamlitSupervisor(
                lambda: StreamlitSidecar.for_app(app, settings, port=upstream.port),
                upstream,
                restart=settings.streamlit_restart,
                startup_timeout_s=settings.streamlit_startup_timeout_s,
            )
            stack.push_async_callback(supervisor.stop)
            await supervisor.start()
            stack.callback(upstream.unwatch)
        await stack.enter_async_context(api.router.lifespan_context(api))
        if gateway.debug is not None:
            gateway.debug.announce()
        log.info("ready: %s", public_address(settings, api))
        yield


def public_address(settings: "FluxlitSettings", api: FastAPI) -> str:
    """The URL to open, and the API docs' when the API serves them, for the ready line."""
    bound = uvicorn_bind()
    urls = FluxLitPublicUrls.from_settings(settings, origin=f"http://{loopback_host(bound[0])}:{bound[1]}" if bound else None, api=api)
    return f"{urls.app_base}/" + (f" (API docs {urls.docs_url})" if urls.docs_url else "")


async def serve_lifespan(gateway: Gateway, api: FastAPI, target: Callable[[], Target], receive: Receive, send: Send) -> None:
    """The ASGI lifespan protocol around ``running``."""
    await receive()  # lifespan.startup
    stack = contextlib.AsyncExitStack()
    try:
        await stack.enter_async_context(running(gateway, api, target))
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
