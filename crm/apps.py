"""App configuration for the CRM copy."""

from django.apps import AppConfig


class CrmConfig(AppConfig):
    name = "crm"
    verbose_name = "CRM"

    def ready(self) -> None:
        from . import receivers  # noqa: F401  (connects the signal receivers)
