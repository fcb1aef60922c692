"""In-app notifications: the list behind the bell, and marking read.

Include with ``path("notifications/", include("minsheng.notify.urls"))``.
"""

from django.urls import path

from . import views

app_name = "notify"
urlpatterns = [
    path("", views.notification_list, name="list"),
    path("bell/", views.bell, name="bell"),
    path("<int:pk>/read/", views.mark_read, name="read"),
    path("read-all/", views.mark_all_read, name="read_all"),
]
