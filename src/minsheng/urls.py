from django.contrib import admin
from django.urls import include, path

from minsheng.api.api import api

# JSON under /api/ (503 with Retry-After when the database is unreachable), Django's page elsewhere.
handler500 = "minsheng.api.errors.server_error"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
    path("open311/v2/", include("minsheng.open311.urls")),
    path("enterprise/", include("minsheng.enterprise.urls")),
    path("proposals/", include("minsheng.proposals.urls")),
    path("transfer/", include("minsheng.transfer.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("account/", include("minsheng.accounts.urls")),
    path("stats/", include("minsheng.stats.urls")),
    path("sensors/", include("minsheng.sensors.urls")),
    path("groups/", include("minsheng.groups.urls")),
    path("knowledge/", include("minsheng.knowledge.urls")),
    path("calls/", include("minsheng.calls.urls")),
    path("followup/", include("minsheng.followup.urls")),
    path("command/", include("minsheng.command.urls")),
    path("warnings/", include("minsheng.warning.urls")),
    path("ranking/", include("minsheng.ranking.urls")),
    path("typical/", include("minsheng.typical.urls")),
    path("typical-cases/", include("minsheng.typical.public_urls")),
    path("notifications/", include("minsheng.notify.urls")),
    path("", include("minsheng.public.urls")),
    path("", include("minsheng.field.urls")),
    path("", include("minsheng.media.urls")),
    path("", include("minsheng.web.urls")),
]
