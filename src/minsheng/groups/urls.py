"""Mounted at ``groups/``: the joint group's actions on a case, and thread photos."""

from django.urls import path

from . import views

app_name = "groups"
urlpatterns = [
    path("cases/<int:pk>/<slug:action>/", views.group_action, name="action"),
    path("photos/<int:pk>/", views.photo, name="photo"),
]
