from django.urls import path

from dashboard.alerts import views

urlpatterns = [
    path("", views.alerts, name="alerts"),
    path("<int:pk>/acknowledge/", views.acknowledge, name="alerts_acknowledge"),
    path("test-notification/", views.test_notification, name="alerts_test_notification"),
]
