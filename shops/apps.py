from django.apps import AppConfig


class ShopsConfig(AppConfig):
    name = "shops"
    verbose_name = "Shops"

    def ready(self) -> None:
        from shops import checks  # noqa: F401 - registers the system checks (the app registry is ready here)
