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


# wrk: a C load generator (Debian package `wrk`). One wrk thread on one core drives the server
# on the other, where a Python client on the same two cores would be the bottleneck itself.
# Each wrk thread sends its own slice of the prepared requests in turn (raw bytes, so every scan
# carries its own code and client id) for a fixed duration; a thread that runs out starts its
# slice again, which the result reports (the repeats are then cheaper duplicates).

_WRK_LUA = r"""
local threads, counter = {}, 0
function setup(thread)
  counter = counter + 1
  thread:set("id", counter)
  table.insert(threads, thread)
end
function init(args)
  local f = assert(io.open(args[1], "rb"))
  local data = f:read("*a")
  f:close()
  local nthreads = tonumber(args[2])
  local all, pos = {}, 1
  while true do
    local stop = string.find(data, "\0", pos, true)
    if not stop then break end
    table.insert(all, string.sub(data, pos, stop - 1))
    pos = stop + 1
  end
  reqs = {}
  for i = id, #all, nthreads do table.insert(reqs, all[i]) end
  i, wrapped, sent = 0, 0, 0
end
function request()
  i = i + 1
  if i > #reqs then i = 1; wrapped = wrapped + 1 end
  sent = sent + 1
  return reqs[i]
end
function done(summary, latency, requests)
  local wraps = 0
  for _, t in ipairs(threads) do wraps = wraps + t:get("wrapped") end
  local e = summary.errors
  io.write(string.format("WRK %d %d %d %d %.3f %.3f %.3f %d\n", summary.requests,
    summary.duration, e.status, e.connect + e.read + e.write + e.timeout,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, latency.mean / 1000, wraps))
end
"""


def wrk_path() -> str:
    """The wrk binary, or a clear message how to install it."""
    import shutil
    import sys

    path = shutil.which("wrk")
    if path is None:
        sys.exit(
            "This benchmark needs wrk, an efficient HTTP load generator: "
            "apt-get install -y wrk  (Debian package `wrk`)."
        )
    return path


@dataclass
class WrkResult:
    requests: int
    seconds: float
    errors: int  # non-2xx responses and socket errors
    p50_ms: float
    p99_ms: float
    wrapped: int  # how many times a thread ran out of distinct requests and started again

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


def run_wrk(
    port: int,
    requests: list[bytes],
    *,
    seconds: float = 5.0,
    connections: int = 16,
    threads: int = 1,
) -> WrkResult:
    """Closed loop: `connections` keep-alive connections for `seconds`, each sending as soon as
    the previous reply came back. The first path of `requests` is the URL wrk connects to."""
    import subprocess
    import tempfile
    from pathlib import Path

    for req in requests:
        if b"\0" in req:
            raise ValueError("a request holds a NUL byte")
    path = requests[0].split(b" ", 2)[1].decode()
    with tempfile.TemporaryDirectory(prefix="phongdich-wrk-") as tmp:
        script, data = Path(tmp) / "reqs.lua", Path(tmp) / "reqs.bin"
        script.write_text(_WRK_LUA)
        data.write_bytes(b"\0".join(requests) + b"\0")
        proc = subprocess.run(  # noqa: S603  (a fixed binary, our arguments)
            [
                wrk_path(),
                f"-t{threads}",
                f"-c{connections}",
                f"-d{max(1, round(seconds))}s",
                "--timeout",
                "10s",
                "-s",
                str(script),
                f"http://127.0.0.1:{port}{path}",
                "--",
                str(data),
                str(threads),
            ],
            capture_output=True,
            text=True,
            timeout=seconds + 60,
            check=True,
        )
    line = next(ln for ln in proc.stdout.splitlines() if ln.startswith("WRK "))
    n, dur_us, status_err, sock_err, p50, p99, _mean, wraps = line.split()[1:]
    return WrkResult(
        requests=int(n),
        seconds=int(dur_us) / 1e6,
        errors=int(status_err) + int(sock_err),
        p50_ms=float(p50),
        p99_ms=float(p99),
        wrapped=int(wraps),
    )
