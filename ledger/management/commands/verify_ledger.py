import time

from django.core.management.base import BaseCommand, CommandError

from ledger.verification import NoTrustedKey, verify_ledger


class Command(BaseCommand):
    help = (
        "Re-derives the ledger: leaf hashes, tree, block signatures and chain, checkpoints, "
        "stored proof nodes, every ledgered record against its newest entry, and the tree against "
        "the checkpoints its peers cosigned."
    )
    requires_system_checks = []  # a restored database is a finding here, not a reason not to look

    def add_arguments(self, parser):
        parser.add_argument("--key", action="append", default=[], help=(
            "a trusted verifier key (besides LEDGER_TRUSTED_KEYS and the signing key file's); repeatable"))
        parser.add_argument("--no-records", action="store_true", help="skip the record-state check")
        parser.add_argument("--offline", action="store_true",
                            help="check against the peers' cosignatures stored here, without asking the peers")

    def handle(self, *args, key, no_records, offline, **options):
        started = time.monotonic()

        def progress(message):
            self.stderr.write(f"[{time.monotonic() - started:6.1f}s] {message}")

        try:
            findings = verify_ledger(keys=key, progress=progress, records=not no_records, offline=offline)
        except (NoTrustedKey, ValueError) as exc:  # ValueError: a malformed --key
            raise CommandError(str(exc)) from None
        for finding in findings:
            self.stdout.write(str(finding))
        if findings:
            raise CommandError(f"{len(findings)} finding(s): the ledger does not verify.")
        self.stdout.write(self.style.SUCCESS("The ledger verifies: no findings."))
