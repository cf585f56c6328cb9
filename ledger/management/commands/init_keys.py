from django.conf import settings
from django.core.management.base import BaseCommand

from ledger import keys
from portal import crypto


class Command(BaseCommand):
    help = "Creates the signing, witness, pseudonym and data keys (mode 0600) that do not exist yet."
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
        self.stdout.write(f"Verifier key (publish it; auditors and peers need it):\n{keys.signer().verifier_key}")
        # One line each, for scripts that configure peers (`peers add --log-key … --witness-key …`).
        self.stdout.write(f"log key: {keys.signer().verifier_key}")
        self.stdout.write(f"witness key: {keys.witness_signer().verifier_key}")
