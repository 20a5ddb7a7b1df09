"""Python's `websockets` keeps sending while the server closes: a numbered
text message every millisecond until the server's close arrives, then it
answers the close (websockets does that itself) and waits for the end.
Prints "sent N", the number of sends that succeeded: the server must have
read exactly those. Usage: python_sends_until_closed.py ws://127.0.0.1:PORT/
"""

import asyncio
import sys

from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed


async def main(url):
    sent = 0
    async with connect(url) as ws:

        async def read_to_end():
            async for message in ws:
                raise SystemExit(f"unexpected message {message!r}")

        reader = asyncio.create_task(read_to_end())
        try:
            while not reader.done():
                await ws.send(str(sent))
                sent += 1
                await asyncio.sleep(0.001)
        except ConnectionClosed:
            pass
        await asyncio.wait_for(reader, 10)
    print(f"sent {sent}", flush=True)


asyncio.run(main(sys.argv[1]))
