"""Storage backends behind the domain: in memory (default) or a SQLite file."""

from __future__ import annotations

from .base import SCOPES, Storage, StoreTx, TokenInfo
from .memory import MemoryStorage
from .sqlite import SqliteStorage


def open_storage(data_file: str | None) -> Storage:
    return SqliteStorage(data_file) if data_file else MemoryStorage()


__all__ = ["SCOPES", "MemoryStorage", "SqliteStorage", "Storage", "StoreTx", "TokenInfo", "open_storage"]
