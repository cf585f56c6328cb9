import base64
import json

from django.conf import settings
from django.core.management.base import BaseCommand

from ledger.api import block_json
from ledger.models import Block, Checkpoint, LedgerKey
from ledger.tlog.audit import EXPORT_FORMAT, EXPORT_VERSION
from ledger.verification import sealed_entries


class Command(BaseCommand):
    help = (
        "Writes the sealed ledger (entries, blocks, checkpoints) to FILE as JSON Lines; verify it "
        "offline with `python -m ledger.tlog.audit FILE --key VERIFIER_KEY`."
    )

    def add_arguments(self, parser):
        parser.add_argument("file")

    def handle(self, *args, file, **options):
        blocks = list(Block.objects.order_by("height"))
        size = blocks[-1].tree_size if blocks else 0
        b64 = base64.b64encode
        with open(file, "w", encoding="utf-8") as out:
            out.write(json.dumps({"format": EXPORT_FORMAT, "v": EXPORT_VERSION,
                                  "origin": settings.PORTAL_ORIGIN, "tree_size": size}) + "\n")
            count = 0
            for index, data, leaf in sealed_entries():
                if index >= size:
                    break
                out.write(f'{{"type":"entry","index":{index},"data":"{b64(data).decode()}",'
                          f'"leaf_hash":"{b64(leaf).decode()}"}}\n')
                count += 1
                if count % 100_000 == 0:
                    self.stderr.write(f"{count} entries written")
            for block in blocks:
                out.write(json.dumps({"type": "block", **block_json(block)}) + "\n")
            for note in Checkpoint.objects.order_by("tree_size").values_list("note", flat=True):
                out.write(json.dumps({"type": "checkpoint", "note": note}) + "\n")
        self.stdout.write(self.style.SUCCESS(f"Wrote {count} entries and {len(blocks)} blocks to {file}."))
        self.stdout.write("Verifier keys:")
        for key in LedgerKey.objects.values_list("verifier_key", flat=True):
            self.stdout.write(f"  {key}")
