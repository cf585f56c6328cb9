from django.urls import path

import portal.converters  # noqa: F401  (registers the "index" path converter)
from transparency import views

app_name = "transparency"

urlpatterns = [
    path("transparency/", views.dashboard, name="dashboard"),
    path("transparency/block/<index:height>/", views.block, name="block"),
    path("transparency/entry/<index:index>/", views.entry, name="entry"),
    path("transparency/search", views.search, name="search"),
    path("transparency/downloads/", views.downloads, name="downloads"),
    path("transparency/downloads/ledger-export.jsonl", views.download_export, name="download-export"),
    path("api/transparency/latest", views.latest, name="latest"),
    path("api/ledger/stats", views.stats, name="stats"),
]
