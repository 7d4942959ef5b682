"""The mock against BigCommerce's own reference documents, not the project's: every
answer the mock gives to a request Schemathesis draws from a reference document fits
that document's response schema for the status (where it gives one).

The reference documents live in BigCommerce's ``bigcommerce/docs`` repository
(``reference/segments.v3.yml``, ``customers.v3.yml``, ``promotions.v3.yml``). The project
does not carry copies and CI has no internet, so this test runs when a checkout is named:

    BIGCOMMERCE_DOCS=/path/to/docs .venv/bin/python -m pytest tests/test_reference.py

Without one it is skipped, saying so. Only the operations the mock serves are drawn (the
reference's operationIds are the project's); a file that is missing is skipped.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import CHECKS, load_all_checks

from mock_server.storage import MemoryStorage
from segmentation_contract import iter_operations, load_spec
from tests.support import STORE, TOKEN, generated_client, serve_mock

DOCS = os.environ.get("BIGCOMMERCE_DOCS")
SERVED = sorted(operation["operationId"] for _, _, operation in iter_operations(load_spec()))
SKIP = "BIGCOMMERCE_DOCS is not set: point it at a checkout of github.com/bigcommerce/docs to run these"
pytestmark = pytest.mark.skipif(not DOCS, reason=SKIP)


class _Mock:
    """One mock for the module, started on first use, with a segment, a customer with
    a profile in it and one more customer, so that reads have something to answer."""

    url: str | None = None
    _context = None

    @classmethod
    def base(cls) -> str:
        if cls.url is None:
            cls._context = serve_mock(MemoryStorage())
            cls.url = cls._context.__enter__().url
            base, auth = f"{cls.url}/stores/{STORE}/v3", {"X-Auth-Token": TOKEN}
            customers = requests.post(f"{base}/customers", headers=auth, timeout=10, json=[
                {"email": f"ref{i}@example.com", "first_name": "Ref", "last_name": str(i)} for i in range(2)]).json()["data"]
            profile = requests.post(f"{base}/shopper-profiles", headers=auth, timeout=10,
                                    json=[{"customer_id": customers[0]["id"]}]).json()["data"][0]
            segment = requests.post(f"{base}/segments", headers=auth, timeout=10, json=[{"name": "Reference"}]).json()["data"][0]
            requests.post(f"{base}/segments/{segment['id']}/shopper-profiles", headers=auth, timeout=10, json=[profile["id"]])
        return f"{cls.url}/stores/{STORE}/v3"

    @classmethod
    def stop(cls) -> None:
        if cls._context is not None:
            cls._context.__exit__(None, None, None)
            cls.url = cls._context = None


@pytest.fixture(scope="module", autouse=True)
def _stop_the_mock():
    yield
    _Mock.stop()


def _reference(name: str):
    path = Path(DOCS or ".") / "reference" / name
    if not DOCS or not path.is_file():
        return None
    schema = schemathesis.openapi.from_path(str(path)).include(operation_id=SERVED)
    # The mock's own token goes on every request: generated tokens would only test auth.
    schema.config.generation.update(with_security_parameters=False)
    return schema


def _check(case) -> None:
    case.headers = {**(case.headers or {}), "X-Auth-Token": TOKEN}
    response = case.call(base_url=_Mock.base())
    load_all_checks()
    case.validate_response(response, checks=[CHECKS.get_one("response_schema_conformance")])


REFERENCE_SETTINGS = settings(max_examples=20, deadline=None, database=None, suppress_health_check=list(HealthCheck))

segments_reference = _reference("segments.v3.yml")
customers_reference = _reference("customers.v3.yml")
promotions_reference = _reference("promotions.v3.yml")

if segments_reference is not None:
    @segments_reference.parametrize()
    @REFERENCE_SETTINGS
    def test_segments_answers_fit_the_reference(case):
        _check(case)

if customers_reference is not None:
    @customers_reference.parametrize()
    @REFERENCE_SETTINGS
    def test_customers_answers_fit_the_reference(case):
        _check(case)

if promotions_reference is not None:
    @promotions_reference.parametrize()
    @REFERENCE_SETTINGS
    def test_promotions_answers_fit_the_reference(case):
        _check(case)


def test_a_reference_document_is_there():
    """With BIGCOMMERCE_DOCS set, at least the segments reference must be found."""
    assert segments_reference is not None, f"{DOCS}/reference/segments.v3.yml is not there"


@pytest.fixture(scope="module")
def reference_client(tmp_path_factory):
    """A client generated (openapi-python-client) from the segments reference itself."""
    path = Path(DOCS or ".") / "reference" / "segments.v3.yml"
    if not path.is_file():
        pytest.skip(f"{path} is not there")
    # The reference's application/xml body for POST /segments draws a generator warning: the
    # package is still made, which is what an integrator would use.
    with generated_client(path, tmp_path_factory.mktemp("reference-client"), "refclient") as (_, output, load):
        try:
            load("client")
        except ImportError:
            pytest.fail(f"openapi-python-client made no package from {path}:\n{output[-3000:]}")
        yield load


def test_a_client_generated_from_the_reference_round_trips_segments_profiles_and_memberships(reference_client):
    api = lambda name: reference_client(f"api.{name}")  # noqa: E731
    models = reference_client("models")
    base = _Mock.base()
    client = reference_client("").AuthenticatedClient(base_url=base, token=TOKEN, prefix="", auth_header_name="X-Auth-Token")
    customer = requests.post(f"{base}/customers", headers={"X-Auth-Token": TOKEN}, timeout=10,
                             json=[{"email": "generated@example.com", "first_name": "Gen", "last_name": "Erated"}]).json()["data"][0]

    created = api("segments.segments_post_request").sync_detailed(
        client=client, body=[models.SegmentPost(name="From the reference"), models.SegmentPost(name="Second", description="d")])
    assert created.status_code == 201 and isinstance(created.parsed, models.SegmentsResponse)
    first, second = (str(segment.id) for segment in created.parsed.data)

    listed = api("segments.get_paginated_segments_list").sync_detailed(client=client, idin=[first, second])
    assert listed.status_code == 200 and {str(s.id) for s in listed.parsed.data} == {first, second}
    assert listed.parsed.meta.pagination.total == 2

    renamed = api("segments.put_segment_objects").sync_detailed(
        client=client, body=[models.SegmentPut(id=created.parsed.data[0].id, name="Renamed")])
    assert renamed.status_code == 201 and renamed.parsed.data[0].name == "Renamed"

    profiles = api("shopper_profiles.shopper_profiles_request").sync_detailed(
        client=client, body=[models.ShopperProfilePost(customer_id=customer["id"])])
    assert profiles.status_code == 201 and profiles.parsed.data[0].customer_id == customer["id"]
    profile = profiles.parsed.data[0].id

    added = api("shopper_profiles_for_a_segment.post_shopper_profile").sync_detailed(
        created.parsed.data[0].id, client=client, body=[profile])
    assert added.status_code == 201 and [p.id for p in added.parsed.data] == [profile]
    members = api("shopper_profiles_for_a_segment.get_segment_profiles").sync_detailed(created.parsed.data[0].id, client=client)
    assert members.status_code == 200 and [p.id for p in members.parsed.data] == [profile]
    segments_of = api("segments_for_a_shopper_profile.get_list_shopper_profile").sync_detailed(profile, client=client)
    assert segments_of.status_code == 200 and [str(s.id) for s in segments_of.parsed.data] == [first]
    everyone = api("shopper_profiles.get_shopper_list").sync_detailed(client=client, limit=250)
    assert everyone.status_code == 200 and profile in [p.id for p in everyone.parsed.data]

    removed = api("shopper_profiles_for_a_segment.delete_shopper_profile").sync_detailed(
        created.parsed.data[0].id, client=client, idin=[str(profile)])
    assert removed.status_code == 204
    assert api("shopper_profiles_for_a_segment.get_segment_profiles").sync_detailed(
        created.parsed.data[0].id, client=client).parsed.data == []
    assert api("shopper_profiles.delete_store_shopper_profile").sync_detailed(client=client, idin=[str(profile)]).status_code == 204
    assert api("segments.delete_store_segment").sync_detailed(client=client, idin=[first, second]).status_code == 204
    gone = api("segments.get_paginated_segments_list").sync_detailed(client=client, idin=[first, second])
    assert gone.status_code == 200 and gone.parsed.data == []
