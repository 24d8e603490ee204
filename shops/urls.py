from django.urls import path

from shops import views

# Plain names (no namespace): the top bar links the section by the URL name "shops".
urlpatterns = [
    path("", views.shop_list, name="shops"),
    path("<int:pk>/check/", views.shop_check, name="shop_check"),
    path("synthetic/", views.synthetic_page, name="shops_synthetic"),
    path("synthetic/send/", views.synthetic_send, name="shops_synthetic_send"),
    path("synthetic/<int:pk>/", views.synthetic_run, name="shops_synthetic_run"),
]
