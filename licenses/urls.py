from django.urls import path

from licenses import api, views

app_name = "licenses"

urlpatterns = [
    # Citizens' pages
    path("licences/", views.licence_list, name="list"),
    path("licences/shares/", views.share_list, name="shares"),
    path("licences/shares/<str:ref>/", views.share_detail, name="share"),
    path("licences/shares/<str:ref>/revoke", views.share_revoke, name="share-revoke"),
    path("licences/authorisations/", views.authorisation_list, name="authorisations"),
    path("licences/authorisations/<str:ref>/<str:decision>", views.authorisation_decide,
         name="authorisation-decide"),
    path("licences/usage/", views.usage_list, name="usage"),
    path("licences/verify/<str:token>", views.verify, name="verify"),
    path("licences/<str:ref>/", views.licence_detail, name="detail"),
    path("licences/<str:ref>/share", views.share_create, name="share-create"),
    # API
    path("api/licences/", api.LicenceListApi.as_view(), name="api-list"),
    path("api/licences/shares/", api.ShareListApi.as_view(), name="api-shares"),
    path("api/licences/shares/create", api.ShareCreateApi.as_view(), name="api-share-create"),
    path("api/licences/shares/<str:ref>/revoke", api.ShareRevokeApi.as_view(), name="api-share-revoke"),
    path("api/licences/shares/<str:token>/verify", api.ShareVerifyApi.as_view(), name="api-share-verify"),
    path("api/licences/presentations/check", api.PresentationCheckApi.as_view(), name="api-check"),
    path("api/licences/authorisations/", api.AuthorisationListApi.as_view(), name="api-authorisations"),
    path("api/licences/authorisations/request", api.AuthorisationRequestApi.as_view(),
         name="api-authorisation-request"),
    path("api/licences/authorisations/<str:ref>/approve", api.AuthorisationApproveApi.as_view(),
         name="api-authorisation-approve"),
    path("api/licences/authorisations/<str:ref>/refuse", api.AuthorisationRefuseApi.as_view(),
         name="api-authorisation-refuse"),
    path("api/licences/authorisations/<str:ref>/end", api.AuthorisationEndApi.as_view(),
         name="api-authorisation-end"),
    path("api/licences/authorisations/<str:ref>/read", api.AuthorisationReadApi.as_view(),
         name="api-authorisation-read"),
    path("api/licences/usage/", api.UsageListApi.as_view(), name="api-usage"),
    path("api/licences/<str:ref>", api.LicenceDetailApi.as_view(), name="api-detail"),
]
