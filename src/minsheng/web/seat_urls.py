"""The operator's seat (mounted at ``seat/`` in the ``web`` namespace): the page and the
fragments its panels load."""

from django.urls import path

from . import seat_views

urlpatterns = [
    path("", seat_views.seat, name="seat"),
    path("caller/", seat_views.seat_caller, name="seat_caller"),
    path("calls/<str:call_id>/take/", seat_views.seat_take, name="seat_take"),
    path("assist/", seat_views.seat_assist, name="seat_assist"),
    path("places/", seat_views.seat_places, name="seat_places"),
    path("articles/<str:code>/", seat_views.seat_article, name="seat_article"),
    path("answer/", seat_views.seat_answer, name="seat_answer"),
]
