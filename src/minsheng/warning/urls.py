"""Mounted at ``warnings/``: the list of warnings and topics, a topic's page."""

from django.urls import path

from . import views

app_name = "warning"
urlpatterns = [
    path("", views.topic_list, name="list"),
    path("<int:pk>/", views.topic, name="topic"),
    path("<int:pk>/close/", views.close, name="close"),
]
