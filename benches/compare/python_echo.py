"""Python websockets echo server with its default compression, for `compare`.

Prints `LISTENING host:port` once bound, as the Rust servers do.
"""
import asyncio

import websockets


async def echo(ws):
    async for message in ws:
        await ws.send(message)


async def main():
    async with websockets.serve(echo, "127.0.0.1", 0, ping_interval=None, max_size=None) as server:
        host, port = server.sockets[0].getsockname()[:2]
        print(f"LISTENING {host}:{port}", flush=True)
        await asyncio.Future()


asyncio.run(main())
