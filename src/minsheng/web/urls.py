"""The pages. Staff pages need a sign-in; ``/track/`` is public."""

from django.contrib.auth import views as auth_views
from django.urls import include, path

from . import account_views, calendar_views, case_views, seat_views, track, views
from .forms import SignInForm

app_name = "web"
urlpatterns = [
    path("", views.home, name="home"),
    path(
        "login/",
        auth_views.LoginView.as_view(
            template_name="web/login.html", authentication_form=SignInForm, redirect_authenticated_user=True
        ),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("account/two-factor/", account_views.two_factor, name="two_factor"),
    path("intake/", seat_views.seat, name="intake"),  # the seat's old address: the same page
    path("seat/", include("minsheng.web.seat_urls")),
    path("queue/", views.queue, name="queue"),
    path("inbox/", views.inbox, name="inbox"),
    path("field/", views.field, name="field"),
    path("overview/", views.overview, name="overview"),
    path("cases/", views.case_list, name="cases"),
    path("cases/<int:pk>/", case_views.case_page, name="case"),
    path("cases/<int:pk>/act/<slug:action>/", case_views.case_action, name="case_action"),
    path("cases/number/<str:number>/", case_views.case_by_number, name="case_by_number"),
    path("calendar/", calendar_views.calendar_index, name="calendar"),
    path("calendar/<int:year>/", calendar_views.calendar_year, name="calendar_year"),
    path("track/", track.track, name="track"),
    path("track/<str:token>/", track.track_token, name="track_token"),
]
