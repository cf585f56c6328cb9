from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.templatetags.static import static
from django.urls import include, path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView

from portal import views
from portal.forms import LoginForm

urlpatterns = [
    path("", views.home, name="home"),
    # Browsers ask for /favicon.ico on pages without a <link rel="icon"> (the admin's).
    path("favicon.ico", RedirectView.as_view(url=static("favicon.svg"), permanent=True)),
    path("accounts/login/", views.LoginView.as_view(form_class=LoginForm), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("department/", include("licenses.department_urls")),
    path("api/schema", SpectacularAPIView.as_view(), name="api-schema"),
    # The busiest public reads first: each include tried before the one that matches costs every
    # pattern it holds (Django lists them for the 404 page). None of these overlap another's paths.
    path("", include("transparency.urls")),
    path("", include("ledger.urls")),
    path("", include("licenses.urls")),
    path("", include("land_registry.urls")),
]

handler400 = "portal.views.bad_request"
handler403 = "portal.views.permission_denied"
handler404 = "portal.views.page_not_found"
handler500 = "portal.views.server_error"
