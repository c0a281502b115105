"""One error base class and one exception handler for the whole API.

Every error body has the same shape, so an integrator writes one parser:

    {"status": 409, "code": "conflict", "errors": [{"field": "state", "message": "..."}]}

`field` is null when the error is about the request as a whole.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django_fsm import ConcurrentTransition, TransitionNotAllowed
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler


class ApplicationError(Exception):
    """A business rule said no. Raised by services; the API turns it into a JSON error."""

    status_code: int = status.HTTP_400_BAD_REQUEST
    code: str = "invalid"

    def __init__(
        self,
        message: str,
        *,
        field: str | None = None,
        code: str | None = None,
        status_code: int | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        if code:
            self.code = code
        if status_code:
            self.status_code = status_code
        self.extra = extra or {}


class Conflict(ApplicationError):
    """The request lost a race or contradicts the current state (HTTP 409)."""

    status_code = status.HTTP_409_CONFLICT
    code = "conflict"


class Unprocessable(ApplicationError):
    """Well-formed but cannot be processed, e.g. an idempotency key reused (HTTP 422)."""

    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    code = "unprocessable"


class Forbidden(ApplicationError):
    status_code = status.HTTP_403_FORBIDDEN
    code = "forbidden"


class TooLarge(ApplicationError):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    code = "too_large"


def _flatten(detail: Any, field: str | None = None) -> list[dict[str, Any]]:
    """DRF's nested `detail` -> a flat list of {"field": "a.b", "message": ...}."""
    if isinstance(detail, dict):
        errors: list[dict[str, Any]] = []
        for key, value in detail.items():
            name = None if key in ("non_field_errors", "detail") else str(key)
            path = ".".join(p for p in (field, name) if p) or None
            errors.extend(_flatten(value, path))
        return errors
    if isinstance(detail, list):
        errors = []
        for index, value in enumerate(detail):
            # Lists of dicts are per-item errors; lists of strings are several reasons for one field.
            path = f"{field}.{index}" if isinstance(value, dict) and field else field
            errors.extend(_flatten(value, path))
        return errors
    return [{"field": field, "message": str(detail)}]


def _body(
    status_code: int, code: str, errors: list[dict[str, Any]], **extra: Any
) -> dict[str, Any]:
    return {"status": status_code, "code": code, "errors": errors, **extra}


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, ApplicationError):
        body = _body(
            exc.status_code, exc.code, [{"field": exc.field, "message": exc.message}], **exc.extra
        )
        return Response(body, status=exc.status_code)
    if isinstance(exc, ConcurrentTransition | TransitionNotAllowed):
        message = (
            "the case changed meanwhile; reload it and try again"
            if isinstance(exc, ConcurrentTransition)
            else str(exc)
        )
        return Response(
            _body(409, "conflict", [{"field": "state", "message": message}]), status=409
        )
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(
            exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        )
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()

    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    assert isinstance(exc, exceptions.APIException)
    code = exc.get_codes()
    if not isinstance(code, str):
        code = "invalid"
    response.data = _body(response.status_code, code, _flatten(exc.detail))
    return response
