"""Raw statements for the few hot paths (the registry lookup, the ingest API) on PostgreSQL.

Django binds parameters on the client and never prepares a statement (it sets psycopg's
prepare_threshold to None), so a hot statement is parsed and planned again on every call,
and the ORM compiles it again first. The hot paths build their SQL once from the models
(`model_columns`) and run it here, prepared once per connection and bound on the server,
unless the settings turn prepared statements off (DATABASE_PREPARED_STATEMENTS=0).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from django.db import connection
from django.db.models import Model


def quote(name: str | None) -> str:
    assert name is not None
    return connection.ops.quote_name(name)


def model_columns(model: type[Model], alias: str) -> tuple[list[str], str]:
    """(attribute names, quoted select list) of the model's concrete fields, for `from_db`."""
    fields = model._meta.concrete_fields
    return [f.attname for f in fields], ", ".join(f"{alias}.{quote(f.column)}" for f in fields)


def prepared(
    sql: str, params: Sequence[Any] | Mapping[str, Any], *, rows: bool = True
) -> list[tuple[Any, ...]]:
    """Run one statement on the default connection and return its rows (if `rows`).

    The checks Django's own cursors make come first: the per-request health check of a
    persistent connection (CONN_HEALTH_CHECKS), one thread, no failed transaction. When
    queries are being logged (DEBUG, a test capturing queries) the statement goes through
    Django's debug cursor with client-side binding, so the log shows the values.
    """
    import psycopg

    connection.close_if_health_check_failed()
    connection.ensure_connection()
    connection.validate_thread_sharing()
    connection.validate_no_broken_transaction()
    if connection.queries_logged:
        raw_cursor: Any = psycopg.ClientCursor(connection.connection)
        with connection.make_debug_cursor(raw_cursor) as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall() if rows else []
    with connection.wrap_database_errors, psycopg.Cursor(connection.connection) as raw:
        raw.execute(sql, params, prepare=raw.connection.prepare_threshold is not None)
        return raw.fetchall() if rows else []
