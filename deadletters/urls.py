from django.urls import path

from deadletters import views

app_name = "deadletters"

urlpatterns = [
    path("", views.dead_letter_list, name="list"),
    path("counts/", views.counts, name="counts"),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/row/", views.row, name="row"),
    path("<int:pk>/raw/", views.raw_body, name="raw"),
    path("<int:pk>/replay/", views.replay, name="replay"),
    path("<int:pk>/delete/", views.delete, name="delete"),
    path("bulk/", views.bulk_list, name="bulk_list"),
    path("bulk/new/", views.bulk_preview, name="bulk_preview"),
    path("bulk/confirm/", views.bulk_confirm, name="bulk_confirm"),
    path("bulk/<int:pk>/", views.bulk_detail, name="bulk_detail"),
    path("bulk/<int:pk>/cancel/", views.bulk_cancel, name="bulk_cancel"),
]
