"""The IDs the mock makes: random version 4 UUIDs, unique across worker processes."""

from __future__ import annotations

import os
import re

import pytest

from mock_server.domain.service import new_uuid

V4 = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")


def test_ids_are_version_4_uuids_and_do_not_repeat():
    ids = [new_uuid() for _ in range(20000)]
    assert all(V4.fullmatch(i) for i in ids) and len(set(ids)) == len(ids)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_a_forked_worker_makes_other_ids_than_its_parent():
    # Server workers are forked: a generator that kept its parent's state would make the
    # same IDs in every worker, which then collide in a shared SQLite file.
    new_uuid()
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: report its next IDs and leave at once
        os.write(write, ",".join(new_uuid() for _ in range(5)).encode())
        os._exit(0)
    os.close(write)
    os.waitpid(pid, 0)
    with os.fdopen(read) as pipe:
        child = pipe.read().split(",")
    parent = [new_uuid() for _ in range(5)]
    assert len(child) == 5 and not set(child) & set(parent)
