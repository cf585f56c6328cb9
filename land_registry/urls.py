from django.urls import path

from land_registry import api, views

app_name = "land_registry"

urlpatterns = [
    path("land/", views.search, name="search"),
    path("land/parcels/<str:ref>/", views.parcel, name="parcel"),
    path("land/parcels/<str:ref>/extract/", views.extract, name="extract"),
    path("land/parcels/<str:ref>/follow", views.follow, name="follow"),
    path("land/claim/", views.claim, name="claim"),
    path("land/mine/", views.mine, name="mine"),
    path("land/mine/<str:ref>/", views.my_parcel, name="my-parcel"),
    path("land/registrations/<str:ref>/consent", views.consent, name="consent"),
    path("land/notices/", views.notices, name="notices"),
    path("api/land/parcels", api.ParcelSearchApi.as_view(), name="api-parcels"),
    path("api/land/parcels/<str:ref>", api.ParcelDetailApi.as_view(), name="api-parcel"),
    path("api/land/parcels/<str:ref>/timeline", api.ParcelTimelineApi.as_view(), name="api-timeline"),
    path("api/land/parcels/<str:ref>/follow", api.ParcelFollowApi.as_view(), name="api-follow"),
]
