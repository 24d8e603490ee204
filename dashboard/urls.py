from django.urls import include, path

from dashboard import views

urlpatterns = [
    path("", views.overview, name="overview"),
    path("audit/", views.audit, name="audit"),
    path("metrics", views.metrics, name="metrics"),
    path("alerts/", include("dashboard.alerts.urls")),
    path("", include("dashboard.health.urls")),
    path("", include("dashboard.logs.urls")),
    path("", include("dashboard.slo.urls")),
]
