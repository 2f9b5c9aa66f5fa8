"""A real HTTP + WebSocket server standing in for Streamlit where a test must see what arrives upstream.

Run as ``python upstream_server.py PORT``. Routes:
  GET  /, /_stcore/health          200 ok
  ANY  /echo/...                   JSON of method, raw path, query and the request headers as received
  GET  /bytes?n=N                  N bytes, streamed in 64 KiB chunks
  POST /sink                       reads the body as a stream and answers its size and SHA-256
  POST /early                      answers at once, without reading the body
  GET  /chunked?n=N                N pieces of "piece-K;" sent with chunked transfer coding
  GET  /reset-midway               declares 100000 bytes, sends 1000, then resets the connection
  GET  /stall-midway?s=S           declares 100000 bytes, sends 1000, then stalls S seconds before the rest
  GET  /gzip                       a gzip-encoded body with Content-Encoding: gzip
  GET  /slow?s=S                   answers after S seconds
  WS   /_stcore/stream, /ws        echoes messages; "close:CODE" closes with CODE; "headers" sends handshake headers;
                                   "drop" drops the connection without a close frame
  GET  /last-close                 code of the last WebSocket close the server received
  ANY  /record/TAG?delay=S         records what arrives under TAG (headers, body size, complete), answers after S seconds
  GET  /recorded/TAG               the records for TAG, oldest first ([] when nothing arrived)
  GET  /seen/MARK                  every request target received (any route) that contains MARK
  GET  /peak                       the most requests in flight at once since the last /peak (then reset)
"""

import asyncio
import collections
import gzip
import hashlib
import json
import sys

from aiohttp import WSMsgType, web

CHUNK = b"x" * 65536
CLOSES: list[dict[str, object]] = []
RECORDS: dict[str, list[dict[str, object]]] = {}
SEEN: collections.deque[str] = collections.deque(maxlen=100_000)
IN_FLIGHT = {"now": 0, "peak": 0}


@web.middleware
async def remember(request: web.Request, handler):  # noqa: ANN001, ANN201 - aiohttp middleware signature
    SEEN.append(request.raw_path)
    if request.path == "/peak":
        return await handler(request)
    IN_FLIGHT["now"] += 1
    IN_FLIGHT["peak"] = max(IN_FLIGHT["peak"], IN_FLIGHT["now"])
    try:
        return await handler(request)
    finally:
        IN_FLIGHT["now"] -= 1


async def peak(request: web.Request) -> web.Response:
    answer, IN_FLIGHT["peak"] = IN_FLIGHT["peak"], IN_FLIGHT["now"]
    return web.json_response(answer)


def _headers(request: web.Request) -> list[list[str]]:
    return [[k.decode("latin-1"), v.decode("latin-1")] for k, v in request.raw_headers]


async def ok(request: web.Request) -> web.Response:
    return web.Response(text="ok")


async def echo(request: web.Request) -> web.Response:
    body = await request.read()
    return web.json_response(
        {
            "method": request.method,
            "raw_path": request.raw_path,
            "headers": _headers(request),
            "body_size": len(body),
        }
    )


async def many_bytes(request: web.Request) -> web.StreamResponse:
    n = int(request.query["n"])
    response = web.StreamResponse(headers={"Content-Type": "application/octet-stream", "Content-Length": str(n)})
    await response.prepare(request)
    if request.method == "HEAD":
        return response
    while n > 0:
        piece = CHUNK[: min(n, len(CHUNK))]
        await response.write(piece)
        n -= len(piece)
    await response.write_eof()
    return response


async def sink(request: web.Request) -> web.Response:
    digest, size = hashlib.sha256(), 0
    async for chunk in request.content.iter_any():
        digest.update(chunk)
        size += len(chunk)
    return web.json_response({"size": size, "sha256": digest.hexdigest()})


async def chunked(request: web.Request) -> web.StreamResponse:
    response = web.StreamResponse(headers={"Content-Type": "text/plain"})
    response.enable_chunked_encoding()
    await response.prepare(request)
    for k in range(int(request.query.get("n", "3"))):
        await response.write(b"piece-%d;" % k)
    await response.write_eof()
    return response


async def reset_midway(request: web.Request) -> web.StreamResponse:
    response = web.StreamResponse(headers={"Content-Length": "100000"})
    await response.prepare(request)
    await response.write(b"r" * 1000)
    await asyncio.sleep(0.2)
    request.transport.abort()
    return response


async def stall_midway(request: web.Request) -> web.StreamResponse:
    response = web.StreamResponse(headers={"Content-Length": "100000"})
    await response.prepare(request)
    await response.write(b"x" * 1000)
    await asyncio.sleep(float(request.query.get("s", "10")))
    await response.write(b"x" * 99000)
    return response


async def early(request: web.Request) -> web.Response:
    return web.Response(text="early")


async def gzipped(request: web.Request) -> web.Response:
    return web.Response(body=gzip.compress(b"compressed " * 1000), headers={"Content-Encoding": "gzip", "Content-Type": "text/plain"})


async def slow(request: web.Request) -> web.Response:
    await asyncio.sleep(float(request.query.get("s", "10")))
    return web.Response(text="late")


async def websocket(request: web.Request) -> web.WebSocketResponse:
    ws = web.WebSocketResponse(protocols=("streamlit",), max_msg_size=0)
    await ws.prepare(request)
    async for message in ws:
        if message.type is WSMsgType.TEXT:
            if message.data.startswith("close:"):
                await ws.close(code=int(message.data[6:]), message=b"upstream says bye")
                break
            if message.data == "drop":
                request.transport.abort()
                break
            if message.data == "headers":
                await ws.send_str(json.dumps(_headers(request)))
                continue
            await ws.send_str(message.data)
        elif message.type is WSMsgType.BINARY:
            await ws.send_bytes(message.data)
    CLOSES.append({"code": ws.close_code})
    return ws


async def last_close(request: web.Request) -> web.Response:
    return web.json_response(CLOSES[-1] if CLOSES else None)


async def record(request: web.Request) -> web.Response:
    entry: dict[str, object] = {"method": request.method, "headers": _headers(request), "body_size": 0, "complete": False}
    RECORDS.setdefault(request.match_info["tag"], []).append(entry)
    size = 0
    try:
        async for chunk in request.content.iter_any():
            size += len(chunk)
            entry["body_size"] = size
        entry["complete"] = request.content.is_eof()
    except Exception as exc:  # the record says how the body ended; aiohttp still sees the error
        entry["error"] = type(exc).__name__
        raise
    await asyncio.sleep(float(request.query.get("delay", "0")))
    return web.json_response(entry)


async def recorded(request: web.Request) -> web.Response:
    return web.json_response(RECORDS.get(request.match_info["tag"], []))


async def seen(request: web.Request) -> web.Response:
    mark = request.match_info["mark"]
    return web.json_response([target for target in SEEN if mark in target and not target.startswith("/seen/")])


def make_app() -> web.Application:
    app = web.Application(client_max_size=0, middlewares=[remember])
    app.router.add_get("/", ok)
    app.router.add_get("/_stcore/health", ok)
    app.router.add_route("*", "/echo/{tail:.*}", echo)
    app.router.add_get("/bytes", many_bytes)
    app.router.add_post("/sink", sink)
    app.router.add_get("/slow", slow)
    app.router.add_post("/early", early)
    app.router.add_get("/chunked", chunked)
    app.router.add_get("/reset-midway", reset_midway)
    app.router.add_get("/stall-midway", stall_midway)
    app.router.add_get("/gzip", gzipped)
    app.router.add_get("/_stcore/stream", websocket)
    app.router.add_get("/ws", websocket)
    app.router.add_get("/last-close", last_close)
    app.router.add_route("*", "/record/{tag}", record)
    app.router.add_get("/recorded/{tag}", recorded)
    app.router.add_get("/seen/{mark}", seen)
    app.router.add_get("/peak", peak)
    return app


if __name__ == "__main__":
    web.run_app(make_app(), host="127.0.0.1", port=int(sys.argv[1]), print=None, access_log=None)
