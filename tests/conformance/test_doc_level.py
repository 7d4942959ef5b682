"""The two levels the suite judges by: the document at BEHAVIOR's DOC level, and the
mock's own choices, against which a difference is only a SHOULD note."""

from __future__ import annotations

import types

from conformance.fuzz import ChoiceJudge
from segmentation_contract import doc_level, iter_operations, load_spec, resolve_ref


def test_doc_level_drops_the_mocks_choices_and_nothing_else():
    spec = load_spec()
    doc = doc_level(spec)
    schemas = doc["components"]["schemas"]
    assert "maxLength" not in schemas["CustomerName"] and "pattern" not in schemas["Email"]
    assert schemas["SegmentDescription"]["nullable"] is True and "maxLength" not in schemas["SegmentDescription"]
    assert "minimum" not in doc["components"]["parameters"]["Page"]["schema"]
    assert "x-choice" not in str(doc)
    # DOC limits stay: at most 50 characters in a code, 2^31-1 for integers, required fields.
    assert schemas["PromotionId"]["maximum"] == 2147483647
    assert schemas["Customer"]["required"] == spec["components"]["schemas"]["Customer"]["required"]
    for path, _, operation in iter_operations(doc):
        assert "4XX" in operation["responses"]
        if path.startswith("/promotions"):
            errors = resolve_ref(doc, operation["responses"]["4XX"])["content"]["application/json"]["schema"]
            assert len(errors["anyOf"]) == 2  # the v3 envelope or the Promotions reference's shape
    assert "nullable" not in load_spec()["components"]["schemas"]["SegmentDescription"]  # the mock's own stays strict


def case(path, method, body=None, query=None):
    return types.SimpleNamespace(operation=types.SimpleNamespace(path=path), method=method, body=body,
                                 query=query or {}, path_parameters={})


def test_the_choice_judge_knows_what_the_mocks_document_refuses():
    judge = ChoiceJudge("http://127.0.0.1:9/stores/s/v3")
    customer = {"email": "a@b", "first_name": "A", "last_name": "B"}
    assert judge.request_problem(case("/customers", "POST", [customer])) is None
    assert "the body" in judge.request_problem(case("/customers", "POST", [{**customer, "last_name": "x" * 256}]))
    assert "None is not of type" in judge.request_problem(case("/segments", "POST", [{"name": "n", "description": None}]))
    assert judge.request_problem(case("/segments", "GET", query={"limit": "50", "id:in": "a,b"})) is None
    assert "`limit`" in judge.request_problem(case("/segments", "GET", query={"limit": "0"}))
    assert judge.request_problem(case("/segments", "PATCH")) == "an undocumented method"
