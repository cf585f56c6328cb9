"""The ledger export (JSON Lines: entries, blocks, checkpoints), checked while written against the keys
trusted from outside the database. `manage.py export_ledger` and the scheduled Celery task share it."""
from __future__ import annotations

import base64
import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

from ledger.api import block_json
from ledger.models import Block, Checkpoint
from ledger.tlog.audit import EXPORT_FORMAT, EXPORT_VERSION
from ledger.verification import block_dict, ledger_auditor, sealed_entry_pages


@dataclass(frozen=True)
class ExportResult:
    entries: int
    blocks: int
    tree_size: int
    trusted: list[str]  # verifier keys: given, or announced by a block a trusted key signed
    findings: list


def write_export(file, keys=(), progress: Callable[[int], None] | None = None) -> ExportResult:
    """Writes the sealed ledger to `file`; NoTrustedKey/ValueError when no key can be trusted."""
    blocks = list(Block.objects.order_by("height"))
    size = blocks[-1].tree_size if blocks else 0
    auditor = ledger_auditor(list(keys), tree_size=size, in_order=True)  # blocks first, then entries
    for block in blocks:
        auditor.add_block(block_dict(block))
    notes = list(Checkpoint.objects.order_by("tree_size").values_list("note", flat=True))
    for note in notes:
        auditor.add_checkpoint(note)
    b64 = base64.b64encode
    with open(file, "w", encoding="utf-8") as out:
        out.write(json.dumps({"format": EXPORT_FORMAT, "v": EXPORT_VERSION,
                              "origin": settings.PORTAL_ORIGIN, "tree_size": size}) + "\n")
        count = 0
        for page in sealed_entry_pages():
            page = [(index, bytes(data), bytes(leaf)) for index, data, leaf in page if index < size]
            if not page:
                break
            auditor.add_entries(*zip(*page, strict=True))
            out.writelines(f'{{"type":"entry","index":{index},"data":"{b64(data).decode()}",'
                           f'"leaf_hash":"{b64(leaf).decode()}"}}\n' for index, data, leaf in page)
            if progress and (count + len(page)) // 100_000 != count // 100_000:
                progress((count + len(page)) // 100_000 * 100_000)
            count += len(page)
        for block in blocks:
            out.write(json.dumps({"type": "block", **block_json(block)}) + "\n")
        for note in notes:
            out.write(json.dumps({"type": "checkpoint", "note": note}) + "\n")
    findings = auditor.finish()
    return ExportResult(count, len(blocks), size, [v.verifier_key for v in auditor.trusted], findings)


def published_path() -> Path:
    return Path(settings.LEDGER_EXPORT_DIR) / "ledger-export.jsonl"


def publish_export() -> ExportResult:
    """Writes the export the downloads page offers: beside it first, and in its place only when it
    verifies, so that visitors never download a half-written or unverifiable file."""
    path = published_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    try:
        result = write_export(tmp)
        if not result.findings:
            os.replace(tmp, path)
            path.with_suffix(".json").write_text(json.dumps({
                "entries": result.entries, "blocks": result.blocks, "tree_size": result.tree_size,
                "trusted": result.trusted}))
    finally:
        tmp.unlink(missing_ok=True)
    return result
