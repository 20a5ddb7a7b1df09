"""Python's `websockets` as the client of a hyperws echo server, with
permessage-deflate: each offer below must be agreed and every message must
come back unchanged. Usage: python_client.py ws://127.0.0.1:PORT/
"""

import asyncio
import json
import os
import sys

from websockets.asyncio.client import connect
from websockets.extensions.permessage_deflate import ClientPerMessageDeflateFactory

OFFERS = {
    "default": dict(compression="deflate"),
    "small windows": dict(
        compression=None,
        extensions=[ClientPerMessageDeflateFactory(server_max_window_bits=10, client_max_window_bits=9)],
    ),
    "no context takeover": dict(
        compression=None,
        extensions=[ClientPerMessageDeflateFactory(server_no_context_takeover=True, client_no_context_takeover=True)],
    ),
}


def messages():
    record = json.dumps({"user": "ada", "status": "online", "rooms": ["general", "rust"], "n": 0})
    yield ""
    yield "é"
    for n in range(20):
        yield record.replace('"n": 0', f'"n": {n}')
    yield "κόσμε " * 20000  # over 64 KiB
    yield os.urandom(100_000)  # incompressible
    yield bytes(300_000)  # very compressible


async def check(url, name, options):
    async with connect(url, max_size=None, **options) as ws:
        agreed = ws.response.headers.get("Sec-WebSocket-Extensions", "")
        if not agreed.startswith("permessage-deflate"):
            raise SystemExit(f"python client [{name}]: permessage-deflate not agreed ({agreed!r})")
        count = 0
        for message in messages():
            await ws.send(message)
            echo = await ws.recv()
            if echo != message:
                raise SystemExit(f"python client [{name}]: message {count} came back changed")
            count += 1
        print(f"python client ok [{name}]: {agreed}; {count} messages echoed")


async def main(url):
    for name, options in OFFERS.items():
        await check(url, name, options)


asyncio.run(main(sys.argv[1]))
