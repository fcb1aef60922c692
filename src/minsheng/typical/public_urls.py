"""The public page of typical cases (典型案例), open to everyone at ``typical-cases/``."""

from django.urls import path

from . import views

app_name = "typical_public"
urlpatterns = [
    path("", views.public_list, name="list"),
    path("<int:pk>/", views.public_detail, name="detail"),
    path("<int:pk>/photo/<str:which>/", views.public_photo, name="photo"),
]
