"""Mounted at ``knowledge/``: the knowledge base's pages."""

from django.urls import path

from . import views

app_name = "knowledge"
urlpatterns = [
    path("", views.article_list, name="list"),
    path("new/", views.article_new, name="new"),
    path("ask/", views.ask, name="ask"),
    path("<int:pk>/", views.article_detail, name="article"),
    path("<int:pk>/edit/", views.article_edit, name="edit"),
    path("<int:pk>/<slug:action>/", views.article_action, name="action"),
]
