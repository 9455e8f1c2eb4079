"""Load generators: wrk when it is installed, else a built-in asyncio one with httpx.

Both keep a fixed number of connections busy for a fixed time, each connection sending
its next request when the previous answer arrives, a random body of the workload each
time, and report the same figures.
"""

from __future__ import annotations

import asyncio
import random
import re
import shutil
import statistics
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from bench.workloads import Workload, failed


@dataclass(frozen=True)
class Result:
    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    failures: int  # socket errors, timeouts, non-200 answers, GraphQL errors, userErrors

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


@dataclass(frozen=True)
class Load:
    """How hard to push: `connections` in flight for `seconds`, from `threads` (wrk only)."""

    seconds: float
    connections: int = 16
    threads: int = 2
    generator: str = "wrk"  # or "python"


def available_generator() -> str:
    return "wrk" if shutil.which("wrk") else "python"


def run(url: str, workload: Workload, load: Load, scripts: Path) -> Result:
    """Send `workload` to `url` (the /graphql endpoint) for `load.seconds`."""
    if load.generator == "wrk":
        return _run_wrk(url, workload, load, scripts)
    return asyncio.run(_run_python(url, workload, load))


# -- wrk ---------------------------------------------------------------------------------

# wrk runs one Lua state per thread. The bodies are formatted into requests once, and
# done() prints one machine-readable line with the totals of every thread.
_LUA = """-- Written by bench/load.py for workload {name}.
local bodies = {{
{bodies}
}}
wrk.method = "POST"
{headers}
local prepared = {{}}
local threads = {{}}
local seeds = 0

function setup(thread)
  seeds = seeds + 1
  thread:set("seed", seeds)
  table.insert(threads, thread)
end

function init(args)
  math.randomseed(seed)
  failed = 0
  for i, body in ipairs(bodies) do
    prepared[i] = wrk.format(nil, nil, nil, body)
  end
end

function request()
  return prepared[math.random(#prepared)]
end

function response(status, headers, body)
  if status ~= 200 or body:find('"errors"', 1, true) or body:find('"code"', 1, true) then
    failed = failed + 1
  end
end

function done(summary, latency, requests)
  local failures = 0
  for _, thread in ipairs(threads) do
    failures = failures + thread:get("failed")
  end
  local e = summary.errors  -- e.status is already counted by response()
  failures = failures + e.connect + e.read + e.write + e.timeout
  io.write(string.format(
    "bench-result requests=%d duration_us=%d p50_us=%d p99_us=%d failures=%d\\n",
    summary.requests, summary.duration, math.floor(latency:percentile(50)),
    math.floor(latency:percentile(99)), failures))
end
"""

_RESULT = re.compile(
    r"bench-result requests=(\d+) duration_us=(\d+) p50_us=(\d+) p99_us=(\d+) failures=(\d+)"
)


def _lua_string(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def lua_script(workload: Workload) -> str:
    return _LUA.format(
        name=workload.name,
        bodies=",\n".join(f"  {_lua_string(body.decode())}" for body in workload.bodies),
        headers="\n".join(
            f"wrk.headers[{_lua_string(k)}] = {_lua_string(v)}" for k, v in workload.headers.items()
        ),
    )


def _run_wrk(url: str, workload: Workload, load: Load, scripts: Path) -> Result:
    scripts.mkdir(parents=True, exist_ok=True)
    script = scripts / f"{workload.name}.lua"
    script.write_text(lua_script(workload))
    command = [
        "wrk",
        f"-t{load.threads}",
        f"-c{load.connections}",
        f"-d{max(1, round(load.seconds))}s",
        "--timeout",
        "10s",
        "--latency",
        "-s",
        str(script),
        url,
    ]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    match = _RESULT.search(output)
    if match is None:
        raise RuntimeError(f"could not read wrk's output:\n{output}")
    requests, duration_us, p50_us, p99_us, failures = (int(g) for g in match.groups())
    return Result(requests, duration_us / 1e6, p50_us / 1e3, p99_us / 1e3, failures)


# -- built-in ----------------------------------------------------------------------------


async def _run_python(url: str, workload: Workload, load: Load) -> Result:
    latencies: list[float] = []
    failures = 0
    limits = httpx.Limits(
        max_connections=load.connections, max_keepalive_connections=load.connections
    )

    async def connection(client: httpx.AsyncClient, rng: random.Random, deadline: float) -> None:
        nonlocal failures
        while time.perf_counter() < deadline:
            body = rng.choice(workload.bodies)
            start = time.perf_counter()
            try:
                response = await client.post(url, content=body, headers=workload.headers)
            except httpx.HTTPError:
                failures += 1
                continue
            latencies.append(time.perf_counter() - start)
            failures += failed(response.status_code, response.content)

    async with httpx.AsyncClient(limits=limits, timeout=10.0) as client:
        started = time.perf_counter()
        deadline = started + load.seconds
        async with asyncio.TaskGroup() as group:
            for n in range(load.connections):
                group.create_task(connection(client, random.Random(n), deadline))
        elapsed = time.perf_counter() - started
    if len(latencies) < 2:
        return Result(len(latencies), elapsed, float("nan"), float("nan"), failures)
    cuts = statistics.quantiles(latencies, n=100, method="inclusive")
    return Result(len(latencies), elapsed, cuts[49] * 1e3, cuts[98] * 1e3, failures)
