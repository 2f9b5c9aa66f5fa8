"""An upstream that keeps every request it receives, so two gateways' forwarding can be compared exactly.

Run as ``python capture_upstream.py PORT``. There is no routing: every request is read whole and
answered 200 with JSON of what arrived (method, raw target, HTTP version, header lines as received,
body size and SHA-256), and the same record is kept under the request's tag: the first run of 32
lower-case hex digits in its target or, failing that, in a header value. ``GET /captured/TAG``
lists the records for TAG, oldest first, including requests whose body never completed
(``complete`` false, ``error`` naming why).
"""

import asyncio
import hashlib
import re
import sys

from aiohttp import web

TAG = re.compile(r"[0-9a-f]{32}")
READ_BACK = re.compile(r"/captured/([0-9a-f]{32})")
CAPTURES: dict[str, list[dict[str, object]]] = {}


async def handle(request: web.BaseRequest) -> web.StreamResponse:
    """Answer a read-back, the readiness probe's ``GET /``, or capture the request."""
    if request.method == "GET" and (read_back := READ_BACK.fullmatch(request.raw_path)):
        return web.json_response(CAPTURES.get(read_back.group(1), []))
    if request.raw_path == "/":
        return web.Response(text="ok")
    found = TAG.search(request.raw_path) or next(filter(None, map(TAG.search, request.headers.values())), None)
    entry: dict[str, object] = {
        "method": request.method,
        "target": request.raw_path,
        "version": "%d.%d" % request.version,
        "headers": [[name.decode("latin-1"), value.decode("latin-1")] for name, value in request.raw_headers],
        "body_size": 0,
        "body_sha256": "",
        "complete": False,
    }
    CAPTURES.setdefault(found.group() if found else "", []).append(entry)
    digest = hashlib.sha256()
    try:
        async for chunk in request.content.iter_any():
            digest.update(chunk)
            entry["body_size"] += len(chunk)  # type: ignore[operator]
    except Exception as exc:  # the record says how the body ended; aiohttp still sees the error
        entry["error"] = type(exc).__name__
        raise
    entry["body_sha256"] = digest.hexdigest()
    entry["complete"] = True
    return web.json_response(entry)


async def serve(port: int) -> None:
    server = await asyncio.get_running_loop().create_server(web.Server(handle), "127.0.0.1", port)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(serve(int(sys.argv[1])))
