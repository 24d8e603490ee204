from django.urls import path

from dashboard.health import views

# No namespace: the top bar reverses the section names `status` and `schedules` as they are.
urlpatterns = [
    path("health", views.health, name="health"),
    path("status/", views.status, name="status"),
    path("schedules/", views.schedules, name="schedules"),
    path("schedules/<slug:key>/run", views.schedule_run, name="schedule-run"),
    path("schedules/<slug:key>/pause", views.schedule_pause, name="schedule-pause"),
    path("schedules/<slug:key>/resume", views.schedule_resume, name="schedule-resume"),
    path("heartbeats/<slug:name>", views.heartbeat, name="heartbeat"),
    path("heartbeats/<slug:name>/start", views.heartbeat, {"kind": "start"}, name="heartbeat-start"),
    path("heartbeats/<slug:name>/fail", views.heartbeat, {"kind": "fail"}, name="heartbeat-fail"),
]
