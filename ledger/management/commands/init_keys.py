from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError, connection

from ledger import backup, keys
from ledger.recorder import ENTRY_TABLE
from portal import crypto


def existing_entries() -> tuple[int, int]:
    """(highest entry id + 1, number of entries) already in the database: their salts stay unkeyed."""
    try:
        if ENTRY_TABLE not in connection.introspection.table_names():
            return 0, 0
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT MAX(id), COUNT(*) FROM {ENTRY_TABLE}")
            highest, count = cursor.fetchone()
    except DatabaseError as exc:
        raise CommandError(
            f"Cannot read the database to find the entries made before the commitment key ({exc}). "
            "Check DATABASE_URL and run init_keys again.") from None
    return (highest + 1 if highest is not None else 0), count


class Command(BaseCommand):
    help = "Creates the signing, witness, pseudonym, commitment, data and backup keys (0600) that do not exist yet."
    requires_system_checks = []  # the checks would refuse to run until the keys exist

    def handle(self, *args, **options):
        signing = settings.PORTAL_SIGNING_KEY_FILE
        if signing.exists():
            self.stdout.write(f"Signing key exists: {signing}")
        else:
            keys.create_signing_key(signing, settings.PORTAL_ORIGIN)
            self.stdout.write(self.style.SUCCESS(f"Wrote signing key {signing}"))
        witness = settings.PORTAL_WITNESS_KEY_FILE
        if witness.exists():
            self.stdout.write(f"Witness key exists: {witness}")
        else:
            keys.create_witness_key(witness, settings.PORTAL_ORIGIN)
            self.stdout.write(self.style.SUCCESS(f"Wrote witness key {witness}"))
        for path, create in (
            (settings.PORTAL_PSEUDONYM_KEY_FILE, keys.create_pseudonym_key),
            (settings.PORTAL_DATA_KEYS_FILE, crypto.create_data_keys),
        ):
            if path.exists():
                self.stdout.write(f"Key exists: {path}")
            else:
                create(path)
                self.stdout.write(self.style.SUCCESS(f"Wrote {path}"))
        self.commitment_key()
        backup_key = settings.PORTAL_BACKUP_KEY_FILE
        if backup_key.exists():
            self.stdout.write(f"Backup key exists: {backup_key}")
        else:
            backup.create_backup_key(backup_key)
            self.stdout.write(self.style.SUCCESS(
                f"Wrote backup key {backup_key} (keep a copy apart: without it no backup can be read)"))
        self.stdout.write(f"Verifier key (publish it; auditors and peers need it):\n{keys.signer().verifier_key}")
        # One line each, for scripts that configure peers (`peers add --log-key … --witness-key …`).
        self.stdout.write(f"log key: {keys.signer().verifier_key}")
        self.stdout.write(f"witness key: {keys.witness_signer().verifier_key}")

    def commitment_key(self):
        path = settings.PORTAL_COMMITMENT_KEY_FILE
        if path.exists():
            self.stdout.write(f"Key exists: {path}")
            return
        below, count = existing_entries()
        keys.create_commitment_key(path, legacy_below=below, legacy_count=count)
        self.stdout.write(self.style.SUCCESS(f"Wrote {path}"))
        if count:
            self.stdout.write(
                f"The {count} entries already in the database (ids below {below}) keep their unkeyed "
                "salts; verify_ledger checks that no entry is added among them.")
