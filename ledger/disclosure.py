"""Selective disclosure and proof bundles: what a verifier needs to check a record against the log.

A bundle is self-contained: the entry bytes, its inclusion proof up to a signed checkpoint, and
the disclosed fields with their salts. `check_bundle` verifies one with ledger.tlog only.
"""
from __future__ import annotations

import base64
import json
from dataclasses import dataclass

from ledger import selectors
from ledger.models import Block, Entry
from ledger.recorder import field_salt, ledger_value, salt_key
from ledger.tlog import checkpoint as tcheckpoint
from ledger.tlog import merkle, note
from ledger.tlog.commitment import check_disclosure, disclosure


class DisclosureError(ValueError):
    pass


def latest_entry(obj) -> Entry | None:
    return selectors.entries_for_ref(obj.public_ref).order_by("-id").first()


def disclosures_for(obj, fields) -> tuple[Entry, dict[str, str]]:
    """The newest entry of `obj` and a disclosure (salt, name, value) for each chosen field."""
    entry = latest_entry(obj)
    if entry is None:
        raise DisclosureError(f"{obj._meta.label} {obj.public_ref} has no ledger entry")
    unknown = [name for name in fields if name not in type(obj).ledger_fields]
    if unknown:
        raise DisclosureError(f"not ledgered fields: {', '.join(unknown)}")
    key = salt_key(bytes(entry.salt_seed), entry.pk)
    return entry, {
        name: disclosure(field_salt(key, name), name, ledger_value(obj, name)) for name in fields
    }


def _b64(value: bytes) -> str:
    return base64.b64encode(bytes(value)).decode()


def proof_bundle(entry: Entry) -> dict | None:
    """The entry with its inclusion proof in the newest signed tree; None while unsealed."""
    return proof_bundles([entry])[entry.pk]


def proof_bundles(entries) -> dict[int, dict | None]:
    """proof_bundle of each entry (by primary key), with the tree read once for all of them."""
    sealed = [entry for entry in entries if entry.leaf_index is not None]
    bundles = {entry.pk: None for entry in entries}
    if not sealed:
        return bundles
    block = Block.objects.order_by("-height").first()
    checkpoint = selectors.checkpoint_latest()
    proofs, root = selectors.inclusion_proofs({entry.leaf_index for entry in sealed}, block.tree_size)
    for entry in sealed:
        bundles[entry.pk] = {
            "index": entry.leaf_index,
            "entry": _b64(entry.data),
            "tree_size": block.tree_size,
            "root": _b64(root),
            "inclusion_proof": [_b64(node) for node in proofs[entry.leaf_index]],
            "checkpoint": checkpoint.note if checkpoint and checkpoint.tree_size == block.tree_size else "",
        }
    return bundles


@dataclass(frozen=True)
class CheckedBundle:
    entry: dict
    fields: dict  # name -> value, each matched against the entry's commitment
    tree_size: int


def check_bundle(bundle: dict, disclosures: dict[str, str], verifier_key: str) -> CheckedBundle:
    """Verifies a bundle: signed checkpoint, inclusion of the entry, and each disclosed field."""
    try:
        data = base64.b64decode(bundle["entry"], validate=True)
        proof = [base64.b64decode(node, validate=True) for node in bundle["inclusion_proof"]]
        signed = tcheckpoint.open_checkpoint(bundle["checkpoint"], note.Verifier(verifier_key))
    except (KeyError, ValueError, TypeError) as exc:
        raise DisclosureError(f"malformed or unsigned bundle: {exc}") from exc
    if signed.size != bundle["tree_size"]:
        raise DisclosureError("the checkpoint is for another tree size than the proof")
    try:
        merkle.verify_inclusion(merkle.leaf_hash(data), bundle["index"], signed.size, proof, signed.root_hash)
    except merkle.ProofError as exc:
        raise DisclosureError(f"the entry is not in the signed tree: {exc}") from exc
    entry = json.loads(data)
    fields = {}
    for name, text in disclosures.items():
        try:
            disclosed_name, value = check_disclosure(text, entry["state"])
        except ValueError as exc:
            raise DisclosureError(f"field {name}: {exc}") from exc
        if disclosed_name != name:
            raise DisclosureError(f"field {name}: the disclosure is for {disclosed_name}")
        fields[name] = value
    return CheckedBundle(entry=entry, fields=fields, tree_size=signed.size)


@dataclass(frozen=True)
class HistoryStep:
    entry: dict
    leaf_index: int | None
    proof_status: str  # "verified" (inclusion proof checks against the newest signed root) or "pending"


def record_history(obj) -> list[HistoryStep]:
    """A record's ledger history, oldest first, each step with its proof status."""
    from ledger import keys

    steps = []
    verifier = keys.signer().verifier_key
    entries = list(selectors.entries_for_ref(obj.public_ref))
    bundles = proof_bundles(entries)
    for entry in entries:
        status = "pending"
        bundle = bundles[entry.pk]
        if bundle and bundle["checkpoint"]:
            try:
                check_bundle(bundle, {}, verifier)
                status = "verified"
            except DisclosureError:
                status = "failed"
        steps.append(HistoryStep(json.loads(bytes(entry.data)), entry.leaf_index, status))
    return steps
