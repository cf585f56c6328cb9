from django.urls import path

import portal.converters  # noqa: F401  (registers the "index" path converter)
from ledger import api, views

app_name = "ledger"

urlpatterns = [
    path("ledger/checkpoint", views.checkpoint, name="checkpoint"),
    path("ledger/witness/key", views.witness_key, name="witness-key"),
    path("ledger/witness/add-checkpoint", views.witness_add_checkpoint, name="witness-add-checkpoint"),
    path("ledger/witness/<str:origin_hash>/checkpoint", views.witnessed_checkpoint, name="witnessed-checkpoint"),
    path("ledger/backups/<str:origin_hash>", views.peer_backup, name="peer-backup"),
    path("log/<path:path>", views.log_file, name="log-file"),
    path("mirror/<str:origin_hash>/<path:path>", views.mirror_file, name="mirror-file"),
    path("api/ledger/entries/<index:index>", api.EntryView.as_view(), name="api-entry"),
    path("api/ledger/proofs/inclusion", api.InclusionProofView.as_view(), name="api-inclusion"),
    path("api/ledger/proofs/consistency", api.ConsistencyProofView.as_view(), name="api-consistency"),
    path("api/ledger/blocks/<index:height>", api.BlockView.as_view(), name="api-block"),
    path("api/ledger/anchoring", api.AnchoringView.as_view(), name="api-anchoring"),
    path("api/ledger/alarms", api.AlarmsView.as_view(), name="api-alarms"),
    path("api/ledger/witnessed", api.WitnessedView.as_view(), name="api-witnessed"),
]
