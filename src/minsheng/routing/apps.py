from django.apps import AppConfig


class RoutingConfig(AppConfig):
    """The classifier's Django side: the model store, retraining from the city's cases, the
    ``classify`` and ``retrain`` commands and ``POST /api/v1/classify``."""

    name = "minsheng.routing"
    label = "routing"

    def ready(self) -> None:
        from minsheng.cases import registry

        from . import classifier

        # Intake (minsheng.cases.intake) asks this for a case's category.
        registry.register_classifier(classifier.classify, classifier.classify_many)
