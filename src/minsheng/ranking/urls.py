"""Mounted at ``ranking/``: the month's ranking and its report files."""

from django.urls import path

from . import views

app_name = "ranking"
urlpatterns = [
    path("", views.ranking, name="ranking"),
    path("<str:month>/report.pdf", views.report_pdf, name="pdf"),
    path("<str:month>/report.xlsx", views.report_xlsx, name="xlsx"),
]
