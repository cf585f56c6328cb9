"""Backups: `manage.py backup` writes the database encrypted for the backup key, with its tree head."""
import sqlite3
import subprocess
from io import StringIO

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import translation

from ledger import backup, services
from ledger.models import LedgerState
from tests.ledgerapp.models import Record

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def english():
    """The messages checked in English (zh-hans is the default; one test checks it)."""
    with translation.override("en"):
        yield


def snapshot_titles(plain) -> list[str]:
    """The titles of the test records in a decrypted snapshot: an SQLite file, or a pg_dump archive."""
    if connection.vendor == "sqlite":
        with sqlite3.connect(plain) as db:
            return sorted(row[0] for row in db.execute(f"SELECT title FROM {Record._meta.db_table}"))
    table = Record._meta.db_table
    dump = subprocess.run(["pg_restore", "--data-only", "-t", table, "-f", "-", str(plain)],
                          capture_output=True, text=True, check=True).stdout
    lines = dump[dump.index(f"COPY public.{table} ("):].splitlines()
    columns = lines[0].split("(", 1)[1].split(")", 1)[0].split(", ")
    rows = lines[1:lines.index("\\.")]
    return sorted(row.split("\t")[columns.index("title")] for row in rows)


def make_items(count: int):
    for i in range(count):
        Record.objects.create(title=f"item {i}")


def test_backup_round_trips_with_the_tree_head(tmp_path):
    make_items(3)
    services.ledger_seal_all()
    make_items(2)  # unsealed at backup time: in the snapshot, not in the tree head
    state = LedgerState.objects.get(pk=1)
    out, err = StringIO(), StringIO()
    call_command("backup", "--output", str(tmp_path / "b.gxb"), stdout=out, stderr=err)
    assert f"tree size {state.tree_size}," in out.getvalue() and "100%" in err.getvalue()
    zh = StringIO()
    with translation.override("zh-hans"):
        call_command("backup", "--output", str(tmp_path / "zh.gxb"), stdout=zh, stderr=StringIO())
    assert f"树大小 {state.tree_size}，" in zh.getvalue()
    header = backup.read_header(tmp_path / "b.gxb")
    assert (header["tree_size"], header["root"]) == (state.tree_size, bytes(state.root).hex())
    assert header["engine"] == connection.vendor and header["origin"] == settings.PORTAL_ORIGIN
    raw = (tmp_path / "b.gxb").read_bytes()
    assert b"item 0" not in raw and b"SQLite format" not in raw  # the peer holding it cannot read it
    header2 = backup.decrypt_file(tmp_path / "b.gxb", tmp_path / "plain", backup.backup_private_key())
    assert header2 == header
    assert snapshot_titles(tmp_path / "plain") == sorted([*(f"item {i}" for i in range(3)), "item 0", "item 1"])


def test_wrong_key_and_tampering_fail_clearly(tmp_path):
    make_items(1)
    services.ledger_seal_all()
    written = backup.backup(tmp_path / "b.gxb")
    other = tmp_path / "other.key"
    backup.create_backup_key(other)
    with pytest.raises(backup.BackupError, match="another backup key"):
        backup.decrypt_file(written.path, tmp_path / "plain", backup.backup_private_key(other))
    raw = bytearray(written.path.read_bytes())
    tampered = tmp_path / "t.gxb"
    size = written.header["tree_size"]
    assert f'"tree_size":{size}}}'.encode() in raw
    tampered.write_bytes(bytes(raw).replace(f'"tree_size":{size}}}'.encode(), f'"tree_size":{size + 1}}}'.encode()))
    with pytest.raises(backup.BackupError, match="does not decrypt"):
        backup.decrypt_file(tampered, tmp_path / "plain", backup.backup_private_key())
    tampered.write_bytes(bytes(raw[:-5]))
    with pytest.raises(backup.BackupError, match="truncated|does not decrypt"):
        backup.decrypt_file(tampered, tmp_path / "plain", backup.backup_private_key())
    tampered.write_bytes(b"not a backup")
    with pytest.raises(backup.BackupError, match="not a Gongxin backup"):
        backup.read_header(tampered)


def test_a_large_snapshot_spans_chunks(tmp_path, monkeypatch):
    monkeypatch.setattr(backup, "CHUNK", 4096)
    make_items(200)
    written = backup.backup(tmp_path / "b.gxb")
    backup.decrypt_file(written.path, tmp_path / "plain", backup.backup_private_key())
    assert len(snapshot_titles(tmp_path / "plain")) == 200
    raw = written.path.read_bytes()
    cut = tmp_path / "cut.gxb"
    cut.write_bytes(raw[: raw.index(b"\n", len(backup.MAGIC)) + 1 + 4 + 4096 + 16])  # one chunk only
    with pytest.raises(backup.BackupError, match="truncated|does not decrypt"):
        backup.decrypt_file(cut, tmp_path / "plain", backup.backup_private_key())


def test_missing_backup_key_is_a_clear_error(tmp_path, settings):
    settings.PORTAL_BACKUP_KEY_FILE = tmp_path / "none.key"
    with pytest.raises(CommandError, match="init_keys"):
        call_command("backup", "--output", str(tmp_path / "b.gxb"), stdout=StringIO(), stderr=StringIO())


def test_system_check_warns_of_a_missing_or_readable_backup_key(tmp_path, settings):
    from ledger.checks import check_backup_key

    assert check_backup_key() == []
    settings.PORTAL_BACKUP_KEY_FILE = tmp_path / "none.key"
    assert [w.id for w in check_backup_key()] == ["ledger.W010"]
    backup.create_backup_key(settings.PORTAL_BACKUP_KEY_FILE)
    settings.PORTAL_BACKUP_KEY_FILE.chmod(0o644)
    warnings = check_backup_key()
    assert [w.id for w in warnings] == ["ledger.W010"] and "chmod 600" in warnings[0].msg
