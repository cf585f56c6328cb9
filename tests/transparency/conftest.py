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
