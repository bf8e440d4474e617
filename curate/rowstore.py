"""Row-level score store: reuse the scores of rows already seen, so reruns only compute new rows.

A row's key is a hash of its text (and, for model signals, the other fields a signal reads) plus
the signal set and options; the value is that row's score columns. The store is one SQLite file,
committed after every batch, so an interrupted run resumes without recomputing finished batches
and a nightly refresh only pays for new or changed rows.
"""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path
from typing import Any

import orjson
import pyarrow as pa


class RowStore:
    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(self.path), timeout=60, isolation_level=None)
        from curate.cache import init_sqlite

        init_sqlite(self._db, "CREATE TABLE IF NOT EXISTS scores (key BLOB PRIMARY KEY, value BLOB NOT NULL)")
        self.hits = 0
        self.misses = 0

    @staticmethod
    def keys(table: pa.Table, fields: list[str], salt: dict[str, Any]) -> list[bytes]:
        """One key per row from the given fields' values and a salt (signal names, options, model)."""
        salt_bytes = orjson.dumps(salt, option=orjson.OPT_SORT_KEYS, default=str)
        cols = [table.column(f).to_pylist() if f in table.column_names else [None] * table.num_rows for f in fields]
        out = []
        for i in range(table.num_rows):
            h = hashlib.blake2b(salt_bytes, digest_size=16)
            for c in cols:
                h.update(b"\x00")
                h.update(orjson.dumps(c[i], option=orjson.OPT_SORT_KEYS, default=str))
            out.append(h.digest())
        return out

    def get_many(self, keys: list[bytes]) -> dict[bytes, dict[str, Any]]:
        found: dict[bytes, dict[str, Any]] = {}
        uniq = list(dict.fromkeys(keys))
        for i in range(0, len(uniq), 500):
            chunk = uniq[i : i + 500]
            q = f"SELECT key, value FROM scores WHERE key IN ({','.join('?' * len(chunk))})"
            for k, v in self._db.execute(q, chunk):
                found[k] = orjson.loads(v)
        return found

    def put_many(self, items: list[tuple[bytes, dict[str, Any]]]) -> None:
        if not items:
            return
        self._db.execute("BEGIN")
        self._db.executemany(
            "INSERT OR REPLACE INTO scores (key, value) VALUES (?, ?)",
            [(k, orjson.dumps(v, option=orjson.OPT_SERIALIZE_NUMPY, default=str)) for k, v in items],
        )
        self._db.execute("COMMIT")

    def close(self) -> None:
        self._db.close()
