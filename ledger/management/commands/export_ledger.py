from django.core.management.base import BaseCommand, CommandError

from ledger.export import write_export
from ledger.verification import NoTrustedKey


class Command(BaseCommand):
    help = (
        "Writes the sealed ledger (entries, blocks, checkpoints) to FILE as JSON Lines; verify it "
        "offline with `python -m ledger.tlog.audit FILE --key VERIFIER_KEY`. It is checked while "
        "written against the keys trusted from outside the database: any finding is printed and "
        "the command fails, and only trusted keys are listed."
    )

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--key", action="append", default=[], help="a trusted verifier key; repeatable")

    def handle(self, *args, file, key, **options):
        try:
            result = write_export(file, key, progress=lambda n: self.stderr.write(f"{n} entries written"))
        except (NoTrustedKey, ValueError) as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(f"Wrote {result.entries} entries and {result.blocks} blocks to {file}.")
        self.stdout.write("Trusted verifier keys (given, or announced by a block a trusted key signed):")
        for verifier_key in result.trusted:
            self.stdout.write(f"  {verifier_key}")
        for finding in result.findings:
            self.stdout.write(str(finding))
        if result.findings:
            raise CommandError(
                f"{len(result.findings)} finding(s): the export does not verify with the trusted keys; do not "
                "publish it as this portal's ledger.")
        self.stdout.write(self.style.SUCCESS("The export verifies with the trusted keys."))
