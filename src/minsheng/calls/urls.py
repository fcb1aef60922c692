"""Mounted at ``calls/``: the callback queue (漏接回拨)."""

from django.urls import path

from . import views

app_name = "calls"
urlpatterns = [
    path("callbacks/", views.callbacks, name="callbacks"),
    path("callbacks/<int:pk>/", views.callback_detail, name="callback"),
    path("callbacks/<int:pk>/outcome/", views.callback_outcome, name="callback_outcome"),
]
