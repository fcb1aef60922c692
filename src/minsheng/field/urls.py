from django.urls import path

from . import views

app_name = "field"
urlpatterns = [
    path("m/", views.tasks, name="tasks"),
    path("m/<int:pk>/", views.task, name="task"),
    path("m/<int:pk>/arrive/", views.arrive, name="arrive"),
    path("m/<int:pk>/handle/", views.handle, name="handle"),
    path("m/<int:pk>/photo/", views.photo, name="photo"),
    path("duty/", views.roster, name="roster"),
]
