from django.apps import AppConfig


class CatalogConfig(AppConfig):
    name = "minsheng.catalog"
    label = "catalog"
