from django.urls import path

from . import views

app_name = "transfer"

urlpatterns = [
    path("", views.index, name="index"),
    path("lists/", views.lists, name="lists"),
    path("incoming/<int:transfer_id>/accept/", views.accept, name="accept"),
    path("incoming/<int:transfer_id>/return/", views.return_, name="return"),
    path("cases/<int:case_id>/to-110/", views.to_police, name="to_police"),
]
