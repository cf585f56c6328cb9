"""Fixtures of the transparency tests: the land registry's world, sealed; a shared licence."""
import pytest

from ledger import services
from tests.land_registry.conftest import World


@pytest.fixture
def world():
    world = World()
    services.ledger_seal_all()
    return world


def shared_licence() -> str:
    """A driving licence of a new citizen, shared (vehicle class only) for a week: the share's token."""
    from licenses import services as licence_services
    from licenses.models import Department, LicenceType
    from portal.models import Role, User
    from tests.licenses.conftest import in_days, issue_driving

    department = Department.objects.create(code="transport", name="Transport Bureau")
    driving = LicenceType.objects.create(code="driving", name="Driving licence", department=department, fields=[
        {"name": "vehicle_class", "label": "Vehicle class", "personal": False},
        {"name": "birth_date", "label": "Date of birth", "personal": True},
    ])
    licence = issue_driving(driving, User.objects.create_user("holder", password="pw", role=Role.CITIZEN))
    _share, token = licence_services.share_create(licence=licence, fields=["vehicle_class"],
                                                  expires_at=in_days(7), purpose="rental")
    return token


def cosigned_by_peers(*names: str, forged: str = "") -> None:
    """Peers (witness keys of their own) that cosigned the newest checkpoint, as anchoring stores them;
    the peer named `forged` cosigned another root."""
    import time

    from ledger import selectors
    from ledger.models import Cosignature
    from ledger.tlog import checkpoint as tcheckpoint
    from ledger.tlog import note

    newest = selectors.checkpoint_latest()
    body, _signatures = note.parse_note(newest.note)
    checkpoint = tcheckpoint.parse_checkpoint(body)
    for name in names:
        signer_key, witness_key = tcheckpoint.generate_cosignature_key(name)
        _log_signer, log_key = note.generate_key(name)
        peer = services.peer_add(origin=name, url=f"https://{name}", log_key=log_key, witness_key=witness_key)
        signed = checkpoint if name != forged else tcheckpoint.Checkpoint(
            checkpoint.origin, checkpoint.size, bytes(32))
        now = int(time.time())
        line = tcheckpoint.cosign(signed, tcheckpoint.CosignatureSigner(signer_key), now)
        Cosignature.objects.create(peer=peer, tree_size=newest.tree_size, line=line, timestamp=now)
