"""Throughput and latency of the mock against a bare Flask endpoint, same server settings.

    .venv/bin/python benchmarks/bench_mock.py [--duration 5] [--threads 4] [--connections 32]

1. Serves the mock (``segmentation-mock serve``, in-memory backend) and a bare Flask app
   (``benchmarks/bare_app.py``) under gunicorn with the same settings (1 gthread worker ×
   ``--threads``; the in-memory backend is one process by design).
2. Drives both with ``wrk -t2 -c<connections>`` over loopback, on the same cores, for
   GET ``/segments?limit=50``, POST ``/segments`` (a new name each request) and POST
   add-profiles (a new membership each request), against bare endpoints that answer
   bodies of the same sizes. Prints requests/s, p50/p99 latency and the ratios.
3. Prints the mean latency of those requests with a store of 999-1000 segments and
   10, 10,000 and 100,000 shopper profiles.
4. Where a target is missed, prints a profile of the mock handling that request.

Needs ``wrk`` (Debian: ``apt-get install wrk``). Not a test: it prints figures.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
POST_STORES = 60
TARGETS = {"get": (0.70, "GET /segments?limit=50"), "post": (0.60, "POST /segments"), "add": (0.60, "POST add-profiles")}


def log(message: str) -> None:
    print(message, flush=True)


@contextmanager
def gunicorn_process(command: list[str], env: dict[str, str] | None = None, ready_url: str | None = None):
    started = time.monotonic()
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env={**os.environ, **(env or {})}, cwd=ROOT)
    try:
        deadline = started + 30
        while ready_url and time.monotonic() < deadline:
            try:
                requests.get(ready_url, timeout=1)
                break
            except requests.ConnectionError:
                time.sleep(0.02)
        proc.ready_seconds = time.monotonic() - started
        yield proc
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def seed(base: str, token: str, segments: int, profiles: int) -> tuple[list[str], list[str]]:
    headers = {"X-Auth-Token": token}
    session = requests.Session()
    segment_ids: list[str] = []
    for start in range(0, segments, 500):
        body = [{"name": f"seed-{i}", "description": "benchmark"} for i in range(start, min(segments, start + 500))]
        segment_ids += [s["id"] for s in session.post(f"{base}/segments", json=body, headers=headers).json()["data"]]
    profile_ids: list[str] = []
    for start in range(0, profiles, 5000):
        count = min(profiles, start + 5000) - start
        body = [{"email": f"c{start + i}@bench.test", "first_name": "B", "last_name": "M"} for i in range(count)]
        customers = session.post(f"{base}/customers", json=body, headers=headers).json()["data"]
        created = session.post(f"{base}/shopper-profiles", json=[{"customer_id": c["id"]} for c in customers], headers=headers)
        profile_ids += [p["id"] for p in created.json()["data"]]
    return segment_ids, profile_ids


def lua_list(values: list[str]) -> str:
    return "{" + ",".join(f'"{v}"' for v in values) + "}"


WRK_COMMON = """
local counter = 0
local id = 0
function setup(thread) thread:set("id", __THREAD_COUNTER__) __THREAD_COUNTER__ = __THREAD_COUNTER__ + 1 end
function init(args) id = tonumber(wrk.thread:get("id")) or 0 end
""".replace("__THREAD_COUNTER__", "thread_counter")


def wrk_scripts(tmp: Path, port: int, segment_ids: list[str], profile_ids: list[str]) -> dict[str, Path]:
    header = "thread_counter = 0\n" + WRK_COMMON
    scripts = {
        "get": header + """
wrk.headers["X-Auth-Token"] = "bench-token"
wrk.headers["Accept"] = "application/json"
""",
        "post": header + f"""
function request()
  counter = counter + 1
  local store = id * {POST_STORES // 2} + math.floor(counter / 1000)
  local body = '[{{"name":"n-' .. id .. '-' .. counter .. '","description":"benchmark"}}]'
  return wrk.format("POST", "/stores/p" .. store .. "/v3/segments",
    {{["X-Auth-Token"] = "p" .. store, ["Content-Type"] = "application/json"}}, body)
end
""",
        "add": header + f"""
local segments = {lua_list(segment_ids)}
local profiles = {lua_list(profile_ids)}
local half = {len(profile_ids) // 2}
function request()
  local k = counter
  counter = counter + 1
  local segment = segments[(k % #segments) + 1]
  local profile = profiles[id * half + math.floor(k / #segments) + 1]
  return wrk.format("POST", "/stores/bench/v3/segments/" .. segment .. "/shopper-profiles",
    {{["X-Auth-Token"] = "bench-token", ["Content-Type"] = "application/json"}}, '["' .. profile .. '"]')
end
""",
        "bare_get": header,
        "bare_post": header + """
function request()
  counter = counter + 1
  return wrk.format("POST", "/bare/post", {["Content-Type"] = "application/json"},
    '[{"name":"n-' .. id .. '-' .. counter .. '","description":"benchmark"}]')
end
""",
        "bare_add": header + """
function request()
  return wrk.format("POST", "/bare/add", {["Content-Type"] = "application/json"},
    '["0b6b7c4e-3f4a-4d6b-9a52-1c2d3e4f5a6b"]')
end
""",
    }
    paths = {}
    for name, text in scripts.items():
        path = tmp / f"{name}.lua"
        path.write_text(text)
        paths[name] = path
    return paths


def run_wrk(url: str, script: Path, duration: int, connections: int) -> dict[str, float]:
    out = subprocess.run(
        ["wrk", "-t2", f"-c{connections}", f"-d{duration}s", "--latency", "-s", str(script), url],
        capture_output=True, text=True, check=True,
    ).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)

    def latency(label: str) -> float:
        value, unit = re.search(rf"\s{label}\s+([\d.]+)(us|ms|s)", out).groups()
        return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]

    return {"rps": rps, "p50": latency("50%"), "p99": latency("99%"), "errors": int(non2xx.group(1)) if non2xx else 0}


def scale_latency(base: str, token: str, profiles: int, rounds: int) -> dict[str, float]:
    segment_ids, profile_ids = seed(base, token, 999, profiles)
    headers = {"X-Auth-Token": token}
    session = requests.Session()
    timings: dict[str, list[float]] = {"get": [], "post": [], "add": []}
    for i in range(rounds):
        start = time.perf_counter()
        response = session.get(f"{base}/segments?limit=50", headers=headers)
        timings["get"].append(time.perf_counter() - start)
        assert response.status_code == 200
        start = time.perf_counter()
        response = session.post(f"{base}/segments", json=[{"name": f"probe-{i}"}], headers=headers)
        timings["post"].append(time.perf_counter() - start)
        assert response.status_code == 201, response.text
        session.delete(f"{base}/segments?id:in={response.json()['data'][0]['id']}", headers=headers)
        segment, profile = segment_ids[i % len(segment_ids)], profile_ids[i % len(profile_ids)]
        start = time.perf_counter()
        response = session.post(f"{base}/segments/{segment}/shopper-profiles", json=[profile], headers=headers)
        timings["add"].append(time.perf_counter() - start)
        assert response.status_code == 201, response.text
        session.delete(f"{base}/segments/{segment}/shopper-profiles?id:in={profile}", headers=headers)
    return {name: statistics.mean(values) * 1000 for name, values in timings.items()}


def profile_request(kind: str) -> str:
    """Where the mock's time goes for one kind of request, in-process, 300 requests."""
    sys.path.insert(0, str(ROOT))
    from mock_server import create_app
    from mock_server.config import MockConfig, StoreConfig

    app = create_app(MockConfig(stores=[StoreConfig("p", "t")]))
    client = app.test_client()
    headers = {"X-Auth-Token": "t"}
    client.post("/stores/p/v3/segments", json=[{"name": f"s{i}"} for i in range(100)], headers=headers)
    customers = client.post("/stores/p/v3/customers", json=[{"email": f"{i}@x.y", "first_name": "a", "last_name": "b"} for i in range(300)], headers=headers).json["data"]
    profiles = client.post("/stores/p/v3/shopper-profiles", json=[{"customer_id": c["id"]} for c in customers], headers=headers).json["data"]
    segment = client.get("/stores/p/v3/segments", headers=headers).json["data"][0]["id"]
    requests_by_kind = {
        "get": lambda i: client.get("/stores/p/v3/segments?limit=50", headers=headers),
        "post": lambda i: client.post("/stores/p/v3/segments", json=[{"name": f"n{i}"}], headers=headers),
        "add": lambda i: client.post(f"/stores/p/v3/segments/{segment}/shopper-profiles", json=[profiles[i]["id"]], headers=headers),
    }
    profiler = cProfile.Profile()
    profiler.enable()
    for i in range(300):
        requests_by_kind[kind](i)
    profiler.disable()
    stream = io.StringIO()
    pstats.Stats(profiler, stream=stream).sort_stats("cumulative").print_stats(18)
    return stream.getvalue()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=int, default=5, help="seconds per wrk run")
    parser.add_argument("--threads", type=int, default=4, help="gunicorn threads per worker, for both servers")
    parser.add_argument("--connections", type=int, default=32, help="wrk connections")
    parser.add_argument("--scale-rounds", type=int, default=200, help="requests per kind in the store-size runs")
    parser.add_argument("--sizes", default="10,10000,100000", help="shopper profiles per store in the latency runs")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        log("wrk not found: install it (Debian: apt-get install wrk) and run again.")
        return 2

    started = time.monotonic()
    sizes = [int(s) for s in args.sizes.split(",")]
    with tempfile.TemporaryDirectory() as tmp_dir:
        tmp = Path(tmp_dir)
        stores = [{"store_hash": "bench", "token": "bench-token"}]
        stores += [{"store_hash": f"p{i}", "token": f"p{i}"} for i in range(POST_STORES)]
        stores += [{"store_hash": f"scale{n}", "token": f"scale{n}"} for n in sizes]
        config = tmp / "stores.json"
        config.write_text(json.dumps({"stores": stores}))
        mock_port, bare_port = free_port(), free_port()
        mock_cmd = [str(BIN / "segmentation-mock"), "serve", "--port", str(mock_port), "--config", str(config), "--threads", str(args.threads)]
        mock_base = f"http://127.0.0.1:{mock_port}"
        log(f"Server settings for both: gunicorn, 1 gthread worker x {args.threads} threads; wrk -t2 -c{args.connections} -d{args.duration}s")
        with gunicorn_process(mock_cmd, ready_url=f"{mock_base}/_mock/health") as mock_proc:
            log(f"mock ready (first answer) {mock_proc.ready_seconds:.2f} s after launch")
            segment_ids, profile_ids = seed(f"{mock_base}/stores/bench/v3", "bench-token", 1000, 2000)
            sizes_bytes = {
                "get": len(requests.get(f"{mock_base}/stores/bench/v3/segments?limit=50", headers={"X-Auth-Token": "bench-token"}).content),
                "post": len(requests.post(f"{mock_base}/stores/p{POST_STORES - 1}/v3/segments", json=[{"name": "size-probe", "description": "benchmark"}], headers={"X-Auth-Token": f"p{POST_STORES - 1}"}).content),
            }
            probe = requests.post(f"{mock_base}/stores/bench/v3/segments/{segment_ids[-1]}/shopper-profiles", json=[profile_ids[-1]], headers={"X-Auth-Token": "bench-token"})
            sizes_bytes["add"] = len(probe.content)
            scripts = wrk_scripts(tmp, mock_port, segment_ids[:-1], profile_ids[:-1])
            mock_results = {
                "get": run_wrk(f"{mock_base}/stores/bench/v3/segments?limit=50", scripts["get"], args.duration, args.connections),
                "post": run_wrk(mock_base, scripts["post"], args.duration, args.connections),
                "add": run_wrk(mock_base, scripts["add"], args.duration, args.connections),
            }
            scale = {n: scale_latency(f"{mock_base}/stores/scale{n}/v3", f"scale{n}", n, args.scale_rounds) for n in sizes}
        bare_cmd = [str(BIN / "gunicorn"), "-k", "gthread", "-w", "1", "--threads", str(args.threads), "-b", f"127.0.0.1:{bare_port}", "--log-level", "warning", "benchmarks.bare_app:app"]
        bare_env = {"BARE_GET_BYTES": str(sizes_bytes["get"]), "BARE_POST_BYTES": str(sizes_bytes["post"]), "BARE_ADD_BYTES": str(sizes_bytes["add"])}
        bare_base = f"http://127.0.0.1:{bare_port}"
        with gunicorn_process(bare_cmd, env=bare_env, ready_url=f"{bare_base}/bare/get"):
            bare_results = {
                "get": run_wrk(f"{bare_base}/bare/get", scripts["bare_get"], args.duration, args.connections),
                "post": run_wrk(bare_base, scripts["bare_post"], args.duration, args.connections),
                "add": run_wrk(bare_base, scripts["bare_add"], args.duration, args.connections),
            }

    log("")
    log(f"{'request':<26}{'bytes':>7}{'mock req/s':>12}{'bare req/s':>12}{'ratio':>8}{'target':>8}"
        f"{'mock p50':>10}{'mock p99':>10}{'bare p99':>10}{'p99 x':>7}  non-2xx")
    missed = []
    for kind, (target, label) in TARGETS.items():
        m, b = mock_results[kind], bare_results[kind]
        ratio, p99x = m["rps"] / b["rps"], m["p99"] / b["p99"]
        ok = ratio >= target and p99x <= 2.0
        if not ok:
            missed.append(kind)
        log(f"{label:<26}{sizes_bytes[kind]:>7}{m['rps']:>12.0f}{b['rps']:>12.0f}{ratio:>7.0%}{'>=' + format(target, '.0%'):>8}"
            f"{m['p50']:>8.2f}ms{m['p99']:>8.2f}ms{b['p99']:>8.2f}ms{p99x:>7.2f}  {m['errors']}{'' if ok else '  MISSED'}")
    log("")
    log("Mean latency (ms), one client, by shopper profiles in the store (999-1000 segments):")
    log(f"{'profiles':>10}{'GET /segments':>16}{'POST /segments':>16}{'add-profiles':>14}")
    for n, values in scale.items():
        log(f"{n:>10}{values['get']:>16.2f}{values['post']:>16.2f}{values['add']:>14.2f}")
    smallest, largest = scale[sizes[0]], scale[sizes[-1]]
    growth = {k: largest[k] / smallest[k] for k in smallest}
    log("growth, largest / smallest store: " + ", ".join(f"{k} {v:.2f}x" for k, v in growth.items()) + "  (target <= 1.5x)")
    for kind in missed:
        log(f"\nTarget missed for {TARGETS[kind][1]}: where the mock's time goes (in-process, 300 requests):")
        log(profile_request(kind))
    log(f"benchmark took {time.monotonic() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
