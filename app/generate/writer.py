"""Bulk writing: PostgreSQL `COPY`, SQLite multi-row Core inserts, both in chunks.

Rows arrive one at a time from the builders and are buffered per table; whenever the
buffers hold `chunk_rows` rows, every buffer is written in foreign-key order (parents
before children), so each chunk satisfies the constraints on its own. Chunks are
written by one background thread, in order, while the next chunk is being built: the
database's work (parsing, indexing, full-text vectors) overlaps Python's.
"""

from __future__ import annotations

import queue
import threading
from typing import Any

from sqlalchemy import Connection, Table, insert, text

import app.models  # noqa: F401  (registers every table)
from app.db import metadata
from app.models.sort_keys import SORT_KEYS, sort_key

CHUNK_ROWS = 10_000


Chunk = list[tuple[Table, list[tuple[Any, ...]]]]


class BulkWriter:
    """Use as a context manager: leaving it writes what is left and waits for the thread."""

    def __init__(self, connection: Connection, chunk_rows: int = CHUNK_ROWS) -> None:
        self.connection = connection
        self.postgresql = connection.dialect.name == "postgresql"
        self.chunk_rows = chunk_rows
        self.order = [t for t in metadata.sorted_tables]
        self.tables: dict[str, Table] = {t.name: t for t in self.order}
        self.columns = {t.name: [c.name for c in t.columns] for t in self.order}
        self.buffers: dict[str, list[tuple[Any, ...]]] = {t.name: [] for t in self.order}
        self.counts: dict[str, int] = {t.name: 0 for t in self.order}
        self.buffered = 0
        self._queue: queue.Queue[Chunk | None] = queue.Queue(maxsize=2)
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._drain, name="generate-writer", daemon=True)

    def __enter__(self) -> BulkWriter:
        self._thread.start()
        return self

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        if exc_type is None:
            self.flush()
        self._queue.put(None)
        self._thread.join()
        if self._error is not None and exc_type is None:
            raise self._error

    def _drain(self) -> None:
        while (chunk := self._queue.get()) is not None:
            if self._error is not None:
                continue  # keep draining so the producer never blocks; report the first error
            try:
                for table, rows in chunk:
                    self._write(table, rows)
            except BaseException as exc:
                self._error = exc

    def add(self, table: str, row: dict[str, Any]) -> None:
        """Buffer one row; every column of the table must be given (no silent defaults),
        but for the sort keys, made here from their fields as the ORM's writes make them."""
        if keys := SORT_KEYS.get(table):
            row = row | {key: sort_key(row[field]) for field, key in keys.items()}
        columns = self.columns[table]
        if len(row) != len(columns):
            unknown = sorted(set(row) - set(columns))
            missing = sorted(set(columns) - set(row))
            raise ValueError(f"{table}: unknown columns {unknown}, missing columns {missing}")
        self.buffers[table].append(tuple(row[c] for c in columns))
        self.buffered += 1
        if self.buffered >= self.chunk_rows:
            self.flush()

    def flush(self) -> None:
        """Hand every buffered row to the writer thread, parents' tables first."""
        if self._error is not None:
            raise self._error
        chunk: Chunk = []
        for table in self.order:
            rows = self.buffers[table.name]
            if rows:
                chunk.append((table, rows))
                self.counts[table.name] += len(rows)
                self.buffers[table.name] = []
        self.buffered = 0
        if chunk:
            self._queue.put(chunk)

    def _write(self, table: Table, rows: list[tuple[Any, ...]]) -> None:
        columns = self.columns[table.name]
        if self.postgresql:
            cursor = self.connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
            names = ", ".join(f'"{c}"' for c in columns)
            with cursor.copy(f'COPY "{table.name}" ({names}) FROM STDIN') as copy:
                for row in rows:
                    copy.write_row(row)
            cursor.close()
        else:
            # Core insert: the column types' bind processing (UTC datetimes) applies.
            self.connection.execute(
                insert(table), [dict(zip(columns, row, strict=True)) for row in rows]
            )


def max_ids(connection: Connection) -> dict[str, int]:
    """The largest id of every table that has an `id` column (0 when empty)."""
    out = {}
    for table in metadata.sorted_tables:
        if "id" in table.c:
            out[table.name] = connection.execute(
                text(f'SELECT coalesce(max(id), 0) FROM "{table.name}"')
            ).scalar_one()
    return out


def reset_sequences(connection: Connection) -> None:
    """Explicit ids do not advance PostgreSQL's sequences: move each past the new max id."""
    if connection.dialect.name != "postgresql":
        return  # SQLite's INTEGER PRIMARY KEY continues after max(rowid) by itself
    for table in metadata.sorted_tables:
        if "id" in table.c:
            connection.execute(
                text(
                    f"SELECT setval(pg_get_serial_sequence('\"{table.name}\"', 'id'), "
                    f'coalesce((SELECT max(id) FROM "{table.name}"), 0) + 1, false)'
                )
            )
