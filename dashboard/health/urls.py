from django.urls import path

from dashboard.health import views

# No namespace: the top bar reverses the section name `status` as it is.
urlpatterns = [
    path("health", views.health, name="health"),
    path("status/", views.status, name="status"),
]
