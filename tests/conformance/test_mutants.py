"""Deliberate defects injected into the mock (by monkeypatching its domain, storage,
handlers or compiled contract, never by flags in product code). The suite, run on the
rule that targets each defect, must fail, and its report must name that rule."""

from __future__ import annotations

import copy
import dataclasses
import json
import re
import types
import uuid
from dataclasses import dataclass
from typing import Callable

import pytest

import mock_server.domain.service as service_module
import mock_server.http.api as api_module
import mock_server.http.app as app_module
import mock_server.http.handlers as handlers_module
import mock_server.http.representations as representations
import mock_server.http.validation as validation_module
from mock_server.domain import BatchConflict, ResourceNotFound, Segmentation
from mock_server.domain.customers import CustomerQuery
from mock_server.domain.promotions import PromotionQuery
from mock_server.domain.model import Page
from mock_server.domain.promotion_service import Promotions
from mock_server.http.contract import Contract
from mock_server.http.handlers import HANDLERS
from mock_server.storage import MemoryStorage
from mock_server.storage.base import TokenInfo
from mock_server.storage.memory import MemoryStoreTx
from conformance.rules import RULES
from segmentation_contract import load_spec
from tests.conformance.test_suite_against_mock import outcomes, run_suite, serve_mock
from tests.support import STORE

UUID_SHAPE = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


DESTRUCTIVE_RULES = {rule.id for rule in RULES.values() if rule.destructive}


@dataclass
class Mutant:
    name: str
    rule: str  # the rule whose tests must catch it
    apply: Callable[[pytest.MonkeyPatch], None]


def wrap(mp, owner, name, make_replacement):
    original = getattr(owner, name)
    mp.setattr(owner, name, make_replacement(original))


def handler_status(operation_id, status, transform=lambda body: body):
    def apply(mp):
        original = HANDLERS[operation_id]

        def replacement(svc, call):
            _, body = original(svc, call)
            return status, transform(body)

        mp.setitem(HANDLERS, operation_id, replacement)

    return apply


def contract_edit(edit):
    def apply(mp):
        spec = copy.deepcopy(load_spec())
        edit(spec)
        contract = Contract(spec)
        mp.setattr(app_module, "shared_contract", lambda: contract)

    return apply


def segments_scope_read_only(spec):
    for item in spec["paths"].values():
        for method in ("post", "put", "delete"):
            if method in item:
                item[method]["x-required-scope"] = "read_only"


def members_list_read_only(spec):
    spec["paths"]["/segments/{segmentId}/shopper-profiles"]["get"]["x-required-scope"] = "read_only"


def allow_100_ids(spec):
    spec["paths"]["/segments/{segmentId}/shopper-profiles"]["post"]["requestBody"]["content"]["application/json"]["schema"]["maxItems"] = 100


def one_by_one_creates(original):
    """Each item of a batch committed on its own: a failure leaves the earlier ones."""

    def create(self, store, items):
        return [created for item in items for created in original(self, store, [item])]

    return create


def half_written_batch(original):
    def create(self, store, items):
        try:
            return original(self, store, items)
        except BatchConflict as conflict:
            keep = [item for i, item in enumerate(items) if str(i) not in conflict.errors]
            if keep:
                original(self, store, keep)
            raise

    return create


def deleting_segments_deletes_members(original):
    def delete(self, store, ids):
        for segment_id in ids or []:
            try:
                members = self.list_segment_profiles(store, segment_id, 1, 250).items
            except ResourceNotFound:
                continue
            self.delete_profiles(store, [p.id for p in members])
        return original(self, store, ids)

    return delete


def removing_deletes_profiles(original):
    def remove(self, store, segment_id, profile_ids):
        removed = original(self, store, segment_id, profile_ids)
        if removed:
            self.delete_profiles(store, removed)
        return removed

    return remove


def unscoped_remove_ignored(original):
    return lambda self, store, segment_id, profile_ids: original(self, store, segment_id, profile_ids or [])


def ignore_id_filter(original):
    return lambda self, store, ids, page, limit: original(self, store, None, page, limit)


def malformed_widens(original):
    def listing(self, store, ids, page, limit):
        if ids is not None and any(not UUID_SHAPE.fullmatch(i) for i in ids):
            ids = None
        return original(self, store, ids, page, limit)

    return listing


def empty_filter_selects_all(original):
    """The ORM pattern: an empty `id:in` filter is dropped, so it selects everything."""
    return lambda self, store, ids, page, limit: original(self, store, ids or None, page, limit)


def malformed_widens_delete(original):
    def delete(self, store, ids):
        if ids is not None and (not ids or any(not UUID_SHAPE.fullmatch(i) for i in ids)):
            ids = None
        return original(self, store, ids)

    return delete


def create_answers_an_existing_segment(original):
    """A create that answers with the store's oldest segment instead of the new one."""

    def create(self, store, items):
        created = original(self, store, items)
        oldest = self.list_segments(store, None, 1, 1).items
        return [oldest[0] if oldest and i == 0 else s for i, s in enumerate(created)]

    return create


def crash_past_end(original):
    def listing(self, store, ids, page, limit):
        result = original(self, store, ids, page, limit)
        if not result.items and result.total:
            raise IndexError("page out of range")
        return result

    return listing


def changes_created_at(original):
    def update(self, store, items):
        return [type(s)(s.id, s.name, s.description, s.updated_at + 3600, s.updated_at) for s in original(self, store, items)]

    return update


def keeps_memberships_on_profile_delete(original):
    """Profiles go, but the segments still point at them."""

    def delete(self, ids):
        doomed = list(self.d.profiles) if ids is None else [i for i in ids if i in self.d.profiles]
        for pid in doomed:
            profile = self.d.profiles.pop(pid)
            self.d.profile_by_customer.pop(profile.customer_id, None)
        return len(doomed)

    return delete


def any_token_is_modify(original):
    def token_info(self, token):
        return original(self, token) or TokenInfo(STORE, "modify")

    return token_info


class EveryStore(str):
    """A store hash that equals every other: the token opens any store."""

    def __eq__(self, other):
        return True

    def __ne__(self, other):
        return False

    __hash__ = str.__hash__


def token_opens_every_store(original):
    def token_info(self, token):
        info = original(self, token)
        return dataclasses.replace(info, store_hash=EveryStore(info.store_hash)) if info else info

    return token_info


def upper_ids(mp):
    fake = types.SimpleNamespace(uuid4=lambda: str(uuid.uuid4()).upper())
    mp.setattr(service_module, "uuid", fake)


def envelope_without(field):
    """Error envelopes that lack one of their fields."""

    def apply(mp):
        original = representations.error_envelope

        def envelope(status, title, errors, **kw):
            body = original(status, title, errors, **kw)
            body.pop(field)
            return body

        mp.setattr(representations, "error_envelope", envelope)  # every error body is built from it

    return apply


def offset_of_next_page(mp):
    mp.setattr(service_module, "offset_of", lambda page, limit: page * limit)


def crash_on_non_digit_integers(original):
    """Query integers read with int(), which raises on '1.5' or 'abc': a 500."""

    def read(parameter, raw):
        if parameter.type == "integer":
            return int(raw[0])
        return original(parameter, raw)

    return read


def crash_on_non_ascii_names(original):
    """An encoding bug: names outside ASCII crash the server."""

    def create(self, store, items):
        for item in items:
            item["name"].encode("ascii")
        return original(self, store, items)

    return create


def list_without_meta(mp):
    original = HANDLERS["GetShopperList"]

    def replacement(svc, call):
        status, body = original(svc, call)
        return status, {"data": json.loads(body)["data"]}

    mp.setitem(HANDLERS, "GetShopperList", replacement)


def unknown_route_answers_200(mp):
    original = api_module.ApiError.__init__

    def init(self, status, title, errors, headers=None):
        original(self, 200 if status == 404 and "path" in errors else status, title, errors, headers)

    mp.setattr(api_module.ApiError, "__init__", init)


def skip_segment_check(original):
    return staticmethod(lambda tx, promotion, check_segments: original(tx, promotion, False))


def skip_group_check(original):
    def check(tx, promotion, check_segments):
        customer = promotion["customer"]
        saved = customer["excluded_group_ids"]
        customer["excluded_group_ids"] = [] if customer["group_ids"] else saved
        try:
            original(tx, promotion, check_segments)
        finally:
            customer["excluded_group_ids"] = saved

    return staticmethod(check)


def ignore_include(original):
    return lambda self, store, ids, include, page, limit: original(self, store, ids, (), page, limit)


def no_email_check(mp):
    mp.setattr(MemoryStoreTx, "customer_ids_by_email", lambda self, emails: {})
    original = Segmentation.create_customers

    def create(self, store, items):  # a batch may repeat an email, too
        created = []
        for item in items:
            created += original(self, store, [{**item, "email": f"{uuid.uuid4().hex[:6]}-{item['email']}"}])
        return created

    mp.setattr(Segmentation, "create_customers", create)


def fake_code(svc, call):
    return 201, {"data": {"id": 1, "code": call.body["code"], "max_uses": call.body.get("max_uses", 0), "current_uses": 0}, "meta": {}}


def guest_profiles_accepted(mp):
    original = HANDLERS["ShopperProfilesRequest"]

    def replacement(svc, call):
        if any(isinstance(i, dict) and i.get("customer_id") == 0 for i in call.body or []):
            return 201, {"data": [{"id": str(uuid.uuid4()), "customer_id": 0, "created_at": "2024-01-01T00:00:00Z",
                                   "updated_at": "2024-01-01T00:00:00Z"}], "meta": {}}
        return original(svc, call)

    mp.setitem(HANDLERS, "ShopperProfilesRequest", replacement)
    contract_edit(lambda spec: spec["components"]["schemas"]["CustomerId"].update(minimum=0))(mp)


def no_grammar(mp):
    mp.setattr("mock_server.domain.promotion_service.expression_errors", lambda expression, where: {})
    contract_edit(lambda spec: spec["components"]["schemas"].update(SegmentsExpression={"nullable": True}))(mp)


def list_ignores_redemption_type(original):
    def listing(self, store, query, redemption_type=None, page=1, limit=50):
        if isinstance(query, PromotionQuery):
            query = dataclasses.replace(query, redemption_type=None)
        return original(self, store, query, None, page, limit)

    return listing


def redemption_type_may_change(original):
    def update(self, store, promotion_id, body):
        body = dict(body)
        body.pop("redemption_type", None)
        return original(self, store, promotion_id, body)

    return update


def unscoped_noop(original):
    return lambda self, store, ids: 0 if ids is None else original(self, store, ids)


def name_required_on_update(spec):
    spec["components"]["schemas"]["SegmentUpdate"]["required"] = ["id", "name"]


def default_limit_25(spec):
    spec["components"]["parameters"]["Limit"]["schema"]["default"] = 25


def xml_accepted(mp):
    mp.setattr(api_module, "accepts_json", lambda accept: True)


def profile_segments_empty(original):
    def listing(self, store, profile_id, page, limit):
        result = original(self, store, profile_id, page, limit)
        return Page([], 0, result.page, result.limit)

    return listing


def charset_on_accept_refused(original):
    return lambda accept: original(accept) and ";" not in (accept or "")


def coerced_customer_ids(mp):
    original = HANDLERS["ShopperProfilesRequest"]

    def replacement(svc, call):
        items = [{**item, "customer_id": int(float(item["customer_id"]))} for item in call.body]
        return original(svc, dataclasses.replace(call, body=items))

    mp.setitem(HANDLERS, "ShopperProfilesRequest", replacement)
    contract_edit(lambda spec: spec["components"]["schemas"].update(CustomerId={}))(mp)


def conflict_without_meta(mp):
    original = api_module.batch_conflict_envelope

    def envelope(title, errors, total):
        body = original(title, errors, total)
        body.pop("meta")
        return body

    mp.setattr(api_module, "batch_conflict_envelope", envelope)


def read_only_profile_delete(spec):
    spec["paths"]["/shopper-profiles"]["delete"]["x-required-scope"] = "read_only"


MUTANTS = [
    Mutant("list ignores id:in", "SEG-LIST", lambda mp: wrap(mp, Segmentation, "list_segments", ignore_id_filter)),
    Mutant("create answers 200", "SEG-CREATE", handler_status("SegmentsPostRequest", 200)),
    Mutant("update answers 204", "SEG-UPDATE", handler_status("PutSegmentObjects", 204, lambda body: None)),
    Mutant("update moves created_at", "SEG-UPDATE", lambda mp: wrap(mp, Segmentation, "update_segments", changes_created_at)),
    Mutant("delete answers 200", "SEG-DELETE", handler_status("DeleteStoreSegment", 200, lambda body: {"deleted": True})),
    Mutant("cap off by one", "SEG-CAP", lambda mp: mp.setattr(service_module, "MAX_SEGMENTS_PER_STORE", 1001)),
    Mutant("batch written item by item", "BATCH-ATOMIC", lambda mp: wrap(mp, Segmentation, "create_segments", one_by_one_creates)),
    Mutant("batch half written on conflict", "BATCH-ATOMIC", lambda mp: wrap(mp, Segmentation, "create_segments", half_written_batch)),
    Mutant("wrong conflict title", "SEG-NAME-UNIQUE", lambda mp: mp.setattr(service_module, "SEGMENT_NAME_CONFLICT", "Name taken.")),
    Mutant("upper-case IDs", "IDS", upper_ids),
    Mutant("timestamps with offset", "TIMESTAMPS",
           lambda mp: mp.setattr(representations, "timestamp", lambda s: "2024-01-01T00:00:00+00:00")),
    Mutant("second profile per customer", "PROFILE-ONE-PER-CUSTOMER",
           lambda mp: mp.setattr(MemoryStoreTx, "profile_ids_by_customer", lambda self, ids: {})),
    Mutant("add answers 200", "MEMBER-ADD", handler_status("PostShopperProfile", 200)),
    Mutant("add answers with meta", "MEMBER-ADD",
           handler_status("PostShopperProfile", 201, lambda body: {**body, "meta": {"total": 1}})),
    Mutant("add does not bump", "MEMBER-ADD-BUMPS", lambda mp: mp.setattr(MemoryStoreTx, "touch_profiles", lambda self, ids, t: None)),
    Mutant("re-adding a member is accepted", "MEMBER-CONFLICT",
           lambda mp: mp.setattr(MemoryStoreTx, "members_among", lambda self, sid, pids: set())),
    Mutant("100 IDs per add", "MEMBER-MAX-50", lambda mp: (contract_edit(allow_100_ids)(mp), mp.setattr(service_module, "MAX_PROFILES_PER_ADD", 100))),
    Mutant("segment delete takes its profiles", "REL-SEGMENT-DELETE",
           lambda mp: wrap(mp, Segmentation, "delete_segments", deleting_segments_deletes_members)),
    Mutant("remove deletes the profiles", "REL-REMOVE", lambda mp: wrap(mp, Segmentation, "remove_segment_profiles", removing_deletes_profiles)),
    Mutant("unscoped remove does nothing", "UNSCOPED-MEMBER-REMOVE", lambda mp: wrap(mp, Segmentation, "remove_segment_profiles", unscoped_remove_ignored)),
    Mutant("profile delete leaves memberships", "REL-PROFILE-DELETE",
           lambda mp: wrap(mp, MemoryStoreTx, "delete_profiles", keeps_memberships_on_profile_delete)),
    Mutant("pages skip the first", "PAGE-STABLE", offset_of_next_page),
    Mutant("500 past the last page", "PAGE-PAST-END", lambda mp: wrap(mp, Segmentation, "list_segments", crash_past_end)),
    Mutant("empty id:in selects all", "IDIN-EMPTY", lambda mp: wrap(mp, Segmentation, "list_segments", empty_filter_selects_all)),
    Mutant("malformed id:in widens a delete", "IDIN-MALFORMED-DELETE",
           lambda mp: wrap(mp, Segmentation, "delete_segments", malformed_widens_delete)),
    Mutant("malformed id:in selects all", "IDIN-MALFORMED", lambda mp: wrap(mp, Segmentation, "list_segments", malformed_widens)),
    Mutant("unknown tokens accepted", "AUTH", lambda mp: wrap(mp, MemoryStorage, "token_info", any_token_is_modify)),
    Mutant("a token opens every store", "AUTH-OTHER-STORE", lambda mp: wrap(mp, MemoryStorage, "token_info", token_opens_every_store)),
    Mutant("read-only token writes", "SCOPES", contract_edit(segments_scope_read_only)),
    Mutant("read-only token lists members", "SCOPES", contract_edit(members_list_read_only)),
    Mutant("error envelope without title", "ERROR-ENVELOPE", envelope_without("title")),
    Mutant("500 on non-ASCII names", "SCHEMA", lambda mp: wrap(mp, Segmentation, "create_segments", crash_on_non_ascii_names)),
    Mutant("profile list without pagination", "SCHEMA", list_without_meta),
    Mutant("unknown route answers 200", "ROUTES", unknown_route_answers_200),
    Mutant("customer list ignores id:in", "CUSTOMER-FIELDS",
           lambda mp: wrap(mp, Segmentation, "list_customers", lambda original: lambda self, store, ids, include, page, limit: original(self, store, None, include, page, limit))),
    Mutant("comma list reads the first ID only", "IDIN-FORMS",
           lambda mp: wrap(mp, Segmentation, "list_segments", lambda original: lambda self, store, ids, page, limit: original(self, store, ids[:1] if ids else ids, page, limit))),
    Mutant("promotion with unknown segments accepted", "PROMO-UNKNOWN-SEGMENT",
           lambda mp: mp.setattr(Promotions, "_check", skip_segment_check(Promotions._check))),
    Mutant("both group lists accepted", "PROMO-GROUPS",
           lambda mp: mp.setattr(Promotions, "_check", skip_group_check(Promotions._check))),
    Mutant("no rate-limit headers", "RATE-LIMIT-HEADERS",
           lambda mp: mp.setattr("mock_server.http.ratelimit.RateState.headers", lambda self: [])),
    Mutant("bad page or limit crashes", "PAGE-LIMIT", lambda mp: wrap(mp, validation_module, "_read_parameter", crash_on_non_digit_integers)),
    Mutant("limit up to 1000 served", "PAGE-LIMIT",
           contract_edit(lambda spec: spec["components"]["parameters"]["Limit"]["schema"].update(maximum=1000))),
    Mutant("capped at 10 profiles per add", "MEMBER-MAX-50",
           lambda mp: contract_edit(lambda spec: spec["paths"]["/segments/{segmentId}/shopper-profiles"]["post"]["requestBody"]["content"]["application/json"]["schema"].update(maxItems=10))(mp)),
    Mutant("email:in ignored", "CUSTOMER-FILTERS",
           lambda mp: mp.setattr(CustomerQuery, "from_parameters", staticmethod(
               lambda query, ids, original=CustomerQuery.from_parameters: dataclasses.replace(original(query, ids), emails=None)))),
    Mutant("customer update changes nothing", "CUSTOMER-UPDATE",
           lambda mp: wrap(mp, Segmentation, "update_customers",
                           lambda original: lambda self, store, items: original(self, store, [{"id": i["id"]} for i in items]))),
    Mutant("include ignored", "CUSTOMER-INCLUDE", lambda mp: wrap(mp, Segmentation, "list_customers", ignore_include)),
    Mutant("duplicate emails accepted", "CUSTOMER-EMAIL-UNIQUE", no_email_check),
    Mutant("customer delete does nothing", "CUSTOMER-DELETE", lambda mp: mp.setitem(HANDLERS, "deleteCustomers", lambda svc, call: (204, None))),
    Mutant("profile create answers 200", "PROFILE-CREATE", handler_status("ShopperProfilesRequest", 200)),
    Mutant("guests get profiles", "PROFILE-NO-GUESTS", guest_profiles_accepted),
    Mutant("a profile lists no segments", "MEMBER-LISTS", lambda mp: wrap(mp, Segmentation, "list_profile_segments", profile_segments_empty)),
    Mutant("default limit 25", "PAGE-DEFAULTS", contract_edit(default_limit_25)),
    Mutant("an update needs a name", "SEG-UPDATE-NOOP", contract_edit(name_required_on_update)),
    Mutant("unscoped segment delete does nothing", "UNSCOPED-DELETE", lambda mp: wrap(mp, Segmentation, "delete_segments", unscoped_noop)),
    Mutant("unscoped profile delete does nothing", "UNSCOPED-PROFILE-DELETE", lambda mp: wrap(mp, Segmentation, "delete_profiles", unscoped_noop)),
    Mutant("error envelope without errors", "ERROR-ENVELOPE", envelope_without("errors")),
    Mutant("Accept: application/xml answered 200", "ERROR-STATUS", xml_accepted),
    Mutant("promotions created DISABLED", "PROMO-CREATE",
           handler_status("createPromotion", 201, lambda body: {**body, "data": {**body["data"], "status": "DISABLED"}})),
    Mutant("expression grammar not enforced", "PROMO-GRAMMAR", no_grammar),
    Mutant("promotions without channels", "PROMO-CREATE",
           handler_status("createPromotion", 201, lambda body: {**body, "data": {k: v for k, v in body["data"].items() if k != "channels"}})),
    Mutant("lowercase redemption_type refused", "PROMO-LIST",
           contract_edit(lambda spec: spec["components"]["parameters"]["RedemptionTypeFilter"]["schema"].update(pattern="^(AUTOMATIC|COUPON)$"))),
    Mutant("redemption_type filter ignored", "PROMO-LIST", lambda mp: wrap(mp, Promotions, "list", list_ignores_redemption_type)),
    Mutant("redemption_type change ignored", "PROMO-UPDATE", lambda mp: wrap(mp, Promotions, "update", redemption_type_may_change)),
    Mutant("delete by id:in does nothing", "PROMO-DELETE-MANY", lambda mp: mp.setitem(HANDLERS, "deletePromotions", lambda svc, call: (204, None))),
    Mutant("any code accepted anywhere", "PROMO-CODES", lambda mp: mp.setitem(HANDLERS, "createPromotionCode", fake_code)),
    Mutant("Accept with a charset refused", "CONTENT-NEGOTIATION", lambda mp: wrap(mp, api_module, "accepts_json", charset_on_accept_refused)),
    Mutant("a PUT takes another segment's name", "SEG-RENAME-UNIQUE",
           lambda mp: mp.setattr(Segmentation, "_check_final_names", staticmethod(lambda tx, updated: None))),
    Mutant("the same ID twice accepted", "DUPLICATE-IDS",
           lambda mp: (mp.setattr(service_module, "_reject_repeats", lambda values, field: None),
                       contract_edit(lambda spec: spec["paths"]["/segments/{segmentId}/shopper-profiles"]["post"]["requestBody"]
                                     ["content"]["application/json"]["schema"].pop("uniqueItems"))(mp))),
    Mutant("customer_id coerced", "NO-COERCION", coerced_customer_ids),
    Mutant("one-character names refused", "SEG-NAMES",
           contract_edit(lambda spec: spec["components"]["schemas"]["SegmentName"].update(minLength=2))),
    Mutant("descriptions dropped", "SEG-NAMES",
           lambda mp: wrap(mp, Segmentation, "create_segments",
                           lambda original: lambda self, store, items: original(self, store, [{**i, "description": ""} for i in items]))),
    Mutant("end before start accepted", "PROMO-DATES", lambda mp: mp.setattr("mock_server.domain.promotion_service._instant", lambda value, field: None)),
    Mutant("409 batch envelope without meta", "SEG-NAME-UNIQUE", conflict_without_meta),
    Mutant("read-only token deletes profiles", "SCOPES", contract_edit(read_only_profile_delete)),
    Mutant("code delete by id:in does nothing", "PROMO-CODES", lambda mp: mp.setitem(HANDLERS, "deleteCouponCodes", lambda svc, call: (204, None))),
]


@pytest.mark.parametrize("mutant", MUTANTS, ids=[m.name for m in MUTANTS])
def test_suite_catches_the_mutant_by_its_rule(mutant, monkeypatch, tmp_path):
    mutant.apply(monkeypatch)
    with serve_mock(MemoryStorage()) as mock:
        extra = ["--allow-destructive"] if mutant.rule in DESTRUCTIVE_RULES else []
        code, report, output = run_suite(mock, tmp_path / "report", "-k", mutant.rule.replace("-", "_"), *extra,
                                         schema=mutant.rule == "SCHEMA")
    assert code == 1, f"{mutant.name}: the suite did not fail\n{output[-2500:]}"
    assert outcomes(report)[mutant.rule] == "failed", f"{mutant.name}: {mutant.rule} did not fail\n{output[-2500:]}"
    assert mutant.rule in report["doc_failures"] + report["choice_failures"]
    if mutant.rule == "SCHEMA":  # Schemathesis' reproduce lines name the target, not a placeholder
        assert "placeholder.invalid" not in output and f"{mock.url}/stores/" in output, output[-2500:]


def test_a_create_answered_with_an_existing_item_fails_create_fresh_id(monkeypatch, tmp_path):
    """Checked by the ledger on every create, whatever rules run; the item is never touched."""
    wrap(monkeypatch, Segmentation, "create_segments", create_answers_an_existing_segment)
    with serve_mock(MemoryStorage()) as mock:
        direct = mock.client()
        [foreign] = direct.post("/segments", json=[{"name": "keep"}]).json()["data"]
        code, report, output = run_suite(mock, tmp_path / "report", "-k", "SEG_CREATE", schema=False)
        after = direct.get("/segments").json()["data"]
    assert code == 1, output[-2500:]
    assert outcomes(report)["CREATE-FRESH-ID"] == "failed", output[-2500:]
    assert foreign in after, "the suite touched the existing segment it was answered with"


def test_every_rule_has_a_mutant_it_catches_by_name():
    """Every rule that can fail has an injected defect; CREATE-FRESH-ID's is the test above,
    and MEMBER-REMOVE-BUMPS is SHOULD-only (its warning is checked with the CHOICE variant)."""
    untested = set(RULES) - {m.rule for m in MUTANTS} - {"CREATE-FRESH-ID", "MEMBER-REMOVE-BUMPS"}
    assert not untested, sorted(untested)


# A mock that made other reasonable CHOICE decisions: the suite must not cry wolf.


def newest_first(original):
    def page(self, *args):
        *head, offset, limit = args
        total, everything = original(self, *head, 0, 10**9)
        everything.reverse()
        return total, everything[offset : offset + limit]

    return page


def clamp_limit(original):
    def read(parameter, raw):
        try:
            return original(parameter, raw)
        except validation_module.LimitExceeded:
            if parameter.name != "limit":
                raise
            return parameter.maximum

    return read


def validation_as_422(mp):
    original_init = api_module.ApiError.__init__

    def init(self, status, *args, **kwargs):
        original_init(self, 422 if status == 400 else status, *args, **kwargs)

    mp.setattr(api_module.ApiError, "__init__", init)
    original_status = api_module._domain_status
    mp.setattr(api_module, "_domain_status", lambda error: 422 if original_status(error) in (400, 409) else original_status(error))


def reversed_batch_answers(original):
    return lambda self, store, items: list(reversed(original(self, store, items)))


UUID_TEXT = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


def bad_request(title):
    return 400, representations.error_envelope(400, title, {"request": title})


def refusing(operation_id, refuse):
    """The handler answers 400 (not through the mock's status mapping) where ``refuse(call)`` says why."""

    def apply(mp):
        original = HANDLERS[operation_id]

        def replacement(svc, call):
            why = refuse(call)
            return bad_request(why) if why else original(svc, call)

        mp.setitem(HANDLERS, operation_id, replacement)

    return apply


def other_text_rules(spec):
    """Longer customer names, a stricter email, coupon codes of letters, digits, `_`, `-` and
    spaces; shorter segment names and descriptions."""
    schemas = spec["components"]["schemas"]
    schemas["CustomerName"]["maxLength"] = 1000
    schemas["SegmentName"]["maxLength"] = 100
    schemas["SegmentDescription"]["maxLength"] = 500
    schemas["Email"]["pattern"] = r"^[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$"
    for schema in schemas.values():
        code = schema.get("properties", {}).get("code")
        if isinstance(code, dict) and code.get("maxLength") == 50:
            code["pattern"] = "^[A-Za-z0-9_ -]+$"


def choice_variant(mp):
    """Another implementation that follows every DOC rule of BEHAVIOR and differs from the
    mock in every CHOICE listed here (the section of BEHAVIOR in brackets)."""
    handler_status("PutSegmentObjects", 200)(mp)  # 5.3: PUT answers 200
    handler_status("updatePromotion", 201)(mp)  # 9.2: PUT answers 201
    handler_status("PostShopperProfile", 201, lambda body: {**body, "meta": {}})(mp)  # 2: meta {} on add
    validation_as_422(mp)  # 5: validation errors and conflicts are 422
    wrap(mp, validation_module, "_read_parameter", clamp_limit)  # 3: limit above 250 clamped
    wrap(mp, MemoryStoreTx, "segments_page", newest_first)  # 3: newest first
    wrap(mp, MemoryStoreTx, "profiles_page", newest_first)
    wrap(mp, Segmentation, "create_segments", reversed_batch_answers)  # 2: batch answers in another order
    mp.setattr(Segmentation, "remove_segment_profiles", remove_without_touching)  # 2: removal does not bump
    mp.setattr(Page, "total_pages", property(lambda self: max(1, -(-self.total // self.limit))))  # 3: total_pages 1 when empty
    mp.setattr(handlers_module, "segment_json", lambda segment: {**representations.segment_json(segment),
                                                                  "description": segment.description or None})  # 5.1: null description
    contract_edit(other_text_rules)(mp)  # 7, 9.2: name lengths, email and code charsets
    refusing("GetPaginatedSegmentsList", lambda call: "malformed id:in" if any(  # 3: malformed id:in is 400
        not UUID_TEXT.fullmatch(e.strip()) for e in call.query.get("id:in") or [] if e.strip()) else "")(mp)
    refusing("deletePromotions", lambda call: "id:in is required" if call.query.get("id:in") is None else "")(mp)  # 9.2: 400, not 422
    refusing("createPromotion", lambda call: "one group list at most" if isinstance(call.body, dict) and all(  # 9.2: 400, not 422
        (call.body.get("customer") or {}).get(k) for k in ("group_ids", "excluded_group_ids")) else "")(mp)


def remove_without_touching(self, store, segment_id, profile_ids):
    """Removal that leaves the profiles' updated_at alone (only adding moves it)."""
    with self.storage.transaction(store, write=True) as tx:
        self._require_segment(tx, segment_id)
        return tx.remove_members(segment_id, profile_ids)


def test_suite_passes_a_mock_with_other_reasonable_choices(monkeypatch, tmp_path):
    choice_variant(monkeypatch)
    with serve_mock(MemoryStorage()) as mock:
        api = mock.client()
        api.validate = False  # the variant departs from the mock's own choices in the document
        # The variant really differs: a few of its choices, seen directly.
        assert api.put("/segments", json=[{"id": "00000000-0000-4000-8000-000000000000"}]).status_code == 422
        assert api.get("/segments?limit=1000").status_code == 200
        assert api.post("/segments", json=[]).status_code == 422
        assert api.get("/segments?id:in=not-a-uuid").status_code == 400
        assert api.get("/segments").json()["meta"]["pagination"]["total_pages"] == 1
        assert api.post("/segments", json=[{"name": "n"}]).json()["data"][0]["description"] is None
        long_name = {"email": "long@example.com", "first_name": "L", "last_name": "x" * 256}
        assert api.post("/customers", json=[long_name]).status_code == 200
        assert api.post("/customers", json=[{"email": "a@b", "first_name": "A", "last_name": "B"}]).status_code == 422
        assert api.delete("/promotions").status_code == 400
        code, report, output = run_suite(mock, tmp_path / "report")
    assert code == 0, output[-3000:]
    assert report["conformant"] and report["doc_failures"] == [] and report["choice_failures"] == [], output[-3000:]
    got = outcomes(report)
    assert got["MEMBER-REMOVE-BUMPS"] == "warning"
    assert got["SEG-NAMES"] == "warning"  # 100-character names, 500-character descriptions, null when absent
    # Where the variant departs from the mock's own document, SCHEMA notes it (SHOULD), never fails.
    assert got["SCHEMA"] == "warning", output[-3000:]
    notes = [w for rule in report["rules"] if rule["id"] == "SCHEMA" for t in rule["tests"] for w in t["warnings"]]
    assert any("differs from the mock's document" in note for note in notes), notes
