from django.apps import AppConfig


class AnprConfig(AppConfig):
    name = "anpr"
    verbose_name = "Cameras and plate reading"
