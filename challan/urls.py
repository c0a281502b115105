from django.urls import path

from challan import api

app_name = "challan"

urlpatterns = [
    path("offences/", api.OffenceScheduleApi.as_view(), name="offence-schedule"),
    path("challans/feed/", api.StatusFeedApi.as_view(), name="status-feed"),
    path("challans/review-queue/", api.ReviewQueueApi.as_view(), name="review-queue"),
    path("challans/by-number/<str:number>/", api.ChallanByNumberApi.as_view(), name="by-number"),
    path("challans/by-plate/<str:plate>/", api.ChallansByPlateApi.as_view(), name="by-plate"),
    path("challans/<int:pk>/", api.ChallanDetailApi.as_view(), name="detail"),
    path(
        "challans/<int:pk>/confirm-plate/",
        api.ChallanConfirmPlateApi.as_view(),
        name="confirm-plate",
    ),
    path("challans/<int:pk>/approve/", api.ChallanApproveApi.as_view(), name="approve"),
    path("challans/<int:pk>/reject/", api.ChallanRejectApi.as_view(), name="reject"),
    path("challans/<int:pk>/reopen/", api.ChallanReopenApi.as_view(), name="reopen"),
    path("challans/<int:pk>/issue/", api.ChallanIssueApi.as_view(), name="issue"),
    path("challans/<int:pk>/cancel/", api.ChallanCancelApi.as_view(), name="cancel"),
    path("challans/<int:pk>/contest/", api.ChallanContestApi.as_view(), name="contest"),
    path(
        "challans/<int:pk>/decide-contest/",
        api.ChallanDecideContestApi.as_view(),
        name="decide-contest",
    ),
    path("challans/<int:pk>/waive/", api.ChallanWaiveApi.as_view(), name="waive"),
    path("challans/<int:pk>/escalate/", api.ChallanEscalateApi.as_view(), name="escalate"),
    path("challans/<int:pk>/close/", api.ChallanCloseApi.as_view(), name="close"),
]
