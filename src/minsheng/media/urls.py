from django.urls import path

from . import views

app_name = "media"
urlpatterns = [
    path("photos/<int:pk>/", views.staff_photo, name="photo"),
    path("photos/<int:pk>/thumb/", views.staff_photo, {"thumb": True}, name="thumb"),
    path("track/<str:token>/photos/<int:pk>/", views.public_photo, name="public_photo"),
    path(
        "track/<str:token>/photos/<int:pk>/thumb/", views.public_photo, {"thumb": True}, name="public_thumb"
    ),
]
