from django.apps import AppConfig


class PlacesConfig(AppConfig):
    name = "minsheng.places"
    label = "places"
