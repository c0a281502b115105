"""The ingest hot path's statements: fixed SQL built once from the models, prepared on PostgreSQL.

Every accepted event runs the same four statements (token, camera, event INSERT,
images INSERT). Through the ORM each one is compiled again per request, which cost
more CPU than everything else the request does (about 2 ms of 6). Here the SQL text is
built once from the models' own table and column names, values go through each
field's `pre_save` and `get_db_prep_save` exactly as `Model.save` / `bulk_create` do,
and on PostgreSQL the statements are prepared once per connection, so the server
does not parse and plan them again either (`config.db.prepared`, as the registry
lookup in `vehicles.selectors` does).

Other databases (SQLite: the embedded default, tests) take the ORM path: same rows,
same objects. No model here has signals, so bypassing `save()` skips nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from typing import Any

from django.contrib.auth import get_user_model
from django.db import connection
from django.db.models import Model
from rest_framework.authtoken.models import Token

from anpr.models import Camera, IdempotencyRecord, IngestClient
from config.db import model_columns, prepared
from config.db import quote as _qn

# --- Authentication: token -> user -> ingest client, one query -------------------------


@cache
def _token_sql() -> tuple[list[str], list[str], list[str], str]:
    user_model = get_user_model()
    token_atts, token_cols = model_columns(Token, "t")
    user_atts, user_cols = model_columns(user_model, "u")
    client_atts, client_cols = model_columns(IngestClient, "c")
    user_pk = _qn(user_model._meta.pk.column)  # type: ignore[union-attr]
    sql = (
        f"SELECT {token_cols}, {user_cols}, {client_cols} "  # noqa: S608 - names from the models
        f"FROM {_qn(Token._meta.db_table)} t "
        f"JOIN {_qn(user_model._meta.db_table)} u ON u.{user_pk} = t.{_qn('user_id')} "
        f"LEFT JOIN {_qn(IngestClient._meta.db_table)} c ON c.{_qn('user_id')} = u.{user_pk} "
        f"WHERE t.{_qn('key')} = %s"
    )
    return token_atts, user_atts, client_atts, sql


def token_with_user_and_client(*, key: str) -> Token | None:
    """The token with its user and the user's ingest client (or none) loaded; None if unknown.

    What `Token.objects.select_related("user", "user__ingest_client").get(key=key)`
    returns, in one prepared statement on PostgreSQL.
    """
    if connection.vendor != "postgresql":
        return Token.objects.select_related("user", "user__ingest_client").filter(key=key).first()
    token_atts, user_atts, client_atts, sql = _token_sql()
    rows = prepared(sql, [key])
    if not rows:
        return None
    row = rows[0]
    nt, nu = len(token_atts), len(user_atts)
    db = connection.alias
    token = Token.from_db(db, token_atts, row[:nt])
    user = get_user_model().from_db(db, user_atts, row[nt : nt + nu])
    client_row = row[nt + nu :]
    client = None if client_row[0] is None else IngestClient.from_db(db, client_atts, client_row)
    Token.user.field.set_cached_value(token, user)
    # As select_related leaves it: user.ingest_client is the client, or raises DoesNotExist.
    get_user_model().ingest_client.related.set_cached_value(user, client)  # type: ignore[attr-defined]
    if client is not None:
        IngestClient.user.field.set_cached_value(client, user)
    return token


# --- A client's camera by code ----------------------------------------------------------


@cache
def _camera_sql() -> tuple[list[str], str]:
    atts, cols = model_columns(Camera, "cam")
    m2m = IngestClient._meta.get_field("cameras")
    through = m2m.remote_field.through._meta  # type: ignore[union-attr]
    sql = (
        f"SELECT {cols} FROM {_qn(Camera._meta.db_table)} cam "  # noqa: S608 - names from the models
        f"JOIN {_qn(through.db_table)} m ON m.{_qn(m2m.m2m_reverse_name())} = cam.{_qn('id')} "  # type: ignore[attr-defined]
        f"WHERE m.{_qn(m2m.m2m_column_name())} = %s AND cam.{_qn('code')} = %s"  # type: ignore[attr-defined]
    )
    return atts, sql


def client_camera(*, client: IngestClient, code: str) -> Camera | None:
    """`client.cameras.filter(code=code).first()` in one prepared statement on PostgreSQL."""
    if connection.vendor != "postgresql":
        return client.cameras.filter(code=code).first()
    atts, sql = _camera_sql()
    rows = prepared(sql, [client.pk, code])
    return Camera.from_db(connection.alias, atts, rows[0]) if rows else None


# --- INSERT of new rows -----------------------------------------------------------------


@cache
def _insert_sql(model: type[Model], count: int) -> tuple[list[Any], str]:
    meta = model._meta
    fields = [f for f in meta.concrete_fields if f is not meta.pk]
    columns = ", ".join(_qn(f.column) for f in fields)
    row = "(" + ", ".join(["%s"] * len(fields)) + ")"
    sql = (
        f"INSERT INTO {_qn(meta.db_table)} ({columns}) "  # noqa: S608 - names from the models
        f"VALUES {', '.join([row] * count)} RETURNING {_qn(meta.pk.column)}"
    )
    return fields, sql


def rows_insert(objs: Sequence[Model]) -> None:
    """INSERT new objects of one model in one statement and set their primary keys.

    Like `bulk_create` (on PostgreSQL one prepared `INSERT ... RETURNING`): fields'
    `pre_save` runs (auto_now, auto_now_add) and values are prepared by the fields.
    """
    if not objs:
        return
    model = type(objs[0])
    if connection.vendor != "postgresql":
        model._default_manager.bulk_create(objs)
        return
    fields, sql = _insert_sql(model, len(objs))
    params = [
        field.get_db_prep_save(field.pre_save(obj, True), connection)
        for obj in objs
        for field in fields
    ]
    rows = prepared(sql, params)
    for obj, (pk,) in zip(objs, rows, strict=True):
        obj.pk = pk
        obj._state.adding = False
        obj._state.db = connection.alias


# --- Idempotency-Key: the first answer, stored in the event's transaction ---------------


@cache
def _idempotency_finish_sql() -> tuple[list[Any], str]:
    meta = IdempotencyRecord._meta
    fields = [meta.get_field(n) for n in ("state", "response_status", "response_body", "event")]
    sets = ", ".join(f"{_qn(f.column)} = %s" for f in fields)  # type: ignore[union-attr]
    sql = (
        f"UPDATE {_qn(meta.db_table)} SET {sets} "  # noqa: S608 - names from the models
        f"WHERE {_qn('client_id')} = %s AND {_qn('key')} = %s"
    )
    return fields, sql


def idempotency_record_finish(
    *, client: IngestClient, key: str, status: int, body: dict[str, Any], event_id: int | None
) -> None:
    """Mark the client's key done with the answer to replay, in one prepared UPDATE."""
    state = IdempotencyRecord.State.DONE
    if connection.vendor != "postgresql":
        IdempotencyRecord.objects.filter(client=client, key=key).update(
            state=state, response_status=status, response_body=body, event_id=event_id
        )
        return
    fields, sql = _idempotency_finish_sql()
    values = [state.value, status, body, event_id]
    params = [f.get_db_prep_save(v, connection) for f, v in zip(fields, values, strict=True)]
    prepared(sql, [*params, client.pk, key], rows=False)
