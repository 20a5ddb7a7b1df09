"""Python websockets rooms server for `scale`: 50 rooms, a 1 KiB JSON
message to one room every 100 ms with websockets.broadcast, as its docs
teach. Prints `LISTENING host:port` once bound.
"""
import asyncio
import itertools

import websockets

ROOMS = 50
rooms = [set() for _ in range(ROOMS)]
joined = itertools.count(1)


def message(n):
    parts = [f'{{"seq":{n},"room":"room-{n % ROOMS}","events":[']
    i, size = n, len(parts[0])
    while size < 1000:
        i = (i * 2654435761 + 12345) % 1000003
        part = f'{{"user":"user{i % 500}","price":{i % 1000}.{i % 100:02},"ok":{str(i % 2 == 0).lower()}}},'
        parts.append(part)
        size += len(part)
    return "".join(parts)[:-1] + "]}"


async def member(ws):
    room = rooms[next(joined) % ROOMS]
    room.add(ws)
    try:
        async for _ in ws:
            pass
    finally:
        room.discard(ws)


async def publish():
    for n in itertools.count():
        await asyncio.sleep(0.1)
        websockets.broadcast(rooms[n % ROOMS], message(n))


async def main():
    async with websockets.serve(member, "127.0.0.1", 0, ping_interval=None, backlog=4096) as server:
        host, port = server.sockets[0].getsockname()[:2]
        print(f"LISTENING {host}:{port}", flush=True)
        await publish()


asyncio.run(main())
