from django.urls import path

from . import views

app_name = "public"
urlpatterns = [
    path("report/", views.report, name="report"),
    path("report/map.json", views.map_json, name="map"),
    path("report/sent/<str:token>/", views.sent, name="sent"),
    path("partners/join/", views.join, name="join"),
    path("partners/", views.partner_list, name="partners"),
    path("partners/<int:pk>/", views.partner_detail, name="partner"),
]
