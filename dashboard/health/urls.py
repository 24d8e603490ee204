from django.urls import path

from dashboard.health import views

# No namespace: the top bar reverses the section name `status` as it is.
urlpatterns = [
    path("health", views.health, name="health"),
    path("status/", views.status, name="status"),
    path("heartbeats/<slug:name>", views.heartbeat, name="heartbeat"),
    path("heartbeats/<slug:name>/start", views.heartbeat, {"kind": "start"}, name="heartbeat-start"),
    path("heartbeats/<slug:name>/fail", views.heartbeat, {"kind": "fail"}, name="heartbeat-fail"),
]
