from django.apps import AppConfig


class ChallanConfig(AppConfig):
    name = "challan"
    verbose_name = "Challans"
