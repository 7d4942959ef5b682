"""Small reads and judgements the suite's tests share."""

from __future__ import annotations

# Statuses that say something other than "this input is invalid": the request was not
# authorised, the route or method is not served, the representation cannot be produced
# or read, or the client is going too fast. A rule that needs bad input refused accepts
# none of them as the refusal.
NOT_A_REFUSAL_OF_INPUT = {401: "the token was refused", 403: "the token lacks a scope", 405: "the method is not served",
                          406: "Accept was refused", 415: "Content-Type was refused", 429: "rate limited"}


def refusal_problem(response, *, route_served: bool = False) -> str:
    """'' when ``response`` refuses the request's input as invalid (a 4xx that is about the
    input); otherwise what it says instead. A 404 counts only where the test has shown
    the route is served (``route_served``): before that, it may mean "no such route"."""
    status = response.status_code
    if not 400 <= status < 500:
        return f"expected a refusal (4xx), got {status}"
    if status in NOT_A_REFUSAL_OF_INPUT:
        return f"expected the input to be refused as invalid, got {status}: {NOT_A_REFUSAL_OF_INPUT[status]}"
    if status == 404 and not route_served:
        return "expected the input to be refused as invalid, got 404 (no such route?)"
    return ""


def expect_refusal(checks, response, what: str, choice: int | None = None, *, route_served: bool = True) -> None:
    """MUST: ``response`` refuses the input as invalid (see :func:`refusal_problem`);
    SHOULD: with BEHAVIOR's chosen status, where it chose one."""
    problem = refusal_problem(response, route_served=route_served)
    checks.must(not problem, f"{what}: {problem}")
    if choice is not None:
        checks.should(response.status_code == choice, f"{what}: BEHAVIOR's choice is {choice}; the target answered {response.status_code}")


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


def promotion_total(api) -> int:
    response = api.get("/promotions?limit=1")
    assert response.status_code == 200, f"listing promotions: {response.status_code}"
    return response.json()["meta"]["pagination"]["total"]
