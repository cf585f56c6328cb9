import base64
import json

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from ledger.api import block_json
from ledger.models import Block, Checkpoint
from ledger.tlog.audit import EXPORT_FORMAT, EXPORT_VERSION
from ledger.verification import NoTrustedKey, block_dict, ledger_auditor, sealed_entries


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
        blocks = list(Block.objects.order_by("height"))
        size = blocks[-1].tree_size if blocks else 0
        try:
            auditor = ledger_auditor(key, tree_size=size)
        except (NoTrustedKey, ValueError) as exc:
            raise CommandError(str(exc)) from None
        b64 = base64.b64encode
        with open(file, "w", encoding="utf-8") as out:
            out.write(json.dumps({"format": EXPORT_FORMAT, "v": EXPORT_VERSION,
                                  "origin": settings.PORTAL_ORIGIN, "tree_size": size}) + "\n")
            count = 0
            for index, data, leaf in sealed_entries():
                if index >= size:
                    break
                auditor.add_entry(index, data, leaf)
                out.write(f'{{"type":"entry","index":{index},"data":"{b64(data).decode()}",'
                          f'"leaf_hash":"{b64(leaf).decode()}"}}\n')
                count += 1
                if count % 100_000 == 0:
                    self.stderr.write(f"{count} entries written")
            for block in blocks:
                auditor.add_block(block_dict(block))
                out.write(json.dumps({"type": "block", **block_json(block)}) + "\n")
            for note in Checkpoint.objects.order_by("tree_size").values_list("note", flat=True):
                auditor.add_checkpoint(note)
                out.write(json.dumps({"type": "checkpoint", "note": note}) + "\n")
        findings = auditor.finish()
        self.stdout.write(f"Wrote {count} entries and {len(blocks)} blocks to {file}.")
        self.stdout.write("Trusted verifier keys (given, or announced by a block a trusted key signed):")
        for verifier in auditor.trusted:
            self.stdout.write(f"  {verifier.verifier_key}")
        for finding in findings:
            self.stdout.write(str(finding))
        if findings:
            raise CommandError(
                f"{len(findings)} finding(s): the export does not verify with the trusted keys; do not "
                "publish it as this portal's ledger.")
        self.stdout.write(self.style.SUCCESS("The export verifies with the trusted keys."))
