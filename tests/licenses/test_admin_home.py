"""The admin's home shows a licence clerk the licences of their departments that end soon."""
import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.licenses.conftest import issue_driving

pytestmark = pytest.mark.django_db

HOME = reverse("admin:index")


def test_licences_ending_soon_for_the_clerks_department_only(client, clerk_transport, clerk_civil, driving,
                                                               marriage, alice, bob):
    soon = issue_driving(driving, alice, number="D-SOON", until=timezone.localdate() + dt.timedelta(days=10))
    issue_driving(driving, bob, number="D-LATER", until=timezone.localdate() + dt.timedelta(days=300))
    client.force_login(clerk_transport)
    page = client.get(HOME).content.decode()
    assert "Licences of your departments ending within 30 days (1)" in page
    assert "D-SOON" in page and "D-LATER" not in page
    assert reverse("admin:licenses_licence_change", args=[soon.pk]) in page
    client.force_login(clerk_civil)
    page = client.get(HOME).content.decode()
    assert "D-SOON" not in page and "None ends soon." in page
