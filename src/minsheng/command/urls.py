"""The command centre's screen, under ``/command/``."""

from django.urls import path

from . import views

app_name = "command"
urlpatterns = [
    path("", views.screen, name="screen"),
    path("data.json", views.data, name="data"),
    path("panels/", views.panels, name="panels"),
    path("map.json", views.map_data, name="map"),
    path("feed/", views.feed, name="feed"),
]
