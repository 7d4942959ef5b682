"""A client generated from the project's document with a real generator
(openapi-python-client) round-trips every served operation against the mock: the
names are the platform's, every request the client builds is accepted, and every answer
parses into the client's models. A document a generator cannot read, or an answer
that does not fit it, fails here."""

from __future__ import annotations


import pytest

from mock_server.storage import MemoryStorage
from segmentation_contract import iter_operations, load_spec, spec_path
from tests.support import STORE, TOKEN, generated_client, serve_mock

PACKAGE = "big_commerce_customer_segmentation_v3_client"


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    """The generated package, imported from a temporary directory."""
    with generated_client(spec_path(), tmp_path_factory.mktemp("client"), "out") as (status, output, load):
        assert status == 0, output
        # Every schema and operation made it into the client: the generator warns when it drops one.
        assert "Warning" not in output and "Unable to process" not in output, output[-3000:]
        yield load


def test_every_operation_of_the_document_has_its_function_named_after_the_platforms_operation_id(generated):
    for _, _, operation in iter_operations(load_spec()):
        tag = operation["tags"][0].lower().replace(" ", "_")
        snake = "".join(f"_{c.lower()}" if c.isupper() else c for c in operation["operationId"]).lstrip("_")
        module = generated(f"api.{tag}.{snake}")
        assert callable(module.sync_detailed), operation["operationId"]


def test_the_generated_client_round_trips_every_served_operation(generated):
    api = lambda module: generated(f"api.{module}")  # noqa: E731
    models = generated("models")
    with serve_mock(MemoryStorage()) as mock:
        client = generated("").AuthenticatedClient(base_url=f"{mock.url}/stores/{STORE}/v3", token=TOKEN, prefix="",
                                                   auth_header_name="X-Auth-Token", raise_on_unexpected_status=True)

        def call(module: str, status: int, model=None, *args, **kwargs):
            response = api(module).sync_detailed(*args, client=client, **kwargs)
            assert response.status_code == status, (module, response.status_code, response.content[:500])
            if model is not None:
                assert isinstance(response.parsed, model), (module, type(response.parsed), response.content[:500])
            return response.parsed

        # segments
        created = call("segments.segments_post_request", 201, models.SegmentBatch,
                       body=[models.SegmentCreate.from_dict({"name": "VIP"}), models.SegmentCreate.from_dict({"name": "New"})])
        vip, new = created.data
        listed = call("segments.get_paginated_segments_list", 200, models.SegmentCollection, idin=[str(vip.id)])
        assert [s.name for s in listed.data] == ["VIP"] and listed.meta.pagination.total == 1
        updated = call("segments.put_segment_objects", 201, models.SegmentBatch,
                       body=[models.SegmentUpdate.from_dict({"id": str(new.id), "description": "Joined this year"})])
        assert updated.data[0].description == "Joined this year"
        # customers, with the platform's filters
        customers = call("customers.create_customers", 200, models.CustomerBatch,
                         body=[models.CustomerCreate.from_dict({"email": "ann@example.com", "first_name": "Ann", "last_name": "Lee",
                                                                "company": "Acme"}),
                               models.CustomerCreate.from_dict({"email": "bob@example.com", "first_name": "Bob", "last_name": "Moss"})])
        ann, bob = customers.data
        found = call("customers.get_customers", 200, models.CustomerCollection, emailin=["ann@example.com"],
                     include=["shopper_profile_id"])
        assert [c.id for c in found.data] == [ann.id] and found.meta.pagination.links.current
        assert [c.id for c in call("customers.get_customers", 200, models.CustomerCollection, namelike=["moss"]).data] == [bob.id]
        changed = call("customers.update_customers", 200, models.CustomerBatch,
                       body=[models.CustomerUpdate.from_dict({"id": bob.id, "company": "Beta"})])
        assert changed.data[0].company == "Beta"
        # shopper profiles and memberships
        profiles = call("shopper_profiles.shopper_profiles_request", 201, models.ShopperProfileBatch,
                        body=[models.ShopperProfileCreate.from_dict({"customer_id": c.id}) for c in (ann, bob)])
        ann_profile, bob_profile = profiles.data
        call("shopper_profiles.get_shopper_list", 200, models.ShopperProfileCollection)
        added = call("segments.post_shopper_profile", 201, models.MembershipBatch, vip.id, body=[ann_profile.id, bob_profile.id])
        assert {p.id for p in added.data} == {ann_profile.id, bob_profile.id}
        members = call("segments.get_segment_profiles", 200, models.ShopperProfileCollection, vip.id)
        assert {p.customer_id for p in members.data} == {ann.id, bob.id}
        of_profile = call("shopper_profiles.get_list_shopper_profile", 200, models.SegmentCollection, ann_profile.id)
        assert [s.id for s in of_profile.data] == [vip.id]
        call("segments.delete_shopper_profile", 204, None, vip.id, idin=[str(bob_profile.id)])
        # promotions and their codes
        body = {"name": "VIP ten", "redemption_type": "COUPON", "rules": [{"action": {"cart_value": {"discount": {"percentage_amount": "10"}}}}],
                "customer": {"segments": {"id": [str(vip.id)]}}, "codes": {"code": "VIP10"}, "currency_code": "USD"}
        promotion = call("promotions.create_promotion", 201, models.PromotionResponse, body=models.PromotionCreate.from_dict(body)).data
        assert (promotion.currency_code, promotion.channels, promotion.coupon_type) == ("USD", [], models.PromotionPlatformFieldsCouponType.SINGLE)
        assert call("promotions.get_promotion", 200, models.PromotionResponse, promotion.id).data.name == "VIP ten"
        listed = call("promotions.get_promotions", 200, models.PromotionCollection, redemption_type="coupon", code="vip10")
        assert [p.id for p in listed.data] == [promotion.id]
        renamed = call("promotions.update_promotion", 200, models.PromotionResponse, promotion.id,
                       body=models.PromotionUpdate.from_dict({"name": "VIP eleven"}))
        assert renamed.data.name == "VIP eleven"
        code = call("promotions.create_promotion_code", 201, models.CouponCodeResponse, promotion.id,
                    body=models.CouponCodeCreate.from_dict({"code": "VIP11", "max_uses": 5})).data
        codes = call("promotions.get_promotion_codes", 200, models.CouponCodeCollection, promotion.id)
        assert [c.code for c in codes.data] == ["VIP10", "VIP11"]
        call("promotions.delete_coupon_code", 204, None, promotion.id, code.id)
        call("promotions.delete_coupon_codes", 204, None, promotion.id, idin=[str(codes.data[0].id)])
        assert call("promotions.get_promotion_codes", 200, models.CouponCodeCollection, promotion.id).data == []
        without_codes = {k: v for k, v in body.items() if k != "codes"} | {"name": "other"}
        other = call("promotions.create_promotion", 201, models.PromotionResponse, body=models.PromotionCreate.from_dict(without_codes)).data
        call("promotions.delete_promotion", 204, None, promotion.id)
        call("promotions.delete_promotions", 204, None, idin=[str(other.id)])
        # and the deletes of the segmentation side
        call("shopper_profiles.delete_store_shopper_profile", 204, None, idin=[str(ann_profile.id)])
        call("customers.delete_customers", 204, None, idin=[str(ann.id), str(bob.id)])
        call("segments.delete_store_segment", 204, None, idin=[str(vip.id), str(new.id)])
        assert call("segments.get_paginated_segments_list", 200, models.SegmentCollection).data == []
        # An error answer parses too: the platform's envelope, and under /promotions the
        # Promotions reference's shape around it.
        client.raise_on_unexpected_status = False
        error = api("promotions.get_promotion").sync_detailed(999, client=client)
        assert error.status_code == 404 and isinstance(error.parsed, models.PromotionErrorResponse)
        assert [entry.status for entry in error.parsed.errors] == [404]
        error = api("segments.get_segment_profiles").sync_detailed("00000000-0000-4000-8000-000000000000", client=client)
        assert error.status_code == 404 and isinstance(error.parsed, models.ErrorResponse) and error.parsed.status == 404
