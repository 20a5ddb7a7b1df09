"""Python's `websockets` as an echo server (permessage-deflate on, as it is
by default) for the hyperws client. Usage: python_server.py PORT
"""

import asyncio
import sys

from websockets.asyncio.server import serve


async def echo(ws):
    async for message in ws:
        await ws.send(message)


async def main(port):
    async with serve(echo, "127.0.0.1", port, max_size=None):
        print(f"python echo server on port {port}", flush=True)
        await asyncio.get_running_loop().create_future()


asyncio.run(main(int(sys.argv[1])))
