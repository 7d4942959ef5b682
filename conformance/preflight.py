"""Preflight: before any rule runs, one GET says whether there is a target to judge.

A target that cannot be reached, refuses the token (or both tokens: then the store hash is
most likely unknown to it), or serves no documented route at the base URL is a problem with the run, not a verdict on the implementation: the suite names
it in one line and exits 3 before any rule runs (and before any write).
"""

from __future__ import annotations

from typing import Any

import requests

PREFLIGHT_TIMEOUT_S = 10.0
REQUEST_TIMEOUT_HELP = ("seconds one request and its whole answer may take, however slowly the answer trickles in "
                        "(default 60; the first request, which checks that there is a target, 10 unless this is given)")


def customer_ids(values: list[str]) -> tuple[str, ...]:
    """``--customer-id`` values (each may be a comma list) as canonical integer IDs, without
    repeats; ValueError names the first entry that is not a customer ID."""
    ids: list[str] = []
    for value in values:
        for part in str(value).split(","):
            text = part.strip()
            if not text:
                continue
            if not text.isdigit() or int(text) < 1:
                raise ValueError(f"--customer-id takes customer IDs (whole numbers from 1, or a comma list): got {text!r}")
            if str(int(text)) not in ids:
                ids.append(str(int(text)))
    return tuple(ids)


def api_base_of(base_url: str, store_hash: str | None) -> str:
    """`{server}/stores/{hash}/v3` from a server URL and a store hash; without a store
    hash, the base URL is the API's base as given (a server that serves the operations
    at another root, such as a stateless mock at `/`)."""
    base = base_url.rstrip("/")
    return f"{base}/stores/{store_hash}/v3" if store_hash and "/stores/" not in base else base


def preflight(client: Any, readonly_token: str | None, timeout: float | None = None) -> str:
    """'' when the target answers like a segmentation API; otherwise the problem, in one line.
    Each probe may take ``timeout`` seconds (--request-timeout), or PREFLIGHT_TIMEOUT_S when
    none was given: an absent target is named quickly, a slow one given the time asked for."""
    base = client.base_url
    seconds = timeout or PREFLIGHT_TIMEOUT_S
    problem, status = _probe(client, client.token, base, "the token", seconds)
    if not readonly_token or (problem and status != 401):
        return problem
    readonly_problem, readonly_status = _probe(client, readonly_token, base, "the read-only token", seconds)
    if status == 401 and readonly_status == 401:
        store = store_hash_of(base)
        if store:
            return (f"both tokens were refused: GET {base}/segments answered 401 to each. The target most likely does not "
                    f"know the store hash `{store}` (or neither token belongs to that store): check --store-hash")
        return f"both tokens were refused: GET {base}/segments answered 401 to each (wrong tokens, or the wrong base URL)"
    return problem or readonly_problem


def store_hash_of(base: str) -> str:
    """The store hash an API base names (`…/stores/{hash}/v3`), or ''."""
    if "/stores/" not in base:
        return ""
    return base.rsplit("/stores/", 1)[1].split("/", 1)[0]


def _probe(client: Any, token: str | None, base: str, which: str, seconds: float) -> tuple[str, int]:
    """The problem ('' for none) and the status the target answered (0 for none)."""
    headers = {"Accept": "application/json", "X-Auth-Token": token or ""}
    saved, client.timeout = client.timeout, seconds
    try:
        response = client._send("GET", "/segments?limit=1", headers, None, record=False)
    except requests.exceptions.SSLError as error:
        return f"TLS failure talking to {base}: {shortened(error)}", 0
    except requests.exceptions.ConnectionError as error:
        return f"the target is unreachable at {base}: {shortened(error)}", 0
    except requests.exceptions.Timeout:
        return f"the target did not answer GET {base}/segments within {seconds:g} s", 0
    except requests.RequestException as error:
        return f"GET {base}/segments failed: {shortened(error)}", 0
    finally:
        client.timeout = saved
    status = response.status_code
    store = store_hash_of(base)
    if status == 401:
        whose = f"the token of another store, or a store hash `{store}` the target does not know" if store else "a token of another store"
        return f"{which} was refused: GET {base}/segments answered 401 (a wrong token, {whose})", status
    if status == 403:
        return f"{which} may not list segments: GET {base}/segments answered 403 (it needs a Customers scope)", status
    if status == 404:
        return f"GET {base}/segments answered 404: the base URL or store hash serves no documented route", status
    if 300 <= status < 400:
        where = response.headers.get("Location", "")
        return (f"GET {base}/segments answered {status}, a redirect{f' to {shortened(where)}' if where else ''}: the suite "
                f"follows no redirect (it would send requests its guard did not check); give the base URL it points to"), status
    try:
        body = response.json()
    except (ValueError, RecursionError):
        body = None
    if status != 200 or not isinstance(body, dict) or not isinstance(body.get("data"), list):
        return f"GET {base}/segments answered {status} without a segment list: not a segmentation API at this base URL", status
    return "", status


def shortened(error: BaseException | str) -> str:
    """An error (or any text) in at most 200 characters, for one-line messages."""
    text = str(error)
    return text if len(text) <= 200 else text[:200] + "…"
