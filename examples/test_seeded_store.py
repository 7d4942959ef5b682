"""Overriding ``segmentation_mock_fixture`` seeds every test of the module alike."""

from __future__ import annotations

import pytest
import requests


@pytest.fixture
def segmentation_mock_fixture():
    return {
        "customers": [{"id": 42, "email": "ann@example.com", "first_name": "Ann", "last_name": "Lee"}],
        "shopper_profiles": [{"id": "11111111-1111-4111-8111-111111111111", "customer_id": 42}],
        "segments": [{"name": "VIP", "shopper_profile_ids": ["11111111-1111-4111-8111-111111111111"]}],
    }


@pytest.mark.parametrize("round", [1, 2])
def test_each_test_starts_from_the_fixture(segmentation_mock, round):
    url = segmentation_mock.base_url + "/customers?include=segment_ids"
    [customer] = requests.get(url, headers=segmentation_mock.headers(readonly=True), timeout=30).json()["data"]
    assert customer["id"] == 42 and len(customer["segment_ids"]) == 1
    # whatever this test writes is gone before the next one
    requests.post(segmentation_mock.base_url + "/segments", json=[{"name": "VIP 2"}], headers=segmentation_mock.headers(), timeout=30)
    assert [s["name"] for s in segmentation_mock.snapshot()["segments"]] == ["VIP", "VIP 2"]
