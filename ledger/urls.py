from django.urls import path

import portal.converters  # noqa: F401  (registers the "index" path converter)
from ledger import api, views

app_name = "ledger"

urlpatterns = [
    path("ledger/checkpoint", views.checkpoint, name="checkpoint"),
    path("api/ledger/entries/<index:index>", api.EntryView.as_view(), name="api-entry"),
    path("api/ledger/proofs/inclusion", api.InclusionProofView.as_view(), name="api-inclusion"),
    path("api/ledger/proofs/consistency", api.ConsistencyProofView.as_view(), name="api-consistency"),
    path("api/ledger/blocks/<index:height>", api.BlockView.as_view(), name="api-block"),
]
