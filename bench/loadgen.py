"""A small HTTP/1.1 load generator for the benchmarks: keep-alive connections over loopback,
raw asyncio streams (a Python HTTP client library would be the bottleneck, not the server).

Runs in its own process so that it never shares a GIL with what it measures.
"""

from __future__ import annotations

import asyncio
import multiprocessing as mp
import time
from dataclasses import dataclass


@dataclass
class LoadResult:
    requests: int
    seconds: float
    errors: int
    latencies_ms: list[float]

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def percentile(self, p: float) -> float:
        xs = sorted(self.latencies_ms)
        return xs[min(len(xs) - 1, int(len(xs) * p / 100))] if xs else float("nan")


def request_bytes(path: str, body: bytes, headers: dict[str, str] | None = None) -> bytes:
    head = [
        f"POST {path} HTTP/1.1",
        "Host: 127.0.0.1",
        "Content-Type: application/json",
        f"Content-Length: {len(body)}",
    ]
    head += [f"{k}: {v}" for k, v in (headers or {}).items()]
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body


async def _read_response(reader: asyncio.StreamReader) -> int:
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    length = 0
    for line in head.split(b"\r\n"):
        if line[:15].lower() == b"content-length:":
            length = int(line[15:])
    if length:
        await reader.readexactly(length)
    return status


async def _run(
    port: int, requests: list[bytes], connections: int, rate: float | None
) -> LoadResult:
    queue: asyncio.Queue[tuple[int, bytes]] = asyncio.Queue()
    for item in enumerate(requests):
        queue.put_nowait(item)
    latencies: list[float] = []
    errors = 0
    start = time.perf_counter()

    async def worker() -> None:
        nonlocal errors
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            while True:
                try:
                    i, req = queue.get_nowait()
                except asyncio.QueueEmpty:
                    return
                if rate:  # open loop: request i is due at start + i / rate
                    due = start + i / rate
                    delay = due - time.perf_counter()
                    if delay > 0:
                        await asyncio.sleep(delay)
                    t0 = due if delay > 0 else time.perf_counter()
                else:
                    t0 = time.perf_counter()
                writer.write(req)
                status = await _read_response(reader)
                latencies.append((time.perf_counter() - t0) * 1000)
                if status != 200:
                    errors += 1
        finally:
            writer.close()

    await asyncio.gather(*(worker() for _ in range(connections)))
    return LoadResult(len(requests), time.perf_counter() - start, errors, latencies)


def _child(port: int, requests: list[bytes], connections: int, rate: float | None, q) -> None:  # type: ignore[no-untyped-def]
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    q.put(asyncio.run(_run(port, requests, connections, rate)))


def run_load(
    port: int, requests: list[bytes], *, connections: int = 16, rate: float | None = None
) -> LoadResult:
    """Send every request (closed loop, or open loop at `rate` per second); wait for replies."""
    ctx = mp.get_context("fork")
    q = ctx.Queue()
    p = ctx.Process(target=_child, args=(port, requests, connections, rate, q))
    p.start()
    result = q.get()
    p.join()
    return result
