"""Testing a client with the mock's pytest fixture: normal use, a 429 in the middle of
a sync, and a store already at the 1000-segment cap."""

from __future__ import annotations

import pytest

from examples.segment_sync import SegmentCapReached, SegmentSync


def test_creates_missing_segments_once(segmentation_mock):
    sync = SegmentSync(segmentation_mock.base_url, segmentation_mock.token)
    first = sync.ensure_segments(["VIP", "Newsletter"])
    again = sync.ensure_segments(["Newsletter", "VIP", "Lapsed"])
    assert again["VIP"] == first["VIP"] and set(again) == {"VIP", "Newsletter", "Lapsed"}
    assert len(segmentation_mock.snapshot()["segments"]) == 3


def test_waits_out_429_and_finishes(segmentation_mock):
    segmentation_mock.set_rate_limit(quota=2, window_ms=300)
    sync = SegmentSync(segmentation_mock.base_url, segmentation_mock.token)
    result = sync.ensure_segments([f"segment-{i}" for i in range(120)])  # 1 read + 3 batches
    assert len(result) == 120 and sync.retries >= 1
    assert segmentation_mock.journal(status="429"), "the mock answered 429 along the way"


def test_reports_the_1000_segment_cap_and_writes_nothing(segmentation_mock):
    segmentation_mock.seed({"segments": [{"name": f"existing-{i}"} for i in range(999)]})
    sync = SegmentSync(segmentation_mock.base_url, segmentation_mock.token)
    with pytest.raises(SegmentCapReached):
        sync.ensure_segments(["new-1", "new-2"])
    assert len(segmentation_mock.snapshot()["segments"]) == 999
