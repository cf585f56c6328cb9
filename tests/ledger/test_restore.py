"""`manage.py restore`: a backup into an empty database, the ledger made whole from a peer's mirror
(this portal served on loopback as its own peer), and the report of what changed after the backup."""
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import translation

from ledger import backup, highwater, mirror, publish, services
from ledger.models import Entry, LedgerState
from ledger.verification import verify_ledger
from tests.ledgerapp.models import Record

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def peer(live_server, tmp_path, settings):
    settings.LEDGER_TILES_DIR = tmp_path / "tiles"
    settings.LEDGER_MIRROR_DIR = tmp_path / "mirror"
    services.peer_add(origin=settings.PORTAL_ORIGIN, url=live_server.url,
                      log_key=services.keys.signer().verifier_key)
    return live_server.url


def seal_and_mirror():
    services.ledger_seal_all()
    publish.publish_tiles()
    outcomes = mirror.peers_mirror()
    assert all(not outcome.error and not outcome.alarm for outcome in outcomes), outcomes
    return LedgerState.objects.get(pk=1).tree_size


def empty_the_database():
    call_command("flush", interactive=False, verbosity=0)  # SQL, not the ORM: as a lost database


def restore(path, *extra):
    out, err = StringIO(), StringIO()
    with translation.override("en"):
        call_command("restore", str(path), *extra, stdout=out, stderr=err)
    return out.getvalue()


def test_restore_puts_back_every_sealed_entry_and_names_each_change_after_the_backup(peer, tmp_path):
    kept, changed, deleted = (Record.objects.create(title=t, amount=1) for t in ("kept", "changed", "deleted"))
    seal_and_mirror()
    written = backup.backup(tmp_path / "b.gxb")
    Record.objects.filter(pk=changed.pk).update(amount=2)
    deleted.delete()
    new = Record.objects.create(title="new after the backup")
    gone = Record.objects.create(title="created and deleted after the backup")
    gone.delete()
    size = seal_and_mirror()
    root = bytes(LedgerState.objects.get(pk=1).root)
    entries = list(Entry.objects.order_by("leaf__leaf_index").values_list("data", flat=True))

    empty_the_database()
    report = restore(written.path)

    assert LedgerState.objects.get(pk=1).tree_size == size and bytes(LedgerState.objects.get(pk=1).root) == root
    assert [bytes(d) for d in Entry.objects.order_by("leaf__leaf_index").values_list("data", flat=True)] == \
        [bytes(d) for d in entries]
    assert highwater.restore_problem() is None
    assert sorted(Record.objects.values_list("title", flat=True)) == ["changed", "deleted", "kept"]
    # The report names exactly the records changed after the backup, with the finding for each.
    assert f"{changed.public_ref} (verify_ledger: record-state)" in report
    assert f"{deleted.public_ref} (verify_ledger: record-deleted)" in report
    assert f"{new.public_ref} (verify_ledger: record-missing)" in report
    assert f"{gone.public_ref} (verify_ledger: none)" in report
    assert kept.public_ref not in report
    assert "4 records changed after the backup" in report
    findings = verify_ledger(peers=False)
    assert sorted((f.kind, f.where) for f in findings) == sorted([
        ("record-state", f"ledgerapp.record {changed.public_ref}"),
        ("record-deleted", f"ledgerapp.record {deleted.public_ref}"),
        ("record-missing", f"ledgerapp.record {new.public_ref}")])
    # Sealing goes on from the restored head.
    Record.objects.create(title="after the restore")
    assert services.ledger_seal_all()


def test_a_non_empty_database_is_refused(peer, tmp_path):
    Record.objects.create(title="there")
    seal_and_mirror()
    written = backup.backup(tmp_path / "b.gxb")
    with pytest.raises(CommandError, match="not empty"):
        restore(written.path)


def test_a_mirror_of_another_history_is_refused(peer, tmp_path, settings):
    Record.objects.create(title="a")
    seal_and_mirror()
    written = backup.backup(tmp_path / "b.gxb")
    empty_the_database()
    settings.LEDGER_MIRROR_DIR = tmp_path / "elsewhere"  # the peer mirrors nothing of this log now
    with pytest.raises(CommandError, match="No peer's mirror"):
        restore(written.path)


def test_a_backup_of_another_portal_or_key_is_refused(peer, tmp_path, settings):
    written = backup.backup(tmp_path / "b.gxb")
    empty_the_database()
    settings.PORTAL_BACKUP_KEY_FILE = tmp_path / "other.key"
    backup.create_backup_key(settings.PORTAL_BACKUP_KEY_FILE)
    with pytest.raises(CommandError, match="another backup key"):
        restore(written.path)
    settings.PORTAL_ORIGIN = "gongxin.example/elsewhere"
    with pytest.raises(CommandError, match="not of this portal"):
        restore(written.path)
    with pytest.raises(CommandError, match="is not a file"):
        restore(tmp_path / "none.gxb")


def test_entries_sealed_but_mirrored_nowhere_are_reported_lost(peer, tmp_path):
    Record.objects.create(title="a")
    seal_and_mirror()
    written = backup.backup(tmp_path / "b.gxb")
    Record.objects.create(title="mirrored")
    mirrored = seal_and_mirror()
    Record.objects.create(title="sealed, never mirrored")
    services.ledger_seal_all()
    empty_the_database()
    out = StringIO()
    with pytest.raises(CommandError, match="sealed entries are lost"), translation.override("en"):
        call_command("restore", str(written.path), stdout=out, stderr=StringIO())
    assert "The high-water mark is still ahead" in out.getvalue()
    assert LedgerState.objects.get(pk=1).tree_size == mirrored  # all that a mirror held came back
    assert highwater.restore_problem()
    call_command("acknowledge_restore", "--reason", "restored; the last block was never mirrored", stdout=StringIO())
    assert highwater.restore_problem() is None
