"""Source documents (contracts, court orders) are ciphertext on disk, opened only for the clerks of the
registration's office, and re-encrypted by `rotate_data_keys` with the other personal data."""
import hashlib
import shutil

import pytest
from cryptography.fernet import Fernet
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.urls import reverse

from land_registry.models import Registration, SourceDocument
from ledger.services import ledger_seal
from ledger.verification import verify_ledger
from portal import crypto

pytestmark = pytest.mark.django_db
CONTRACT = "房屋买卖合同 出卖人 张伟 110101199003076544".encode() + b" %PDF-1.4"


@pytest.fixture
def document(client, world):
    client.force_login(world.maker)
    response = client.post(reverse("admin:land_registry_registration_add"), {
        "office": world.x.pk, "kind": "caveat", "parcels": [world.parcel.pk],
        "holder": world.li.pk, "legal_date": "2024-03-01", "reason": "预告登记",
        "document_title_1": "买卖合同", "document_1": SimpleUploadedFile("合同 张伟.pdf", CONTRACT)})
    assert response.status_code == 302
    return SourceDocument.objects.get()


def document_url(document):
    return reverse("admin:land_registry_registration_document", args=[document.registration_id, document.pk])


def test_the_file_on_disk_is_ciphertext_readable_by_the_owner_only(document, settings):
    path = settings.MEDIA_ROOT / document.file.name
    stored = path.read_bytes()
    assert b"110101199003076544" not in stored and "张伟".encode() not in stored and b"%PDF" not in stored
    assert crypto.data_fernet().decrypt(stored) == CONTRACT
    assert "张伟" not in document.file.name and "合同" not in document.file.name
    assert path.stat().st_mode & 0o077 == 0 and path.parent.stat().st_mode & 0o077 == 0
    assert document.sha256 == hashlib.sha256(CONTRACT).hexdigest()  # the ledger commits to the content


def test_only_the_offices_clerks_open_a_document(client, world, document):
    target = document_url(document)
    client.force_login(world.checker)
    response = client.get(target)
    assert response.status_code == 200 and response.content == CONTRACT
    assert "no-store" in response["Cache-Control"] and "attachment" in response["Content-Disposition"]
    page = client.get(reverse("admin:land_registry_registration_change", args=[document.registration_id]))
    assert target in page.content.decode()
    client.force_login(world.clerk_y)
    assert client.get(target).status_code == 404
    other = Registration.objects.create(office=world.x, kind="caveat", reason="x", legal_date="2024-01-01",
                                        prepared_by=world.maker)
    client.force_login(world.checker)
    wrong_pair = reverse("admin:land_registry_registration_document", args=[other.pk, document.pk])
    assert client.get(wrong_pair).status_code == 404
    for user in (world.citizen_a, None):
        client.logout()
        if user:
            client.force_login(user)
        response = client.get(target)
        assert response.status_code == 302 and "/admin/login/" in response["Location"]
    assert client.get(settings_media_url(document)).status_code == 404  # never served as a plain file


def settings_media_url(document):
    from django.conf import settings

    return f"{settings.MEDIA_URL or '/media/'}{document.file.name}"


def test_rotating_the_data_keys_re_encrypts_the_documents(client, world, document, settings, tmp_path):
    keys = tmp_path / "data.keys"
    shutil.copy(settings.PORTAL_DATA_KEYS_FILE, keys)
    settings.PORTAL_DATA_KEYS_FILE = keys
    path = settings.MEDIA_ROOT / document.file.name
    before = path.read_bytes()
    old_key = keys.read_text().split()[0]
    call_command("rotate_data_keys")
    after = path.read_bytes()
    assert after != before and not any(path.parent.glob("*.rotating"))
    new_key = keys.read_text().split()[0]
    assert new_key != old_key
    assert Fernet(new_key.encode()).decrypt(after) == CONTRACT
    keys.write_text(new_key + "\n")  # the old key is gone: documents and fields still open
    client.force_login(world.checker)
    assert client.get(document_url(document)).content == CONTRACT
    world.zhang.refresh_from_db()
    assert world.zhang.name == "张伟"
    ledger_seal()
    assert verify_ledger() == []  # the content, and so its committed digest, did not change
    # Back under the suite's own key, which the checks after each test read with.
    keys.write_text(old_key + "\n" + new_key + "\n")
    crypto.reencrypt_all()
