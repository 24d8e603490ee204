from django.urls import include, path

from dashboard import views

urlpatterns = [
    path("", views.overview, name="overview"),
    path("audit/", views.audit, name="audit"),
    path("metrics", views.metrics, name="metrics"),
    path("alerts/", include("dashboard.alerts.urls")),
    path("runbook/", views.runbook, name="runbook"),
    path("runbook/<slug:doc>/", views.runbook, name="runbook-doc"),
    path("schedules/", views.schedules, name="schedules"),
    path("schedules/<slug:key>/run", views.schedule_run, name="schedule-run"),
    path("schedules/<slug:key>/pause", views.schedule_pause, name="schedule-pause"),
    path("schedules/<slug:key>/resume", views.schedule_resume, name="schedule-resume"),
    path("", include("dashboard.health.urls")),
    path("", include("dashboard.logs.urls")),
    path("", include("dashboard.slo.urls")),
]
