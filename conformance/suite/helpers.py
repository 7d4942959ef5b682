"""Small reads the suite's tests share."""

from __future__ import annotations


def all_segment_names(api) -> set[str]:
    """Every segment name in the store (a store holds at most 1000: at most 4 pages)."""
    names: set[str] = set()
    for page in range(1, 6):
        data = api.get(f"/segments?limit=250&page={page}").json()["data"]
        names |= {s["name"] for s in data}
        if len(data) < 250:
            break
    return names


def member_ids(api, segment_id: str) -> list[str]:
    response = api.get(f"/segments/{segment_id}/shopper-profiles?limit=250")
    assert response.status_code == 200, f"listing a segment's profiles: {response.status_code}"
    return [p["id"] for p in response.json()["data"]]


def segment_ids_of(api, profile_id: str) -> list[str]:
    response = api.get(f"/shopper-profiles/{profile_id}/segments?limit=250")
    assert response.status_code == 200, f"listing a profile's segments: {response.status_code}"
    return [s["id"] for s in response.json()["data"]]


def profile_by_id(api, profile_id: str, segment_id: str) -> dict:
    """A profile as listed in one of its segments."""
    data = api.get(f"/segments/{segment_id}/shopper-profiles?limit=250").json()["data"]
    return next(p for p in data if p["id"] == profile_id)
