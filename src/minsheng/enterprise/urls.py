from django.urls import path

from . import views

app_name = "enterprise"

urlpatterns = [
    path("", views.enterprises, name="enterprises"),
    path("requests/new/", views.new_request, name="new_request"),
]
