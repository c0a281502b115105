"""Ingest endpoints: the generic violation API and the vendors' own formats.

Views parse and authenticate; `anpr.services` decides and writes.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.core.files.uploadedfile import UploadedFile
from django.shortcuts import get_object_or_404
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, parsers, permissions
from rest_framework.authentication import BasicAuthentication, TokenAuthentication
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from anpr import ingest_sql, selectors, services
from anpr.adapters import AdapterError, VendorEvent
from anpr.adapters.dahua import dahua_event
from anpr.adapters.hikvision import hikvision_event
from anpr.models import IngestClient, ViolationEvent
from anpr.multipart import IngestMultiPartParser
from anpr.serializers import (
    ViolationAcceptedSerializer,
    ViolationInputSerializer,
    ViolationJsonInputSerializer,
    ViolationStatusSerializer,
)
from config.api import ApplicationError, TooLarge


class IngestTokenScheme(OpenApiAuthenticationExtension):
    target_class = "anpr.api.IngestTokenAuthentication"
    name = "ingestTokenAuth"
    priority = 1

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": 'An ingest client\'s token, with the prefix "Token "',
        }


class IngestTokenAuthentication(TokenAuthentication):
    """DRF's token authentication, loading the user's ingest client in the same query.

    Checked against the database on every request (a revoked token or a disabled user
    is refused at once), in one prepared statement: see `anpr.ingest_sql`.
    """

    def authenticate_credentials(self, key: str) -> tuple[Any, Any]:
        token = ingest_sql.token_with_user_and_client(key=key)
        if token is None:
            raise exceptions.AuthenticationFailed("Invalid token.")
        if not token.user.is_active:
            raise exceptions.AuthenticationFailed("User inactive or deleted.")
        return (token.user, token)


class IsIngestClient(permissions.BasePermission):
    message = "this user is not an active ingest client"

    def has_permission(self, request: Request, view: APIView) -> bool:
        client = getattr(request.user, "ingest_client", None)
        return client is not None and client.is_active


class RawXmlParser(parsers.BaseParser):
    """Hikvision firmwares without pictures post the bare XML alert."""

    media_type = "application/xml"

    def parse(self, stream: Any, media_type: Any = None, parser_context: Any = None) -> Any:
        return {"xml": stream.read() if stream is not None else b""}


class TextXmlParser(RawXmlParser):
    media_type = "text/xml"


def _max_body_bytes() -> int:
    return int(getattr(settings, "INGEST_MAX_BODY_BYTES", settings.DATA_UPLOAD_MAX_MEMORY_SIZE))


class IngestView(APIView):
    """Common ground: body size limit (413) before parsing, and parse errors as field errors."""

    authentication_classes = [IngestTokenAuthentication]
    permission_classes = [permissions.IsAuthenticated, IsIngestClient]

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)  # authentication (401) and permissions first
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        limit = _max_body_bytes()
        if length > limit:
            raise TooLarge(f"request body of {length} bytes; at most {limit}", field=None)

    def parsed(self, request: Request) -> tuple[Any, dict[str, list[UploadedFile]]]:
        try:
            data = request.data
            files = {name: request.FILES.getlist(name) for name in request.FILES}
        except RequestDataTooBig:
            raise TooLarge(f"request body over {_max_body_bytes()} bytes") from None
        except (TooManyFilesSent, TooManyFieldsSent) as exc:
            raise ApplicationError(str(exc), field="images") from None
        return data, files

    @property
    def client(self) -> IngestClient:
        return self.request.user.ingest_client  # type: ignore[union-attr]

    def respond(self, result: services.IngestResult) -> Response:
        headers = {}
        if result.event_id is not None:
            headers["Location"] = result.body["status_url"]
        if result.replayed:
            headers["Idempotent-Replayed"] = "true"
        return Response(result.body, status=result.status_code, headers=headers)


def _read_files(files: dict[str, list[UploadedFile]]) -> list[tuple[str, bytes]]:
    out = []
    for name, uploads in files.items():
        for index, upload in enumerate(uploads):
            out.append((name if index == 0 else f"{name}.{index}", upload.read()))
    return out


def _metadata(data: Any, files: dict[str, list[UploadedFile]]) -> Any:
    if "metadata" in files:
        raw: Any = files.pop("metadata")[0].read()
    elif "metadata" in data:
        raw = data["metadata"]
    else:
        raise ApplicationError("a JSON part named metadata is required", field="metadata")
    try:
        return json.loads(raw)
    except (ValueError, TypeError):
        raise ApplicationError("not valid JSON", field="metadata") from None


class ViolationIngestApi(IngestView):
    parser_classes = [parsers.JSONParser, IngestMultiPartParser]

    @extend_schema(
        operation_id="violations_create",
        summary="Ingest one camera violation event with its images",
        description=(
            "multipart/form-data: a `metadata` part (JSON, the fields below) and image files "
            "named `scene`, `plate`, `extra`...; or application/json with the same fields and "
            "`images: [{name, kind, content_base64}]`. JPEG/PNG only, checked by content. "
            "Idempotent per (camera, camera_event_id) and per `Idempotency-Key` header."
        ),
        request={
            "application/json": ViolationJsonInputSerializer,
            "multipart/form-data": OpenApiTypes.OBJECT,
        },
        parameters=[
            OpenApiParameter("Idempotency-Key", str, OpenApiParameter.HEADER, required=False)
        ],
        responses={202: ViolationAcceptedSerializer},
    )
    def post(self, request: Request) -> Response:
        data, files = self.parsed(request)
        images: list[services.ImageUpload] = []
        if request.content_type.startswith("multipart/"):
            serializer = ViolationInputSerializer(data=_metadata(data, files))
            serializer.is_valid(raise_exception=True)
            images = [
                services.ImageUpload(name=name, kind=services.image_kind_for(name), data=raw)
                for name, raw in _read_files(files)
            ]
        else:
            serializer = ViolationJsonInputSerializer(data=data)
            serializer.is_valid(raise_exception=True)
            for index, item in enumerate(serializer.validated_data.pop("images")):
                name = item.get("name") or item.get("kind") or f"image{index}"
                images.append(
                    services.image_from_base64(
                        name=name,
                        kind=item.get("kind"),
                        content=item["content_base64"],
                        field=f"images.{index}.content_base64",
                    )
                )
        result = services.violation_ingest(
            client=self.client,
            data=services.ViolationInput(**serializer.validated_data),
            images=images,
            source=ViolationEvent.Source.API,
            idempotency_key=request.headers.get("Idempotency-Key"),
        )
        return self.respond(result)


class ViolationStatusApi(APIView):
    @extend_schema(
        operation_id="violations_status",
        summary="An ingested event: its state, evidence, plate reading and case",
        responses={200: ViolationStatusSerializer},
    )
    def get(self, request: Request, pk: int) -> Response:
        event = get_object_or_404(selectors.events_visible_to(user=request.user), pk=pk)
        case = selectors.event_case(event=event)
        return Response(ViolationStatusSerializer(event, context={"case": case}).data)


class VendorIngestView(IngestView):
    # Cameras can hold a user name and password for their upload target, rarely a token.
    authentication_classes = [IngestTokenAuthentication, BasicAuthentication]
    source: str = ""

    def vendor_post(self, request: Request, make_event: Callable[[], VendorEvent]) -> Response:
        result = services.vendor_event_ingest(
            client=self.client,
            event=make_event(),
            camera_code=request.query_params.get("camera") or None,
            source=self.source,
            idempotency_key=request.headers.get("Idempotency-Key"),
        )
        if result.status_code == 202:
            result.status_code = 200  # cameras retransmit on anything but 200
        return self.respond(result)


class HikvisionEventApi(VendorIngestView):
    parser_classes = [parsers.MultiPartParser, RawXmlParser, TextXmlParser]
    source = ViolationEvent.Source.HIKVISION

    @extend_schema(
        operation_id="cameras_hikvision_event",
        summary="Hikvision ISAPI ANPR/traffic event notification (multipart XML + JPEGs)",
        parameters=[OpenApiParameter("camera", str, OpenApiParameter.QUERY, required=False)],
        request={"multipart/form-data": OpenApiTypes.OBJECT, "application/xml": OpenApiTypes.STR},
        responses={200: ViolationAcceptedSerializer},
    )
    def post(self, request: Request) -> Response:
        data, files = self.parsed(request)

        def make_event() -> VendorEvent:
            parts = dict(_read_files(files))
            if "xml" in data and isinstance(data["xml"], bytes):
                xml = data["xml"]
            else:
                xml_names = [
                    n
                    for n, raw in parts.items()
                    if n.lower().endswith(".xml") or raw.lstrip()[:1] == b"<"
                ]
                text_fields = [v for v in data.values() if isinstance(v, str) and "<" in v]
                if xml_names:
                    xml = parts.pop(xml_names[0])
                elif text_fields:
                    xml = text_fields[0].encode()
                else:
                    raise AdapterError("no EventNotificationAlert XML part", field="xml")
            return hikvision_event(xml=xml, files=parts)

        return self.vendor_post(request, make_event)


class DahuaEventApi(VendorIngestView):
    parser_classes = [parsers.JSONParser, parsers.MultiPartParser]
    source = ViolationEvent.Source.DAHUA

    @extend_schema(
        operation_id="cameras_dahua_event",
        summary="Dahua ITC traffic event (JSON, pictures base64 or multipart)",
        parameters=[OpenApiParameter("camera", str, OpenApiParameter.QUERY, required=False)],
        request={
            "application/json": OpenApiTypes.OBJECT,
            "multipart/form-data": OpenApiTypes.OBJECT,
        },
        responses={200: ViolationAcceptedSerializer},
    )
    def post(self, request: Request) -> Response:
        data, files = self.parsed(request)

        def make_event() -> VendorEvent:
            if request.content_type.startswith("multipart/"):
                if "event" in files:
                    raw: Any = files.pop("event")[0].read()
                elif "event" in data:
                    raw = data["event"]
                else:
                    raise AdapterError("a JSON part named event is required", field="event")
                try:
                    payload = json.loads(raw)
                except (ValueError, TypeError):
                    raise AdapterError("not valid JSON", field="event") from None
                return dahua_event(payload=payload, files=dict(_read_files(files)))
            return dahua_event(payload=data)

        return self.vendor_post(request, make_event)
