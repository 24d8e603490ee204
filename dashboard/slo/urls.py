from django.urls import path

from dashboard.slo import views

urlpatterns = [
    path("slo/", views.slo, name="slo"),
    path("slo/daily/", views.slo_daily, name="slo_daily"),
    path("slo/daily/<str:day>/", views.slo_daily_detail, name="slo_daily_detail"),
]
