"""A person's account pages. Include with ``path("account/", include("minsheng.accounts.urls"))``."""

from django.urls import path

from . import views

app_name = "accounts"
urlpatterns = [
    path("tokens/", views.tokens_page, name="tokens"),
    path("tokens/new/", views.new_token, name="new_token"),
    path("tokens/<int:pk>/revoke/", views.revoke, name="revoke_token"),
]
