from django.urls import path

from anpr import api

app_name = "anpr"

urlpatterns = [
    path("violations/", api.ViolationIngestApi.as_view(), name="violation-ingest"),
    path("violations/<int:pk>/", api.ViolationStatusApi.as_view(), name="violation-status"),
    path("cameras/hikvision/", api.HikvisionEventApi.as_view(), name="hikvision-event"),
    path("cameras/dahua/", api.DahuaEventApi.as_view(), name="dahua-event"),
]
