"""The benchmarks run: their figures are read by people, not asserted here (a shared CI
machine's timings prove nothing), but a script that no longer runs, or measures answers
that are not the pages it names, would go unnoticed between the runs that print the
README's figures. So each script runs here with tiny sizes, and the test checks what it
printed: every table, every row, on both backends, and the refusal it expects."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LISTS = ("segments", "profiles", "segment's profiles", "profile's segments", "customers", "promotions")
NUMBER = r"\d+\.\d\d"


def test_bench_mock_parts_without_wrk_run_and_print_every_table():
    # throughput and prism need wrk (not installed by CI); the other parts do not
    run = subprocess.run(
        [sys.executable, "benchmarks/bench_mock.py", "--only", "hostile,memory,scale,lists", "--random-seconds", "1",
         "--sizes", "10,20", "--scale-rounds", "3", "--list-sizes", "10,60", "--list-rounds", "2"],
        cwd=ROOT, capture_output=True, text=True, timeout=600)
    out = run.stdout + run.stderr
    assert run.returncode == 0, out
    # a 1 MiB add-profiles body is refused (more than 50 items), not stored
    assert re.search(r"a \d+ KiB add-profiles body answered 400 in \d+ ms", out), out
    for backend in ("memory", "sqlite"):
        assert re.search(rf"Random store hashes, {backend} backend: \d+ requests in 1 s", out), out
    assert re.search(rf"^\s+10\s+{NUMBER}\s+{NUMBER}\s+{NUMBER}$", out, re.MULTILINE), out
    assert re.search(rf"^\s+20\s+{NUMBER}\s+{NUMBER}\s+{NUMBER}$", out, re.MULTILINE), out
    tables = re.split(r"^(memory|sqlite) backend +10 +60 +largest/smallest$", out, flags=re.MULTILINE)
    assert [tables[1], tables[3]] == ["memory", "sqlite"], out
    for table in (tables[2], tables[4]):
        for name in LISTS:
            for end in ("first", "last"):
                assert re.search(rf"^  {re.escape(name)} {end} +{NUMBER} +{NUMBER} +{NUMBER}x", table, re.MULTILINE), table
        assert re.search(r"^  seed \(s\) +\d+\.\d +\d+\.\d", table, re.MULTILINE), table
    assert "Traceback" not in out


def test_bench_mock_without_wrk_refuses_the_parts_that_need_it(tmp_path):
    env = {"PATH": str(tmp_path)}  # no wrk on it
    run = subprocess.run([sys.executable, "benchmarks/bench_mock.py", "--only", "throughput"],
                         cwd=ROOT, capture_output=True, text=True, timeout=60, env=env)
    assert run.returncode == 2
    assert "wrk not found" in run.stdout + run.stderr


def test_bench_inprocess_runs_and_prints_both_paths():
    run = subprocess.run([sys.executable, "benchmarks/bench_inprocess.py", "--calls", "905"],  # past one delete-all
                         cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stdout + run.stderr
    for label in ("GET /segments?limit=1", "POST /segments"):
        assert re.search(rf"^{re.escape(label)} +\d+ µs +\d+ µs +\d+\.\d\d$", run.stdout, re.MULTILINE), run.stdout
