"""Throughput and latency of the mock, side by side with bare Flask on the same serving
stack and with Stoplight Prism, in one run.

    .venv/bin/python benchmarks/bench_mock.py [--duration 5] [--threads 4] [--connections 32]

1. Serves the mock (``segmentation-mock serve``: granian, 1 worker, in-memory backend),
   the bare Flask app of ``benchmarks/bare_app.py`` on the same stack (granian + the
   mock's adapter, same threads) and Prism serving the project's document statically
   (``.ci/prism`` or ``$PRISM``; skipped with a note when absent).
2. Drives them with ``wrk -t2 -c<connections>`` over loopback, on the same cores:
   GET ``/segments`` with one segment (against Prism's GET ``/segments``), GET
   ``/segments?limit=50``, POST ``/segments`` (a new name each request) and POST
   add-profiles (a new membership each request); bare Flask gets the very same requests
   (its routes are the mock's paths) and answers bodies of the same sizes; three rounds
   alternate the mock and bare Flask.
   Prints the medians of requests/s and p50/p99 latency, and the ratios.
3. Hostile clients: with twelve half-sent requests open (six stopped in their headers,
   six in their bodies), how long health takes; how long a 1 MiB add-profiles body
   takes to be answered; and, on both backends, the server's resident memory (and the
   SQLite file) before and after 30 s of requests to random store hashes.
4. Prints the mean latency of those requests with a store of 999-1000 segments and
   10, 10,000 and 100,000 shopper profiles.
5. On both backends, with 10, 100, 100,000 and 1,000,000 shopper profiles (and as many
   customers) in a store: how long the seed takes, and the median latency of the first
   and the last page of every list (segments, profiles, a segment's profiles, a
   profile's segments, customers, promotions).
6. Where a target is missed, prints a profile of the mock handling that request.

``--only throughput,lists`` runs some parts only (prism: 1, throughput: 2, hostile and
memory: 3, scale: 4, lists: 5).

Needs ``wrk`` (Debian: ``apt-get install wrk``). Not a test: it prints figures.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import itertools
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
ROUNDS = 3  # each throughput figure is the median of this many runs, the mock's and bare Flask's alternating
STORES_PER_ROUND = 30  # per wrk thread: POST /segments moves to the next store every 1,000 segments (the cap)
POST_STORES = 2 * ROUNDS * STORES_PER_ROUND
TARGETS = {"get": (0.70, "GET /segments?limit=50"), "post": (0.70, "POST /segments"), "add": (0.70, "POST add-profiles")}
PARTS = ("prism", "throughput", "hostile", "memory", "scale", "lists")  # --only picks some of them
PRISM_TARGET = 1.2  # GET /segments with one segment, against Prism's static answer
PRISM = Path(os.environ.get("PRISM") or ROOT / ".ci" / "prism" / "node_modules" / ".bin" / "prism")


def log(message: str) -> None:
    print(message, flush=True)


@contextmanager
def server_process(command: list[str], env: dict[str, str] | None = None, ready_url: str | None = None):
    started = time.monotonic()
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env={**os.environ, **(env or {})}, cwd=ROOT,
                            start_new_session=True)  # Prism's node children stop with it
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
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def seed(base: str, token: str, segments: int, profiles: int, members: int = 0, promotions: int = 0) -> tuple[list[str], list[str], float]:
    """Fill a store through the control plane (POST /_mock/seed): the API creates at most
    10 customers per call, which would make a 1,000,000-profile store slow to build. The
    first segment holds the first ``members`` profiles. Returns the IDs and the seconds
    the seed took."""
    import uuid

    root, store_hash = base.split("/stores/")[0], base.split("/stores/")[1].split("/")[0]
    segment_ids = [str(uuid.uuid4()) for _ in range(segments)]
    profile_ids = [str(uuid.uuid4()) for _ in range(profiles)]
    segment_list = [{"id": sid, "name": f"seed-{i}", "description": "benchmark"} for i, sid in enumerate(segment_ids)]
    if members and segment_list:
        segment_list[0]["shopper_profile_ids"] = profile_ids[:members]
    fixture = {"stores": [{
        "store_hash": store_hash,
        "token": token,
        "segments": segment_list,
        "customers": [{"id": i + 1, "email": f"c{i}@bench.test", "first_name": "B", "last_name": "M"} for i in range(profiles)],
        "shopper_profiles": [{"id": pid, "customer_id": i + 1} for i, pid in enumerate(profile_ids)],
        "promotions": [{"name": f"promo-{i}", "redemption_type": "AUTOMATIC",
                        "rules": [{"action": {"cart_value": {"discount": {"percentage_amount": "10"}}}}]} for i in range(promotions)],
    }]}
    body = json.dumps(fixture)
    started = time.perf_counter()
    answer = requests.post(f"{root}/_mock/seed", data=body, headers={"Content-Type": "application/json"}, timeout=900)
    answer.raise_for_status()
    return segment_ids, profile_ids, time.perf_counter() - started


def lua_list(values: list[str]) -> str:
    return "{" + ",".join(f'"{v}"' for v in values) + "}"


WRK_COMMON = """
local counter = 0
local id = 0
function setup(thread) thread:set("id", __THREAD_COUNTER__) __THREAD_COUNTER__ = __THREAD_COUNTER__ + 1 end
function init(args) id = tonumber(wrk.thread:get("id")) or 0; round = tonumber(args[1]) or 0 end
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
  local store = id * {POST_STORES // 2} + round * {STORES_PER_ROUND} + math.floor(counter / 1000)
  local body = '[{{"name":"n-' .. round .. '-' .. id .. '-' .. counter .. '","description":"benchmark"}}]'
  return wrk.format("POST", "/stores/p" .. store .. "/v3/segments",
    {{["X-Auth-Token"] = "p" .. store, ["Content-Type"] = "application/json"}}, body)
end
""",
        "add": header + f"""
local segments = {lua_list(segment_ids)}
local profiles = {lua_list(profile_ids)}
local half = {len(profile_ids) // 2}
local per_round = {len(profile_ids) // 2 // ROUNDS}
function request()
  local k = counter
  counter = counter + 1
  local segment = segments[(k % #segments) + 1]
  local profile = profiles[id * half + round * per_round + math.floor(k / #segments) + 1]
  return wrk.format("POST", "/stores/bench/v3/segments/" .. segment .. "/shopper-profiles",
    {{["X-Auth-Token"] = "bench-token", ["Content-Type"] = "application/json"}}, '["' .. profile .. '"]')
end
""",
        "get1": header + """
wrk.headers["X-Auth-Token"] = "bench-token-one"
wrk.headers["Accept"] = "application/json"
""",
        "prism_get": header + """
wrk.headers["X-Auth-Token"] = "bench-token-one"
wrk.headers["Accept"] = "application/json"
""",
    }
    paths = {}
    for name, text in scripts.items():
        path = tmp / f"{name}.lua"
        path.write_text(text)
        paths[name] = path
    return paths


def run_wrk(url: str, script: Path, duration: int, connections: int, round_number: int = 0,
            server_pgid: int | None = None) -> dict[str, float]:
    """wrk's figures; with ``server_pgid``, also the server's CPU time per request (µs,
    user and system, all its processes): on a shared machine, a steadier figure than
    requests per second, since time the machine gives to others is not counted."""
    cpu_before = group_cpu_seconds(server_pgid) if server_pgid else 0.0
    out = subprocess.run(
        ["wrk", "-t2", f"-c{connections}", f"-d{duration}s", "--latency", "-s", str(script), url, "--", str(round_number)],
        capture_output=True, text=True, check=True,
    ).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)

    def latency(label: str) -> float:
        value, unit = re.search(rf"\s{label}\s+([\d.]+)(us|ms|s)", out).groups()
        return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]

    cpu_us = (group_cpu_seconds(server_pgid) - cpu_before) / (rps * duration) * 1e6 if server_pgid and rps else 0.0
    return {"rps": rps, "p50": latency("50%"), "p99": latency("99%"), "errors": int(non2xx.group(1)) if non2xx else 0,
            "cpu_us": cpu_us}


def median_run(runs: list[dict[str, float]]) -> dict[str, float]:
    """Each figure's median over the runs (non-2xx answers: their sum)."""
    return {key: sum(r[key] for r in runs) if key == "errors" else statistics.median(r[key] for r in runs) for key in runs[0]}


LISTS = ("segments", "profiles", "segment's profiles", "profile's segments", "customers", "promotions")


def list_paths(segment_ids: list[str], profile_ids: list[str], profiles: int) -> dict[str, tuple[str, int]]:
    """Each list's path in a store seeded as ``list_latency`` seeds it, with how many items it holds."""
    return {
        "segments": ("/segments", 60),
        "profiles": ("/shopper-profiles", profiles),
        "segment's profiles": (f"/segments/{segment_ids[0]}/shopper-profiles", profiles),
        "profile's segments": (f"/shopper-profiles/{profile_ids[-1]}/segments", 1),
        "customers": ("/customers", profiles),
        "promotions": ("/promotions", 60),
    }


def list_latency(bases: dict[int, tuple[str, str]], rounds: int) -> tuple[dict[int, dict[str, float]], dict[int, float]]:
    """Median milliseconds for the first and the last page (limit 50) of every list, by
    store size: ``bases`` maps a number of shopper profiles (and customers) to a store's
    API base and token. Every store is seeded first (all its profiles in one segment, 60
    segments and 60 promotions); then each page is asked of every store in turn, round by
    round, so that a shared machine's slower minutes fall on all sizes alike. Each request
    carries a query parameter of its own (which the API ignores), so that every page is
    read from the store rather than served again from the mock's remembered answers.
    Returns the timings and the seconds each seed took."""
    fresh = itertools.count()
    session = requests.Session()
    urls: dict[int, dict[str, str]] = {}
    seeded: dict[int, float] = {}
    for n, (base, token) in bases.items():
        log(f"  seeding {n} profiles ...")
        segment_ids, profile_ids, seeded[n] = seed(base, token, 60, n, members=n, promotions=60)
        urls[n] = {}
        for name, (path, total) in list_paths(segment_ids, profile_ids, n).items():
            last = max(1, -(-total // 50))
            for label, page in (("first", 1), ("last", last)):
                urls[n][f"{name} {label}"] = f"{base}{path}?limit=50&page={page}"
    durations: dict[int, dict[str, list[float]]] = {n: {cell: [] for cell in cells} for n, cells in urls.items()}
    for cell in next(iter(urls.values())):
        for n, (_, token) in bases.items():
            assert session.get(urls[n][cell], headers={"X-Auth-Token": token}).status_code == 200, urls[n][cell]
        for _ in range(rounds):
            for n, (_, token) in bases.items():
                start = time.perf_counter()
                response = session.get(f"{urls[n][cell]}&read={next(fresh)}", headers={"X-Auth-Token": token})
                durations[n][cell].append(time.perf_counter() - start)
                assert response.status_code == 200, response.text  # a refusal's time is not a page's
    # the median: a shared machine's stalls aside
    timings = {n: {cell: statistics.median(values) * 1000 for cell, values in cells.items()} for n, cells in durations.items()}
    return timings, seeded


def scale_latency(bases: dict[int, tuple[str, str]], rounds: int) -> dict[int, dict[str, float]]:
    """Median milliseconds of GET /segments?limit=50, POST /segments and add-profiles, by
    store size: ``bases`` maps a number of shopper profiles to a store's API base and token.
    Every store is seeded first (999 segments); then each round makes the three requests
    in every store in turn, so that a shared machine's slower minutes fall on all sizes
    alike. Each write is undone before the next round, and moves the storage's revision,
    so every GET reads the store."""
    session = requests.Session()
    ids = {}
    for n, (base, token) in bases.items():
        segment_ids, profile_ids, _ = seed(base, token, 999, n)
        ids[n] = (segment_ids, profile_ids)
    timings: dict[int, dict[str, list[float]]] = {n: {"get": [], "post": [], "add": []} for n in bases}
    for i in range(rounds):
        for n, (base, token) in bases.items():
            headers, (segment_ids, profile_ids) = {"X-Auth-Token": token}, ids[n]
            start = time.perf_counter()
            response = session.get(f"{base}/segments?limit=50", headers=headers)
            timings[n]["get"].append(time.perf_counter() - start)
            assert response.status_code == 200
            start = time.perf_counter()
            response = session.post(f"{base}/segments", json=[{"name": f"probe-{i}"}], headers=headers)
            timings[n]["post"].append(time.perf_counter() - start)
            assert response.status_code == 201, response.text
            session.delete(f"{base}/segments?id:in={response.json()['data'][0]['id']}", headers=headers)
            segment, profile = segment_ids[i % len(segment_ids)], profile_ids[i % len(profile_ids)]
            start = time.perf_counter()
            response = session.post(f"{base}/segments/{segment}/shopper-profiles", json=[profile], headers=headers)
            timings[n]["add"].append(time.perf_counter() - start)
            assert response.status_code == 201, response.text
            session.delete(f"{base}/segments/{segment}/shopper-profiles?id:in={profile}", headers=headers)
    return {n: {name: statistics.median(values) * 1000 for name, values in kinds.items()} for n, kinds in timings.items()}




def profile_request(kind: str) -> str:
    """Where the mock's time goes for one kind of request, in-process, 300 requests."""
    sys.path.insert(0, str(ROOT))
    from mock_server import create_app
    from mock_server.config import MockConfig, StoreConfig

    app = create_app(MockConfig(stores=[StoreConfig("p", "t")]))
    client = app.test_client()
    headers = {"X-Auth-Token": "t"}
    client.post("/stores/p/v3/segments", json=[{"name": f"s{i}"} for i in range(100)], headers=headers)
    customers = []
    for start in range(0, 300, 10):  # the API creates at most 10 customers per call
        customers += client.post("/stores/p/v3/customers", json=[{"email": f"{i}@x.y", "first_name": "a", "last_name": "b"} for i in range(start, start + 10)], headers=headers).json["data"]
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


def hostile_clients(root: str, base: str, token: str, segment_id: str) -> dict[str, float]:
    """Seconds health takes with twelve half-sent requests open; seconds to answer a 1 MiB
    add-profiles body."""
    import socket

    port = int(root.rsplit(":", 1)[1])
    stalled = []
    for i in range(12):
        connection = socket.create_connection(("127.0.0.1", port), timeout=30)
        if i % 2:
            connection.sendall(b"GET /_mock/health HTTP/1.1\r\nHost: x\r\n")
        else:
            connection.sendall(f"POST /stores/bench/v3/segments HTTP/1.1\r\nHost: x\r\nX-Auth-Token: {token}\r\n"
                               "Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n[{".encode())
        stalled.append(connection)
    time.sleep(0.3)
    start = time.perf_counter()
    requests.get(f"{root}/_mock/health", timeout=60)
    health = time.perf_counter() - start
    for connection in stalled:
        connection.close()
    body = json.dumps(["0b6b7c4e-3f4a-4d6b-9a52-1c2d3e4f5a6b"] * 27000).encode()[: 1024 * 1024]
    body = body[: body.rindex(b",")] + b"]"
    start = time.perf_counter()
    answer = requests.post(f"{base}/segments/{segment_id}/shopper-profiles", data=body,
                           headers={"X-Auth-Token": token, "Content-Type": "application/json"}, timeout=60)
    return {"health": health, "large": time.perf_counter() - start, "large_status": answer.status_code, "large_bytes": len(body)}


def _group_stats(pgid: int):
    """The fields after the name in /proc/PID/stat of every process in a process group."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue  # a process that ended meanwhile
        if len(fields) > 12 and int(fields[2]) == pgid:  # state, ppid, pgrp, ...
            yield entry, fields


def group_cpu_seconds(pgid: int) -> float:
    """CPU time (user + system) used so far by every process in a process group."""
    ticks = sum(int(fields[11]) + int(fields[12]) for _, fields in _group_stats(pgid))  # utime, stime
    return ticks / os.sysconf("SC_CLK_TCK")


def group_rss_kib(pgid: int) -> int:
    """Resident memory (KiB) of every process in a process group: the server and its workers."""
    total = 0
    for entry, _ in _group_stats(pgid):
        try:
            for line in (entry / "status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except (OSError, IndexError, ValueError):
            continue  # a process that ended meanwhile
    return total


def random_stores(root: str, pgid: int, seconds: float, data_file: Path | None = None, clients: int = 8) -> dict[str, float]:
    """Memory of the server before, during and after ``seconds`` of requests to random store
    hashes with random tokens (reads and writes, none of them to a store that exists):
    nothing should be kept for them."""
    import secrets
    import threading

    sent = [0] * clients  # one count per client thread
    stop = time.monotonic() + seconds

    def client(index: int) -> None:
        session = requests.Session()
        while time.monotonic() < stop:
            base = f"{root}/stores/{secrets.token_hex(8)}/v3"
            headers = {"X-Auth-Token": secrets.token_hex(16)}
            session.get(f"{base}/segments", headers=headers, timeout=30)
            session.post(f"{base}/segments", json=[{"name": secrets.token_hex(8)}], headers=headers, timeout=30)
            sent[index] += 2

    size = lambda: data_file.stat().st_size if data_file else 0  # noqa: E731
    before, file_before = group_rss_kib(pgid), size()
    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    for thread in threads:
        thread.start()
    peak = before
    while any(thread.is_alive() for thread in threads):
        peak = max(peak, group_rss_kib(pgid))
        time.sleep(0.5)
    time.sleep(1)
    return {"requests": sum(sent), "before": before / 1024, "peak": peak / 1024, "after": group_rss_kib(pgid) / 1024,
            "file_before": file_before / 2**20, "file_after": size() / 2**20}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=int, default=5, help="seconds per wrk run")
    parser.add_argument("--threads", type=int, default=4, help="threads per worker, for the mock and bare Flask")
    parser.add_argument("--connections", type=int, default=32, help="wrk connections")
    parser.add_argument("--scale-rounds", type=int, default=200, help="requests per kind and store size in the store-size runs")
    parser.add_argument("--sizes", default="10,10000,100000", help="shopper profiles per store in the latency runs")
    parser.add_argument("--list-sizes", default="10,100,100000,1000000",
                        help="shopper profiles per store in the list-page runs (the smallest is the baseline; the "
                        "first of at least 50 is a second one, whose pages are as full as the largest store's)")
    parser.add_argument("--list-rounds", type=int, default=60, help="requests per page and store size in the list-page runs")
    parser.add_argument("--random-seconds", type=float, default=30,
                        help="seconds of requests to random store hashes, per backend, in the memory probe")
    parser.add_argument("--only", default=",".join(PARTS),
                        help=f"the parts to run, comma-separated, of {','.join(PARTS)} (default: all)")
    args = parser.parse_args()
    parts = set(args.only.split(","))
    if not parts <= set(PARTS):
        parser.error(f"--only: unknown parts {sorted(parts - set(PARTS))}")
    if parts & {"prism", "throughput"} and not shutil.which("wrk"):
        log("wrk not found: install it (Debian: apt-get install wrk) and run again.")
        return 2

    started = time.monotonic()
    sizes = [int(s) for s in args.sizes.split(",")]
    with tempfile.TemporaryDirectory() as tmp_dir:
        tmp = Path(tmp_dir)
        stores = [{"store_hash": "bench", "token": "bench-token"}, {"store_hash": "one", "token": "bench-token-one"}]
        stores += [{"store_hash": f"p{i}", "token": f"p{i}"} for i in range(POST_STORES + 1)]  # the last: the size probe
        stores += [{"store_hash": f"scale{n}", "token": f"scale{n}"} for n in sizes]
        config = tmp / "stores.json"
        config.write_text(json.dumps({"stores": stores}))
        mock_port, bare_port, prism_port = free_port(), free_port(), free_port()
        mock_cmd = [str(BIN / "segmentation-mock"), "serve", "--port", str(mock_port), "--config", str(config), "--threads", str(args.threads)]
        mock_base = f"http://127.0.0.1:{mock_port}"
        log(f"Mock and bare Flask: granian, 1 worker, the mock's RSGI adapter with {args.threads} threads; "
            f"wrk -t2 -c{args.connections} -d{args.duration}s; {os.cpu_count()} cores")
        with server_process(mock_cmd, ready_url=f"{mock_base}/_mock/health") as mock_proc:
            log(f"mock ready (first answer) {mock_proc.ready_seconds:.2f} s after launch")
            segment_ids, profile_ids, _ = seed(f"{mock_base}/stores/bench/v3", "bench-token", 1000, 2000)
            requests.post(f"{mock_base}/stores/one/v3/segments", json=[{"name": "only", "description": "benchmark"}],
                          headers={"X-Auth-Token": "bench-token-one"})
            sizes_bytes = {
                "get1": len(requests.get(f"{mock_base}/stores/one/v3/segments", headers={"X-Auth-Token": "bench-token-one"}).content),
                "get": len(requests.get(f"{mock_base}/stores/bench/v3/segments?limit=50", headers={"X-Auth-Token": "bench-token"}).content),
                "post": len(requests.post(f"{mock_base}/stores/p{POST_STORES}/v3/segments", json=[{"name": "size-probe", "description": "benchmark"}], headers={"X-Auth-Token": f"p{POST_STORES}"}).content),
            }
            probe = requests.post(f"{mock_base}/stores/bench/v3/segments/{segment_ids[-1]}/shopper-profiles", json=[profile_ids[-1]], headers={"X-Auth-Token": "bench-token"})
            sizes_bytes["add"] = len(probe.content)
            scripts = wrk_scripts(tmp, mock_port, segment_ids[:-1], profile_ids[:-1])
            mock_results = {}
            if "prism" in parts:
                mock_results["get1"] = run_wrk(f"{mock_base}/stores/one/v3/segments", scripts["get1"], args.duration, args.connections)
            bare_cmd = [str(BIN / "granian"), "--interface", "rsgi", "--factory", "--port", str(bare_port), "--no-access-log",
                        "--log-level", "warning", "benchmarks.bare_app:rsgi_app"]
            bare_env = {"BARE_GET_BYTES": str(sizes_bytes["get"]), "BARE_POST_BYTES": str(sizes_bytes["post"]),
                        "BARE_ADD_BYTES": str(sizes_bytes["add"]), "BARE_THREADS": str(args.threads)}
            bare_base = f"http://127.0.0.1:{bare_port}"
            targets = {  # kind: (mock URL, mock script, bare URL, bare script)
                "get": (f"{mock_base}/stores/bench/v3/segments?limit=50", "get", f"{bare_base}/stores/bench/v3/segments?limit=50", "get"),
                "post": (mock_base, "post", bare_base, "post"),
                "add": (mock_base, "add", bare_base, "add"),
            }
            runs: dict[str, dict[str, list]] = {kind: {"mock": [], "bare": []} for kind in targets}
            bare_results: dict[str, dict[str, float]] = {}
            if "throughput" in parts:
                with server_process(bare_cmd, env=bare_env, ready_url=f"{bare_base}/stores/bench/v3/segments") as bare_proc:
                    # Alternating, so that the machine's state drifts alike for both.
                    for round_number in range(ROUNDS):
                        log(f"throughput round {round_number + 1} of {ROUNDS} ...")
                        for kind, (mock_url, mock_script, bare_url, bare_script) in targets.items():
                            runs[kind]["mock"].append(run_wrk(mock_url, scripts[mock_script], args.duration,
                                                              args.connections, round_number, mock_proc.pid))
                            runs[kind]["bare"].append(run_wrk(bare_url, scripts[bare_script], args.duration,
                                                              args.connections, round_number, bare_proc.pid))
                mock_results.update({kind: median_run(r["mock"]) for kind, r in runs.items()})
                bare_results = {kind: median_run(r["bare"]) for kind, r in runs.items()}
            hostile = hostile_clients(mock_base, f"{mock_base}/stores/bench/v3", "bench-token", segment_ids[0]) if "hostile" in parts else None
            memory_probe = {}
            if "memory" in parts:
                log(f"memory probe: {args.random_seconds:.0f} s of random store hashes (memory backend) ...")
                memory_probe["memory"] = random_stores(mock_base, mock_proc.pid, args.random_seconds)
            scale = {}
            if "scale" in parts:
                scale = scale_latency({n: (f"{mock_base}/stores/scale{n}/v3", f"scale{n}") for n in sizes}, args.scale_rounds)
        if "memory" in parts:
            probe_port, probe_file = free_port(), tmp / "probe.db"
            probe_cmd = [str(BIN / "segmentation-mock"), "serve", "--port", str(probe_port), "--config", str(config),
                         "--data-file", str(probe_file)]
            with server_process(probe_cmd, ready_url=f"http://127.0.0.1:{probe_port}/_mock/health") as probe_proc:
                log(f"memory probe: {args.random_seconds:.0f} s of random store hashes (SQLite backend) ...")
                memory_probe["sqlite"] = random_stores(f"http://127.0.0.1:{probe_port}", probe_proc.pid, args.random_seconds,
                                                       probe_file)
        list_sizes = [int(n) for n in args.list_sizes.split(",")]
        lists: dict[str, dict[int, dict[str, float]]] = {}
        seeded: dict[str, dict[int, float]] = {}
        list_config = tmp / "lists.json"
        list_config.write_text(json.dumps({"stores": [{"store_hash": f"list{n}", "token": f"list{n}"} for n in list_sizes]}))
        for backend in (("memory", "sqlite") if "lists" in parts else ()):
            port = free_port()
            command = [str(BIN / "segmentation-mock"), "serve", "--port", str(port), "--config", str(list_config)]
            if backend == "sqlite":
                command += ["--data-file", str(tmp / "lists.db")]
            root = f"http://127.0.0.1:{port}"
            with server_process(command, ready_url=f"{root}/_mock/health"):
                log(f"list pages: {backend} backend ...")
                lists[backend], seeded[backend] = list_latency(
                    {n: (f"{root}/stores/list{n}/v3", f"list{n}") for n in list_sizes}, args.list_rounds)
        prism = None
        if "prism" in parts and os.access(PRISM, os.X_OK):
            prism_cmd = [str(PRISM), "mock", "-h", "127.0.0.1", "-p", str(prism_port), str(ROOT / "openapi" / "segmentation-v3.yaml")]
            prism_base = f"http://127.0.0.1:{prism_port}"
            with server_process(prism_cmd, ready_url=f"{prism_base}/segments"):
                prism = run_wrk(f"{prism_base}/segments", scripts["prism_get"], args.duration, args.connections)

    log("")
    if "prism" not in parts:
        pass
    elif prism is None:
        log(f"Prism: not installed at {PRISM} (npm install --prefix .ci/prism @stoplight/prism-cli); its comparison is skipped")
    else:
        m = mock_results["get1"]
        ratio = m["rps"] / prism["rps"]
        log(f"{'GET /segments, 1 segment':<26}{'mock req/s':>12}{'Prism req/s':>13}{'ratio':>8}{'target':>8}{'mock p99':>10}{'Prism p99':>11}")
        log(f"{'':<26}{m['rps']:>12.0f}{prism['rps']:>13.0f}{ratio:>7.2f}x{'>=' + format(PRISM_TARGET, '.1f') + 'x':>8}"
            f"{m['p99']:>8.2f}ms{prism['p99']:>9.2f}ms{'' if ratio >= PRISM_TARGET else '  MISSED'}")
        log("(Prism serves the project's document statically: no state, no token check, no validation of the answer)")
    missed = []
    if "throughput" in parts:
        log("")
        log(f"{'request':<26}{'bytes':>7}{'mock req/s':>12}{'bare req/s':>12}{'ratio':>8}{'target':>8}"
            f"{'mock p50':>10}{'mock p99':>10}{'bare p99':>10}{'p99 x':>7}{'CPU µs/req mock':>17}{'bare':>6}{'ratio':>7}  non-2xx")
        for kind, (target, label) in TARGETS.items():
            m, b = mock_results[kind], bare_results[kind]
            ratio, p99x = m["rps"] / b["rps"], m["p99"] / b["p99"]
            ok = ratio >= target and p99x <= 1.5
            if not ok:
                missed.append(kind)
            log(f"{label:<26}{sizes_bytes[kind]:>7}{m['rps']:>12.0f}{b['rps']:>12.0f}{ratio:>7.0%}{'>=' + format(target, '.0%'):>8}"
                f"{m['p50']:>8.2f}ms{m['p99']:>8.2f}ms{b['p99']:>8.2f}ms{p99x:>7.2f}"
                f"{m['cpu_us']:>17.0f}{b['cpu_us']:>6.0f}{b['cpu_us'] / m['cpu_us'] if m['cpu_us'] else 0:>7.0%}"
                f"  {m['errors']}{'' if ok else '  MISSED'}")
        log("(targets: req/s ratio as shown, p99 at most 1.5x bare; CPU µs/req: the server's CPU time per request,"
            " all its processes, and bare's over the mock's)")
        log("")
    if hostile is not None:
        log(f"Hostile clients: health with 12 half-sent requests open answered in {hostile['health'] * 1000:.0f} ms (target <= 1000 ms); "
            f"a {hostile['large_bytes'] // 1024} KiB add-profiles body answered {hostile['large_status']} in "
            f"{hostile['large'] * 1000:.0f} ms (target <= 1000 ms)")
    if memory_probe:
        for backend, m in memory_probe.items():
            growth = m["after"] - m["before"]
            line = (f"Random store hashes, {backend} backend: {m['requests']} requests in {args.random_seconds:.0f} s; "
                    f"server RSS {m['before']:.0f} MiB before, {m['peak']:.0f} peak, {m['after']:.0f} after ({growth:+.1f} MiB)")
            if backend == "sqlite":
                line += f"; data file {m['file_before']:.2f} -> {m['file_after']:.2f} MiB"
            flat = growth <= max(5.0, 0.1 * m["before"]) and (backend != "sqlite" or m["file_after"] - m["file_before"] < 1)
            log(line + ("" if flat else "  NOT FLAT"))
        log("(target: memory flat, within 5 MiB or 10 %, whichever is larger; data file within 1 MiB)")
    if scale:
        log("")
        log("Median latency (ms), one client, by shopper profiles in the store (999-1000 segments; the sizes taking turns):")
        log(f"{'profiles':>10}{'GET /segments':>16}{'POST /segments':>16}{'add-profiles':>14}")
        for n, values in scale.items():
            log(f"{n:>10}{values['get']:>16.2f}{values['post']:>16.2f}{values['add']:>14.2f}")
        smallest, largest = scale[sizes[0]], scale[sizes[-1]]
        growth = {k: largest[k] / smallest[k] for k in smallest}
        log("growth, largest / smallest store: " + ", ".join(f"{k} {v:.2f}x" for k, v in growth.items()) + "  (target <= 1.5x)")
    if lists:
        log("")
        log("List pages, median ms over HTTP (limit 50), by shopper profiles in the store (all in one segment;"
            " 60 segments, 60 promotions):")
        columns = [f"{name} {end}" for name in LISTS for end in ("first", "last")]
        full = next((n for n in list_sizes if n >= 50), None)  # its pages hold 50 items, like the largest store's
        for backend, by_size in lists.items():
            log(f"{backend + ' backend':<28}" + "".join(f"{n:>10}" for n in list_sizes) + "   largest/smallest"
                + (f"  largest/{full}" if full and full != list_sizes[-1] else ""))
            for column in columns:
                values = [by_size[n][column] for n in list_sizes]
                ratio = values[-1] / values[0]
                line = f"  {column:<26}" + "".join(f"{v:>10.2f}" for v in values) + f"{ratio:>17.2f}x"
                if full and full != list_sizes[-1]:
                    line += f"{values[-1] / by_size[full][column]:>13.2f}x"
                log(line + ("" if ratio <= 1.5 else "  MISSED"))
            log(f"  {'seed (s)':<26}" + "".join(f"{seeded[backend][n]:>10.1f}" for n in list_sizes)
                + f"   (target: {list_sizes[-1]} profiles in < 60 s)")
    for kind in missed:
        log(f"\nTarget missed for {TARGETS[kind][1]}: where the mock's time goes (in-process, 300 requests):")
        log(profile_request(kind))
    log(f"benchmark took {time.monotonic() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
