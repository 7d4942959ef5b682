"""The mock against BigCommerce's own reference documents, not the project's: every
answer the mock gives to a request Schemathesis draws from a reference document fits
that document's response schema for the status (where it gives one).

The reference documents live in BigCommerce's ``bigcommerce/docs`` repository
(``reference/segments.v3.yml``, ``customers.v3.yml``, ``promotions.v3.yml``). The project
does not carry copies and CI has no internet, so this test runs when a checkout is named:

    BIGCOMMERCE_DOCS=/path/to/docs .venv/bin/python -m pytest tests/test_reference.py

(``REFERENCE_MAX_EXAMPLES=200`` draws more requests per operation than the default 20.)

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
    a profile in it, one more customer, an automatic promotion (no segment condition, no
    end) and a coupon one with a code, so that reads have something to answer."""

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
            rules = [{"action": {"cart_value": {"discount": {"percentage_amount": "10"}}}}]
            requests.post(f"{base}/promotions", headers=auth, timeout=10,
                          json={"name": "Reference automatic", "redemption_type": "AUTOMATIC", "rules": rules})
            coupon = requests.post(f"{base}/promotions", headers=auth, timeout=10, json={
                "name": "Reference coupon", "redemption_type": "COUPON", "rules": rules, "codes": {"code": "REF1"},
                "customer": {"segments": {"id": [segment["id"]]}}, "end_date": "2099-01-01T00:00:00Z"}).json()["data"]
            assert coupon["id"] == 2, coupon
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


# REFERENCE_MAX_EXAMPLES draws more per operation for a deeper (slower) run.
REFERENCE_SETTINGS = settings(max_examples=int(os.environ.get("REFERENCE_MAX_EXAMPLES", "20")), deadline=None,
                              database=None, suppress_health_check=list(HealthCheck))

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


def _client_from(name: str, directory: Path):
    """A client generated (openapi-python-client) from one reference document itself; the
    context yields a function that finds an operation's module whatever tag it is filed under."""
    path = Path(DOCS or ".") / "reference" / name
    if not path.is_file():
        pytest.skip(f"{path} is not there")
    package = "ref_" + name.split(".")[0]
    # A generator warning (the segments reference's application/xml body, say) still leaves
    # a package, which is what an integrator would use.
    with generated_client(path, directory, package) as (_, output, load):
        try:
            load("client")
        except ImportError:
            pytest.fail(f"openapi-python-client made no package from {path}:\n{output[-3000:]}")

        def find(operation: str):
            if operation in ("", "models") or "." in operation:
                return load(operation)
            for module in sorted(Path(load("api").__file__).parent.glob(f"*/{operation}.py")):
                return load(f"api.{module.parent.name}.{operation}")
            raise AssertionError(f"the client generated from {name} has no operation {operation}")

        yield find


@pytest.fixture(scope="module")
def reference_client(tmp_path_factory):
    yield from _client_from("segments.v3.yml", tmp_path_factory.mktemp("reference-segments"))


@pytest.fixture(scope="module")
def customers_client(tmp_path_factory):
    yield from _client_from("customers.v3.yml", tmp_path_factory.mktemp("reference-customers"))


@pytest.fixture(scope="module")
def promotions_client(tmp_path_factory):
    yield from _client_from("promotions.v3.yml", tmp_path_factory.mktemp("reference-promotions"))


def _authenticated(find):
    return find("").AuthenticatedClient(base_url=_Mock.base(), token=TOKEN, prefix="", auth_header_name="X-Auth-Token")


def test_a_client_generated_from_the_reference_round_trips_segments_profiles_and_memberships(reference_client):
    api = lambda name: reference_client(name.rpartition(".")[2])  # noqa: E731
    models = reference_client("models")
    base = _Mock.base()
    client = _authenticated(reference_client)
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


def test_a_client_generated_from_the_customers_reference_round_trips_customers_and_their_filters(customers_client):
    api, models, client = customers_client, customers_client("models"), _authenticated(customers_client)
    people = [{"email": "ada@example.com", "first_name": "Ada", "last_name": "Lovelace", "company": "Engines", "phone": "555-0101",
               "notes": "first", "customer_group_id": 2},
              {"email": "alan@example.com", "first_name": "Alan", "last_name": "Turing", "company": "Bletchley",
               "channel_ids": [1]}]
    created = api("create_customers").sync_detailed(client=client, body=[models.CustomerPost.from_dict(p) for p in people])
    assert created.status_code == 200, created.content
    ada, alan = created.parsed.data
    assert (ada.email, ada.company, ada.phone, ada.notes, ada.customer_group_id) == ("ada@example.com", "Engines", "555-0101",
                                                                                     "first", 2)
    assert alan.channel_ids == [1] and isinstance(ada.id, int)
    ids = [ada.id, alan.id]

    def listed(**filters):
        response = api("get_customers").sync_detailed(client=client, idin=ids, **filters)
        assert response.status_code == 200, (filters, response.content)
        return [customer.id for customer in response.parsed.data]

    assert listed() == ids
    assert listed(emailin=["ALAN@example.com"]) == [alan.id]
    assert listed(namein=["Ada Lovelace"]) == [ada.id]
    assert listed(namelike=["turi"]) == [alan.id]
    assert listed(companyin=["Engines"]) == [ada.id]
    assert listed(customer_group_idin=["2"]) == [ada.id]
    assert listed(phonein="555-0101") == [ada.id]
    assert listed(sort=models.GetCustomersSort("last_name:desc")) == [alan.id, ada.id]
    assert listed(date_createdmin=ada.date_created) == ids and listed(date_modifiedmax=alan.date_modified) == ids
    page = api("get_customers").sync_detailed(client=client, idin=ids, limit=1, page=2)
    assert [c.id for c in page.parsed.data] == [alan.id] and page.parsed.meta.pagination.total == 2
    assert isinstance(page.parsed.meta.pagination.links.current, str)
    with_profile = api("get_customers").sync_detailed(
        client=client, idin=[ada.id], include=[models.GetCustomersIncludeItem("shopper_profile_id"),
                                               models.GetCustomersIncludeItem("segment_ids")])
    assert with_profile.status_code == 200
    assert set(with_profile.parsed.data[0].additional_properties) == {"shopper_profile_id", "segment_ids"}

    updated = api("update_customers").sync_detailed(
        client=client, body=[models.CustomerPut.from_dict({"id": ada.id, "company": "Analytical", "channel_ids": [1, 2]})])
    assert updated.status_code == 200 and (updated.parsed.data[0].company, updated.parsed.data[0].channel_ids) == ("Analytical", [1, 2])
    assert api("delete_customers").sync_detailed(client=client, idin=ids).status_code == 204
    assert listed() == []


def test_a_client_generated_from_the_promotions_reference_round_trips_promotions_and_codes(promotions_client):
    api, models, client = promotions_client, promotions_client("models"), _authenticated(promotions_client)
    base = _Mock.base()
    segment = requests.post(f"{base}/segments", headers={"X-Auth-Token": TOKEN}, timeout=10,
                            json=[{"name": "Promoted"}]).json()["data"][0]
    rules = [{"action": {"cart_value": {"discount": {"percentage_amount": "10"}}}}]
    automatic = api("create_promotion").sync_detailed(client=client, body=models.DraftAutomaticPromotion.from_dict(
        {"name": "Auto", "redemption_type": "AUTOMATIC", "rules": rules, "customer": {"segments": {"id": [segment["id"]]}}}))
    assert automatic.status_code == 201, automatic.content
    auto = automatic.parsed.data
    assert (auto.name, auto.redemption_type.value, auto.channels, auto.stop, auto.currency_code) == ("Auto", "AUTOMATIC", [], False, "*")
    assert isinstance(auto.start_date, str) and auto.customer.segments.id == [segment["id"]]
    coupon = api("create_promotion").sync_detailed(client=client, body=models.DraftCouponPromotion.from_dict(
        {"name": "Coupon", "redemption_type": "COUPON", "rules": rules, "channels": [{"id": 1}], "currency_code": "USD"}))
    assert coupon.status_code == 201, coupon.content
    promo = coupon.parsed.data
    assert promo.redemption_type.value == "COUPON" and promo.coupon_type.value == "SINGLE"

    def ids(**filters):  # of the two made here (the module's mock holds two more)
        response = api("get_promotions").sync_detailed(client=client, **filters)
        assert response.status_code == 200, (filters, response.content)
        return [p.id for p in response.parsed.data if p.id in (auto.id, promo.id)]

    assert ids() == [auto.id, promo.id]
    assert ids(redemption_type=models.GetPromotionsRedemptionType("coupon")) == [promo.id]
    assert ids(name="Auto") == [auto.id] and ids(id=promo.id) == [promo.id] and ids(currency_code="USD") == [promo.id]
    assert ids(channels=[2]) == [auto.id]  # the automatic one targets every channel
    assert ids(sort=models.GetPromotionsSort("name"), direction=models.GetPromotionsDirection("desc")) == [promo.id, auto.id]

    got = api("get_promotion").sync_detailed(str(promo.id), client=client)
    assert got.status_code == 200 and got.parsed.data.name == "Coupon"
    renamed = api("update_promotion").sync_detailed(str(promo.id), client=client, body=models.PatchCouponPromotion.from_dict(
        {"name": "Coupon 2", "status": "DISABLED"}))
    assert renamed.status_code == 200 and (renamed.parsed.data.name, renamed.parsed.data.status.value) == ("Coupon 2", "DISABLED")

    made = [api("create_promotion_code").sync_detailed(str(promo.id), client=client, body=models.CreatePromotionCodeBody.from_dict(
        {"code": code, "max_uses": 5})) for code in ("SPRING", "SUMMER", "AUTUMN")]
    assert [m.status_code for m in made] == [201] * 3 and made[0].parsed.data.code == "SPRING"
    codes = api("get_promotion_codes").sync_detailed(str(promo.id), client=client)
    assert codes.status_code == 200 and [c.code for c in codes.parsed.data] == ["SPRING", "SUMMER", "AUTUMN"]
    assert [c.code for c in api("get_promotion_codes").sync_detailed(str(promo.id), client=client, code="summer").parsed.data] == ["SUMMER"]
    assert ids(code="autumn") == [promo.id]
    assert api("delete_coupon_code").sync_detailed(str(promo.id), str(made[0].parsed.data.id), client=client).status_code == 204
    assert api("delete_coupon_codes").sync_detailed(str(promo.id), client=client, idin=[made[1].parsed.data.id]).status_code == 204
    assert [c.code for c in api("get_promotion_codes").sync_detailed(str(promo.id), client=client).parsed.data] == ["AUTUMN"]

    missing = api("get_promotion").sync_detailed("999999", client=client)
    assert missing.status_code == 404 and [e.status for e in missing.parsed.errors] == [404]
    assert api("delete_promotion").sync_detailed(str(auto.id), client=client).status_code == 204
    assert api("delete_promotions").sync_detailed(client=client, idin=[promo.id]).status_code == 204
    assert ids() == []
