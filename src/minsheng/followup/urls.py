"""Mounted at ``followup/``: the follow-up queue (回访)."""

from django.urls import path

from . import views

app_name = "followup"
urlpatterns = [
    path("", views.queue, name="queue"),
    path("<int:pk>/answer/", views.answer, name="answer"),
]
