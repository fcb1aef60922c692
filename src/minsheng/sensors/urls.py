"""The sensor pages, under ``/sensors/``."""

from django.urls import path

from . import views

app_name = "sensors"
urlpatterns = [
    path("", views.device_list, name="devices"),
    path("map.json", views.map_data, name="map_data"),
    path("case/<int:case_id>/panel/", views.case_panel, name="case_panel"),
    path("commands/<str:command_id>.json", views.command_status, name="command_status"),
    path("<slug:device_id>/", views.device_page, name="device"),
    path("<slug:device_id>/series.json", views.series, name="series"),
    path("<slug:device_id>/command/", views.send_command, name="command"),
]
