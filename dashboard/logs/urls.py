from django.urls import path

from dashboard.logs import views

# Included from dashboard/urls.py at the root: the URL names are part of the top bar's contract.
urlpatterns = [
    path("logs/", views.tail, name="logs"),
    path("logs/ingest", views.ingest, name="logs-ingest"),
]
