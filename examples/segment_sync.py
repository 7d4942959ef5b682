"""A small client an integrator might write: make sure a list of segments exists.

It creates what is missing in batches, waits out 429s as the platform asks
(``X-Rate-Limit-Time-Reset-Ms``), and reports the 1000-segment cap instead of failing
half-way. ``test_segment_sync.py`` tests it against the mock.
"""

from __future__ import annotations

import time

import requests

BATCH = 50


class SegmentCapReached(Exception):
    """The store cannot hold the segments asked for (at most 1000)."""


class SegmentSync:
    def __init__(self, base_url: str, token: str, max_retries: int = 5):
        self.base_url = base_url.rstrip("/")
        self.session = requests.Session()
        self.session.headers.update({"X-Auth-Token": token, "Accept": "application/json"})
        self.max_retries = max_retries
        self.retries = 0

    def _call(self, method: str, path: str, **kwargs) -> requests.Response:
        for _ in range(self.max_retries + 1):
            response = self.session.request(method, self.base_url + path, timeout=30, **kwargs)
            if response.status_code != 429:
                return response
            self.retries += 1
            time.sleep(int(response.headers.get("X-Rate-Limit-Time-Reset-Ms", "1000")) / 1000)
        response.raise_for_status()
        return response

    def existing(self) -> dict[str, str]:
        """Every segment of the store: name -> ID."""
        found, page = {}, 1
        while True:
            body = self._call("GET", f"/segments?limit=250&page={page}").json()
            found.update({s["name"]: s["id"] for s in body["data"]})
            if page >= body["meta"]["pagination"]["total_pages"]:
                return found
            page += 1

    def ensure_segments(self, names: list[str]) -> dict[str, str]:
        """Create the segments that do not exist yet; name -> ID for all of them."""
        have = self.existing()
        missing = [n for n in dict.fromkeys(names) if n not in have]
        for start in range(0, len(missing), BATCH):
            batch = missing[start : start + BATCH]
            response = self._call("POST", "/segments", json=[{"name": n} for n in batch])
            if response.status_code == 422:
                raise SegmentCapReached(response.json().get("title", "segment limit reached"))
            response.raise_for_status()
            have.update({s["name"]: s["id"] for s in response.json()["data"]})
        return {n: have[n] for n in names}
