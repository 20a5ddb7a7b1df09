"""Python's `websockets` streams a file through examples/upload.rs both ways:
up with `send()` of an async iterable (one fragment per item) into the
server's MessageReader, down with `recv_streaming()` from its MessageWriter,
with and without permessage-deflate. Checks the server's "ok <bytes>
<sha256>" and the downloaded bytes.
Usage: python_streaming.py ws://HOST:PORT [MIB] (default 48 MiB each way)
"""

import asyncio
import hashlib
import sys

from websockets.asyncio.client import connect

SIZE = (int(sys.argv[2]) if len(sys.argv) > 2 else 48) << 20
CHUNK = 1 << 20


def chunk(i):
    return bytes((i * 31 + j) % 251 for j in range(256)) * (CHUNK // 256)


async def pieces():
    for i in range(SIZE // CHUNK):
        yield chunk(i)
        await asyncio.sleep(0)


async def round_trip(base, compression):
    name = f"python-{compression or 'plain'}.bin"
    whole = hashlib.sha256()
    for i in range(SIZE // CHUNK):
        whole.update(chunk(i))
    expected = whole.hexdigest()
    async with connect(f"{base}/upload/{name}", compression=compression, max_size=None) as ws:
        agreed = ws.response.headers.get("Sec-WebSocket-Extensions")
        assert (agreed is not None) == (compression is not None), agreed
        await ws.send(pieces())
        reply = await ws.recv()
        assert reply == f"ok {SIZE} {expected}", reply
        await ws.wait_closed()
        assert ws.close_code == 1000, ws.close_code
    async with connect(f"{base}/download/{name}", compression=compression, max_size=None) as ws:
        digest, size, fragments = hashlib.sha256(), 0, 0
        async for fragment in ws.recv_streaming():
            digest.update(fragment)
            size += len(fragment)
            fragments += 1
        assert (size, digest.hexdigest()) == (SIZE, expected), size
        assert fragments > 1, fragments
        await ws.wait_closed()
        assert ws.close_code == 1000, ws.close_code
    print(f"python websockets, {compression or 'no compression'}: {SIZE} bytes up and down, "
          f"{fragments} fragments down", flush=True)


async def main(base):
    for compression in [None, "deflate"]:
        await round_trip(base, compression)


asyncio.run(main(sys.argv[1]))
