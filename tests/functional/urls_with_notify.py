"""The project's URLs with the notification pages mounted, for the header bell's test."""

from django.urls import include, path

from minsheng.urls import urlpatterns as project

urlpatterns = [path("notifications/", include("minsheng.notify.urls")), *project]
