"""The TRACS REST API and the review actions: one view per operation.

Reads: a challan by number or id, challans by plate (TRACS clients and staff),
the status feed since a cursor, the offence schedule. Writes: one POST per
transition; the view validates input and calls the service, which decides.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.generics import ListAPIView
from rest_framework.pagination import CursorPagination
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from challan import selectors, services
from challan.models import Challan
from challan.numbers import challan_number_normalize, challan_number_valid
from challan.permissions import PII_ROLES, STAFF_ROLES, HasRole, Role, user_roles
from challan.serializers import (
    ChallanDetailSerializer,
    ChallanSerializer,
    ConfirmPlateInputSerializer,
    DecideContestInputSerializer,
    ErrorSerializer,
    FeedQuerySerializer,
    FeedSerializer,
    OffenceSerializer,
    ReasonInputSerializer,
    RequiredReasonInputSerializer,
    ReviewQueueQuerySerializer,
    ScheduleQuerySerializer,
)
from config.api import ApplicationError
from vehicles.models import Vehicle
from vehicles.plates import PlateFormatError, plate_normalize

TRACS_AND_STAFF = frozenset({Role.TRACS, *STAFF_ROLES})
FEED_ROLES = frozenset({Role.TRACS, Role.SUPERVISOR})


def _errors(*codes: int) -> dict[int, OpenApiResponse]:
    described = {
        400: "Invalid input: each error names its field.",
        401: "No or bad token.",
        403: "The role may not do this.",
        404: "No such challan.",
        409: "The case is in another state (or changed meanwhile).",
        422: "The input is well-formed but cannot be applied.",
    }
    return {c: OpenApiResponse(ErrorSerializer, description=described[c]) for c in codes}


def _context(request: Request) -> dict[str, Any]:
    return {"request": request, "unmasked": bool(user_roles(request.user) & PII_ROLES)}  # type: ignore[arg-type]


class ChallanPagination(CursorPagination):
    ordering = "-id"
    page_size = 50
    max_page_size = 200
    page_size_query_param = "page_size"


class RoleApiView(APIView):
    permission_classes = [IsAuthenticated, HasRole]
    allowed_roles: frozenset[str] = frozenset()


# --- Reads.


class ChallanByNumberApi(RoleApiView):
    allowed_roles = TRACS_AND_STAFF

    @extend_schema(
        operation_id="challan_by_number",
        summary="A challan by its number",
        description="The number is checked (format and Luhn check digit) before it is looked up.",
        responses={200: ChallanSerializer, **_errors(400, 401, 403, 404)},
        tags=["TRACS"],
    )
    def get(self, request: Request, number: str) -> Response:
        number = challan_number_normalize(number)
        if not challan_number_valid(number):
            raise ApplicationError(
                "not a challan number (expected KHI-2026-0001234-7; check the last digit)",
                field="number",
            )
        challan = get_object_or_404(selectors.challan_list(), number=number)
        return Response(ChallanSerializer(challan, context=_context(request)).data)


class ChallansByPlateApi(RoleApiView, ListAPIView[Challan]):
    allowed_roles = TRACS_AND_STAFF
    serializer_class = ChallanSerializer
    pagination_class = ChallanPagination

    def get_queryset(self) -> Any:
        try:
            key = plate_normalize(self.kwargs["plate"]).key
        except PlateFormatError as exc:
            raise ApplicationError(str(exc), field="plate") from None
        return selectors.challans_for_plate(plate_key=key)

    def get_serializer_context(self) -> dict[str, Any]:
        return {**super().get_serializer_context(), **_context(self.request)}

    @extend_schema(
        operation_id="challans_by_plate",
        summary="Issued challans of a plate",
        description="Only for TRACS clients and back-office roles. Newest first, cursor-paginated.",
        responses={200: ChallanSerializer(many=True), **_errors(400, 401, 403)},
        tags=["TRACS"],
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)


class ChallanDetailApi(RoleApiView):
    allowed_roles = STAFF_ROLES

    @extend_schema(
        operation_id="challan_detail",
        summary="A case with its evidence, candidates and audit trail",
        responses={200: ChallanDetailSerializer, **_errors(401, 403, 404)},
        tags=["Review"],
    )
    def get(self, request: Request, pk: int) -> Response:
        challan = get_object_or_404(
            selectors.challan_list().prefetch_related("evidence__event__camera", "history__actor"),
            pk=pk,
        )
        return Response(ChallanDetailSerializer(challan, context=_context(request)).data)


class ReviewQueueApi(RoleApiView, ListAPIView[Challan]):
    allowed_roles = frozenset({Role.REVIEWER, Role.SUPERVISOR})
    serializer_class = ChallanSerializer
    pagination_class = ChallanPagination

    def get_queryset(self) -> Any:
        query = ReviewQueueQuerySerializer(data=self.request.query_params)
        query.is_valid(raise_exception=True)
        return selectors.review_queue(flags=sorted(query.validated_data.get("flag", [])))

    def get_serializer_context(self) -> dict[str, Any]:
        return {**super().get_serializer_context(), **_context(self.request)}

    @extend_schema(
        operation_id="review_queue",
        summary="Cases waiting for a reviewer",
        parameters=[ReviewQueueQuerySerializer],
        responses={200: ChallanSerializer(many=True), **_errors(400, 401, 403)},
        tags=["Review"],
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)


class StatusFeedApi(RoleApiView):
    allowed_roles = FEED_ROLES

    @extend_schema(
        operation_id="challan_status_feed",
        summary="State changes since a cursor",
        description=(
            "Changes with id greater than `since`, oldest first. Store `next_since` and pass it "
            "back; repeat while `has_more`. The feed is stable: rows are never changed or removed, "
            "and the newest few seconds are held back until every older change has committed."
        ),
        parameters=[FeedQuerySerializer],
        responses={200: FeedSerializer, **_errors(400, 401, 403)},
        tags=["TRACS"],
    )
    def get(self, request: Request) -> Response:
        query = FeedQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        since, limit = query.validated_data["since"], query.validated_data["limit"]
        rows = selectors.status_feed(since=since, limit=limit + 1)
        page = rows[:limit]
        body = {
            "results": page,
            "next_since": page[-1].pk if page else since,
            "has_more": len(rows) > limit,
        }
        return Response(FeedSerializer(body).data)


class OffenceScheduleApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="offence_schedule",
        summary="Offences and the fines in force",
        parameters=[ScheduleQuerySerializer],
        responses={200: OffenceSerializer(many=True), **_errors(400, 401)},
        tags=["TRACS"],
    )
    def get(self, request: Request) -> Response:
        query = ScheduleQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        offences = selectors.offence_schedule(at=query.validated_data.get("at"))
        return Response(OffenceSerializer(offences, many=True).data)


# --- Review actions: POST /challans/{id}/<action>/, each calling one service.


class TransitionApi(RoleApiView):
    """Validate input, load the case (404), call the service (403/409/422), render the case."""

    allowed_roles = STAFF_ROLES
    input_serializer: type[serializers.Serializer] = ReasonInputSerializer

    def perform(self, challan: Challan, actor: User, data: dict[str, Any]) -> Challan:
        raise NotImplementedError

    def post(self, request: Request, pk: int) -> Response:
        payload = self.input_serializer(data=request.data)
        payload.is_valid(raise_exception=True)
        challan = get_object_or_404(Challan, pk=pk)
        challan = self.perform(challan, request.user, dict(payload.validated_data))  # type: ignore[arg-type]
        challan = selectors.challan_get(pk=challan.pk)
        return Response(ChallanSerializer(challan, context=_context(request)).data)


def _transition_schema(name: str, summary: str, request: type[serializers.Serializer]) -> Any:
    return extend_schema(
        operation_id=f"challan_{name}",
        summary=summary,
        request=request,
        responses={200: ChallanSerializer, **_errors(400, 401, 403, 404, 409, 422)},
        tags=["Review"],
    )


class ChallanConfirmPlateApi(TransitionApi):
    input_serializer = ConfirmPlateInputSerializer

    @_transition_schema(
        "confirm_plate",
        "Confirm the plate (needs_plate_check -> pending_review)",
        ConfirmPlateInputSerializer,
    )
    def post(self, request: Request, pk: int) -> Response:
        return super().post(request, pk)

    def perform(self, challan: Challan, actor: User, data: dict[str, Any]) -> Challan:
        vehicle = None
        if data.get("vehicle"):
            vehicle = Vehicle.objects.filter(pk=data["vehicle"]).first()
            if vehicle is None:
                raise ApplicationError("no such vehicle", field="vehicle")
        return services.challan_confirm_plate(
            challan=challan,
            actor=actor,
            plate_key=data.get("plate_key", ""),
            vehicle=vehicle,
            reason=data["reason"],
        )


class ChallanApproveApi(TransitionApi):
    @_transition_schema("approve", "Approve (pending_review -> approved)", ReasonInputSerializer)
    def post(self, request: Request, pk: int) -> Response:
        return super().post(request, pk)

    def perform(self, challan: Challan, actor: User, data: dict[str, Any]) -> Challan:
        return services.challan_approve(challan=challan, actor=actor, reason=data["reason"])


class ChallanRejectApi(TransitionApi):
    input_serializer = RequiredReasonInputSerializer

    @_transition_schema("reject", "Reject the case", RequiredReasonInputSerializer)
    def post(self, request: Request, pk: int) -> Response:
        return super().post(request, pk)

    def perform(self, challan: Challan, actor: User, data: dict[str, Any]) -> Challan:
        return services.challan_reject(challan=challan, actor=actor, reason=data["reason"])


class ChallanReopenApi(TransitionApi):
    input_serializer = RequiredReasonInputSerializer

    @_transition_schema("reopen", "Send back to review (supervisor)", RequiredReasonInputSerializer)
    def post(self, request: Request, pk: int) -> Response:
        return super().post(request, pk)

    def perform(self, challan: Challan, actor: User, data: dict[str, Any]) -> Challan:
        return services.challan_reopen(challan=challan, actor=actor, reason=data["reason"])


class ChallanIssueApi(TransitionApi):
    @_transition_schema("issue", "Issue now with a number (supervisor)", ReasonInputSerializer)
    def post(self, request: Request, pk: int) -> Response:
        return super().post(request, pk)

    def perform(self, challan: Challan, actor: User, data: dict[str, Any]) -> Challan:
        return services.challan_issue(challan=challan, actor=actor)


class ChallanCancelApi(TransitionApi):
    input_serializer = RequiredReasonInputSerializer

    @_transition_schema("cancel", "Cancel (supervisor)", RequiredReasonInputSerializer)
    def post(self, request: Request, pk: int) -> Response:
        return super().post(request, pk)

    def perform(self, challan: Challan, actor: User, data: dict[str, Any]) -> Challan:
        return services.challan_cancel(challan=challan, actor=actor, reason=data["reason"])


class ChallanContestApi(TransitionApi):
    input_serializer = RequiredReasonInputSerializer

    @_transition_schema(
        "contest", "Record a contest (appeals officer); clocks pause", RequiredReasonInputSerializer
    )
    def post(self, request: Request, pk: int) -> Response:
        return super().post(request, pk)

    def perform(self, challan: Challan, actor: User, data: dict[str, Any]) -> Challan:
        return services.challan_contest(challan=challan, actor=actor, reason=data["reason"])


class ChallanDecideContestApi(TransitionApi):
    input_serializer = DecideContestInputSerializer

    @_transition_schema(
        "decide_contest", "Decide a contest (appeals officer)", DecideContestInputSerializer
    )
    def post(self, request: Request, pk: int) -> Response:
        return super().post(request, pk)

    def perform(self, challan: Challan, actor: User, data: dict[str, Any]) -> Challan:
        return services.challan_decide_contest(
            challan=challan, actor=actor, upheld=data["upheld"], reason=data["reason"]
        )


class ChallanWaiveApi(TransitionApi):
    input_serializer = RequiredReasonInputSerializer

    @_transition_schema("waive", "Waive (supervisor)", RequiredReasonInputSerializer)
    def post(self, request: Request, pk: int) -> Response:
        return super().post(request, pk)

    def perform(self, challan: Challan, actor: User, data: dict[str, Any]) -> Challan:
        return services.challan_waive(challan=challan, actor=actor, reason=data["reason"])


class ChallanEscalateApi(TransitionApi):
    input_serializer = RequiredReasonInputSerializer

    @_transition_schema(
        "escalate", "Escalate an overdue challan (supervisor)", RequiredReasonInputSerializer
    )
    def post(self, request: Request, pk: int) -> Response:
        return super().post(request, pk)

    def perform(self, challan: Challan, actor: User, data: dict[str, Any]) -> Challan:
        return services.challan_escalate(challan=challan, actor=actor, reason=data["reason"])


class ChallanCloseApi(TransitionApi):
    @_transition_schema("close", "Close a settled case (supervisor)", ReasonInputSerializer)
    def post(self, request: Request, pk: int) -> Response:
        return super().post(request, pk)

    def perform(self, challan: Challan, actor: User, data: dict[str, Any]) -> Challan:
        return services.challan_close(challan=challan, actor=actor, reason=data["reason"])
