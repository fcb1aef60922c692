"""Staff pages at ``typical/``; the public page is in :mod:`.public_urls` at ``typical-cases/``."""

from django.urls import path

from . import views

app_name = "typical"
urlpatterns = [
    path("", views.queue, name="queue"),
    path("nominate/", views.nominate, name="nominate"),
    path("<int:pk>/", views.edit, name="edit"),
    path("<int:pk>/prepare/", views.prepare, name="prepare"),
    path("<int:pk>/approve/", views.approve, name="approve"),
    path("<int:pk>/withdraw/", views.withdraw, name="withdraw"),
]
