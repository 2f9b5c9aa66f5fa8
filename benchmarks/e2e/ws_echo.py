"""A fast WebSocket echo server (the synthetic Streamlit stream): ``python ws_echo.py PORT``."""

import asyncio
import sys

import uvloop
from websockets.asyncio.server import serve


async def echo(connection) -> None:
    async for message in connection:
        await connection.send(message)


async def main(port: int) -> None:
    async with serve(echo, "127.0.0.1", port, max_size=None, compression=None, ping_interval=None):
        await asyncio.get_running_loop().create_future()


if __name__ == "__main__":
    uvloop.run(main(int(sys.argv[1])))
