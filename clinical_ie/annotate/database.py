"""Writing NOTE_NLP rows into DuckDB (embedded, ``duckdb:///path.db``) or PostgreSQL
(``postgresql://user:password@host:port/database``, through SQLAlchemy and psycopg).

:class:`NoteNlpDatabase` creates the ``note_nlp`` table where it is missing (OHDSI's v5.4 DDL,
:func:`~.note_nlp.note_nlp_ddl`), or checks an existing one for every column with a compatible
type (an integer column may be ``bigint``, a ``varchar`` any text type). :meth:`replace_shard`
writes one shard of notes as **one transaction**: it deletes the rows of this ``nlp_system`` for
the shard's notes, numbers the new rows from the table's largest ``note_nlp_id`` + 1 and inserts
them (DuckDB: from an Arrow table; PostgreSQL: ``COPY``). A crash before the commit leaves the
table as it was; a rerun of a committed shard replaces its rows. So after any crash and rerun
every span is in the table once. On PostgreSQL the transaction locks both tables against other
writers (``SHARE ROW EXCLUSIVE``) while it numbers rows.

Note ids that are not plain integers (:func:`~.note_nlp.integer_note_id`) get a negative
``note_id`` from the table ``clinical_ie_note_id`` (``note_source_value`` -> ``note_id``,
-1, -2, ... in first-seen order), written in the same transaction; join on it to find a note.
Errors never show the URL's password.
"""

import contextlib
import hashlib
from datetime import datetime
from pathlib import Path
from typing import Dict, Iterator, List, Optional, Sequence

from .note_nlp import COLUMN_NAMES, COLUMNS, TABLE, column_list, complete_rows, integer_note_id, note_nlp_ddl

NOTE_ID_TABLE = "clinical_ie_note_id"
NOTE_ID_DDL = (
    f"CREATE TABLE {NOTE_ID_TABLE} (note_source_value varchar(1000) NOT NULL PRIMARY KEY, note_id integer NOT NULL UNIQUE)"
)
DIALECTS = ("duckdb", "postgresql")
TYPE_FAMILIES = {
    "integer": ("integer", "int", "int4", "bigint", "int8"),
    "varchar": ("character varying", "varchar", "text", "character", "string"),
    "date": ("date",),
    "TIMESTAMP": ("timestamp without time zone", "timestamp", "timestamp with time zone", "timestamp_ns", "timestamp_us"),
}
"""Types of an existing table's columns accepted for each type of OHDSI's DDL."""


class DatabaseError(RuntimeError):
    """The database URL or table cannot take NOTE_NLP rows."""


def parse_url(url: str):
    """The SQLAlchemy URL of ``url``, its dialect checked (``postgresql`` uses the psycopg driver)."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        parsed = make_url(url)
    except ArgumentError:
        raise DatabaseError("the database URL is not of the form duckdb:///path.db or postgresql://...") from None
    if parsed.get_backend_name() not in DIALECTS:
        raise DatabaseError(f"database {parsed.get_backend_name()!r} is not supported: use one of {DIALECTS}")
    if parsed.get_backend_name() == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


def safe_url(url: str) -> str:
    """``url`` with its password hidden."""
    return parse_url(url).render_as_string(hide_password=True)


def _type_family(sql_type: str) -> str:
    return "varchar" if sql_type.startswith("varchar") else sql_type


class NoteNlpDatabase:
    """A connection to a database that receives NOTE_NLP rows (a context manager)."""

    def __init__(self, url: str):
        self.url = parse_url(url)
        self.dialect = self.url.get_backend_name()
        self.placeholder = "?" if self.dialect == "duckdb" else "%s"
        try:
            if self.dialect == "duckdb":
                import duckdb

                self.connection = duckdb.connect(self.url.database or ":memory:")
            else:
                from sqlalchemy import create_engine
                from sqlalchemy.pool import NullPool

                self.engine = create_engine(self.url, poolclass=NullPool)
                self._pooled = self.engine.raw_connection()
                self.connection = self._pooled.driver_connection
        except Exception as error:  # the driver's message may hold the URL's password: give its type only
            raise DatabaseError(f"cannot connect to {self.url.render_as_string(hide_password=True)}: {type(error).__name__}") from None
        self.ensure_tables()

    def identity(self) -> Dict[str, str]:
        """The dialect and a fingerprint of the URL less its password (a DuckDB file by its
        absolute path): what an output folder's manifest records of its database."""
        url = self.url.set(password=None)
        if self.dialect == "duckdb" and url.database:
            url = url.set(database=str(Path(url.database).resolve()))
        fingerprint = hashlib.sha256(url.render_as_string(hide_password=False).encode("utf8")).hexdigest()[:16]
        return {"dialect": self.dialect, "fingerprint": fingerprint}

    def __enter__(self) -> "NoteNlpDatabase":
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def close(self) -> None:
        if self.dialect == "duckdb":
            self.connection.close()
        else:
            self._pooled.close()
            self.engine.dispose()

    # --- statements ---------------------------------------------------------------------------

    @contextlib.contextmanager
    def transaction(self) -> Iterator:
        """A cursor inside one transaction: committed on success, rolled back on any exception."""
        if self.dialect == "duckdb":  # a DuckDB cursor would be a connection of its own
            cursor = self.connection
            cursor.execute("BEGIN TRANSACTION")
        else:
            cursor = self.connection.cursor()
        try:
            yield cursor
        except BaseException:
            self.connection.rollback()
            raise
        else:
            self.connection.commit()
        finally:
            if cursor is not self.connection:
                cursor.close()

    def _in(self, values: Sequence) -> str:
        return "(" + ", ".join([self.placeholder] * len(values)) + ")"

    def columns(self, cursor, table: str) -> Dict[str, str]:
        """Column name -> lower-cased data type of ``table`` (empty when it does not exist)."""
        cursor.execute(
            "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = "
            f"{self.placeholder} AND table_schema = current_schema()", [table],
        )
        return {name.lower(): data_type.lower() for name, data_type in cursor.fetchall()}

    def ensure_tables(self) -> None:
        """Create ``note_nlp`` and ``clinical_ie_note_id`` where missing; check an existing ``note_nlp``."""
        with self.transaction() as cursor:
            existing = self.columns(cursor, TABLE)
            if not existing:
                for statement in note_nlp_ddl():
                    cursor.execute(statement)
            else:
                problems = []
                for name, sql_type, _ in COLUMNS:
                    if name not in existing:
                        problems.append(f"{name} missing")
                    elif not existing[name].startswith(TYPE_FAMILIES[_type_family(sql_type)]):
                        problems.append(f"{name} is {existing[name]}, expected {sql_type}")
                if problems:
                    raise DatabaseError(f"the existing table {TABLE} is not OMOP CDM v5.4 NOTE_NLP: {'; '.join(problems)}")
            if not self.columns(cursor, NOTE_ID_TABLE):
                cursor.execute(NOTE_ID_DDL)

    def _note_ids(self, cursor, source_ids: Sequence[str]) -> List[int]:
        """``note_id`` of each note id, non-integer ones mapped (new ones added) in ``clinical_ie_note_id``."""
        unmapped = sorted({note_id for note_id in source_ids if integer_note_id(note_id) is None})
        mapped: Dict[str, int] = {}
        if unmapped:
            cursor.execute(
                f"SELECT note_source_value, note_id FROM {NOTE_ID_TABLE} WHERE note_source_value IN {self._in(unmapped)}",
                unmapped,
            )
            mapped = dict(cursor.fetchall())
            new = [note_id for note_id in dict.fromkeys(source_ids) if note_id in set(unmapped) - set(mapped)]
            if new:
                cursor.execute(f"SELECT COALESCE(MIN(note_id), 0) FROM {NOTE_ID_TABLE}")
                lowest = min(cursor.fetchall()[0][0], 0)
                additions = [(note_id, lowest - 1 - i) for i, note_id in enumerate(new)]
                cursor.executemany(f"INSERT INTO {NOTE_ID_TABLE} VALUES ({self.placeholder}, {self.placeholder})", additions)
                mapped.update(additions)
        return [integer_note_id(note_id) or mapped[note_id] for note_id in source_ids]

    def replace_shard(self, source_ids: Sequence[str], note_rows: Sequence[List[dict]], nlp_system: str,
                      written: datetime) -> List[dict]:
        """Replace the rows of ``nlp_system`` for the notes ``source_ids`` by ``note_rows`` (per
        note, :func:`~.note_nlp.span_rows`) in one transaction; the full rows written."""
        with self.transaction() as cursor:
            if self.dialect == "postgresql":
                cursor.execute(f"LOCK TABLE {TABLE}, {NOTE_ID_TABLE} IN SHARE ROW EXCLUSIVE MODE")
            note_ids = self._note_ids(cursor, source_ids)
            if note_ids:
                cursor.execute(
                    f"DELETE FROM {TABLE} WHERE nlp_system = {self.placeholder} AND note_id IN {self._in(note_ids)}",
                    [nlp_system[:250], *note_ids],
                )
            cursor.execute(f"SELECT COALESCE(MAX(note_nlp_id), 0) FROM {TABLE}")
            next_id = cursor.fetchall()[0][0] + 1
            rows = []
            for note_id, spans in zip(note_ids, note_rows):
                rows += complete_rows(spans, note_id, next_id + len(rows), nlp_system, written)
            if rows:
                self._insert(cursor, rows)
        return rows

    def _insert(self, cursor, rows: List[dict]) -> None:
        if self.dialect == "duckdb":
            from .note_nlp import note_nlp_arrow_schema
            import pyarrow as pa

            schema = pa.schema([field for field in note_nlp_arrow_schema() if field.name in COLUMN_NAMES])
            cursor.register("clinical_ie_rows", pa.Table.from_pylist(rows, schema=schema))
            cursor.execute(f"INSERT INTO {TABLE} ({column_list()}) SELECT {column_list()} FROM clinical_ie_rows")
            cursor.unregister("clinical_ie_rows")
        else:
            with cursor.copy(f"COPY {TABLE} ({column_list()}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row([row[name] for name in COLUMN_NAMES])

    def count(self, nlp_system: Optional[str] = None) -> int:
        """Rows of ``note_nlp`` (of ``nlp_system`` only, when given)."""
        with self.transaction() as cursor:
            if nlp_system is None:
                cursor.execute(f"SELECT COUNT(*) FROM {TABLE}")
            else:
                cursor.execute(f"SELECT COUNT(*) FROM {TABLE} WHERE nlp_system = {self.placeholder}", [nlp_system[:250]])
            return cursor.fetchall()[0][0]

    def rows_between(self, first: int, last: int) -> int:
        """Rows with ``note_nlp_id`` in ``first .. last``."""
        with self.transaction() as cursor:
            cursor.execute(
                f"SELECT COUNT(*) FROM {TABLE} WHERE note_nlp_id BETWEEN {self.placeholder} AND {self.placeholder}",
                [first, last],
            )
            return cursor.fetchall()[0][0]
