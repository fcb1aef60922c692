from django.urls import path

from . import views

app_name = "proposals"

urlpatterns = [
    path("", views.desk, name="desk"),
    path("track/", views.track, name="track"),
    path("cases/<int:case_id>/contact/", views.contact, name="contact"),
    path("cases/<int:case_id>/reply/", views.reply, name="reply"),
    path("cases/<int:case_id>/verdict/", views.verdict, name="verdict"),
]
