from django.apps import AppConfig


class ShopsConfig(AppConfig):
    name = "shops"
    verbose_name = "Shops"

    def ready(self):
        # Django start-up: checks is imported once the apps are ready, like every room's.
        from shops import checks  # noqa: F401 - registers the settings checks
