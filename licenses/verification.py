"""Presentations of a licence: chosen claims, disclosed against the licence's newest ledger entry.

A presentation is JSON that any system can check without this portal's database:
`bundle` (entry, inclusion proof, signed checkpoint), `disclosures` (the entry's committed
`claim_digests` with its salt) and `claims` (each chosen claim with its own salt, checked
against that digest map). `check_presentation` does it with ledger.disclosure and ledger.tlog.
"""
from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext as _

from ledger.disclosure import DisclosureError, check_bundle, disclosures_for, proof_bundle
from ledger.tlog.commitment import check_disclosure, disclosure
from licenses.models import Licence

FORMAT = "gongxin-licence-presentation/v1"
KIND = "licenses.licence"


def presentation_for(licence: Licence, fields: list[str]) -> dict:
    """The presentation of `fields` of the licence's current state; `bundle` is None until sealed."""
    entry, disclosures = disclosures_for(licence, ["claim_digests"])
    values = licence.claim_values()
    return {
        "format": FORMAT,
        "ref": licence.public_ref,
        "bundle": proof_bundle(entry),
        "disclosures": disclosures,
        "claims": {name: disclosure(licence.claim_salt(name), name, values[name]) for name in fields},
    }


@dataclass(frozen=True)
class VerifiedLicence:
    ref: str
    status: str
    licence_type: str  # public reference of the licence type
    fields: dict  # claim name -> value, each matched against the committed digest
    entry_time: str
    index: int
    tree_size: int


def check_presentation(presentation: dict, verifier_key: str) -> VerifiedLicence:
    """Checks signature, inclusion and every claim; raises DisclosureError saying what failed."""
    if not isinstance(presentation, dict) or presentation.get("format") != FORMAT:
        raise DisclosureError(f"not a {FORMAT} presentation")
    bundle = presentation.get("bundle")
    if not bundle:
        raise DisclosureError("the licence's newest entry is not sealed yet: no proof to check")
    checked = check_bundle(bundle, presentation.get("disclosures") or {}, verifier_key)
    entry = checked.entry
    if entry.get("kind") != KIND or entry.get("ref") != presentation.get("ref") or entry.get("op") == "delete":
        raise DisclosureError("the entry is not the current state of this licence")
    digests = checked.fields.get("claim_digests")
    if not isinstance(digests, dict):
        raise DisclosureError("the claim digests are not disclosed")
    fields = {}
    for name, text in (presentation.get("claims") or {}).items():
        try:
            disclosed_name, value = check_disclosure(text, digests)
        except (ValueError, TypeError) as exc:
            raise DisclosureError(f"field {name}: {exc}") from exc
        if disclosed_name != name:
            raise DisclosureError(f"field {name}: the disclosure is for {disclosed_name}")
        fields[name] = value
    return VerifiedLicence(
        ref=entry["ref"], status=entry["public"].get("status", ""),
        licence_type=entry["public"].get("licence_type", ""), fields=fields, entry_time=entry["time"],
        index=bundle["index"], tree_size=checked.tree_size,
    )


@dataclass(frozen=True)
class Verification:
    """What a verifier learns about a licence now: current status, disclosed fields and proof."""

    licence: Licence
    fields: dict  # claim name -> value (proven when proof_status is "verified")
    proof_status: str  # verified, pending (newest entry not sealed yet) or failed
    proof_detail: str
    presentation: dict

    @property
    def status(self) -> str:
        return self.licence.status

    @property
    def verified_valid(self) -> bool:
        """Shown as valid only when proven and the licence's current state is valid."""
        return self.proof_status == "verified" and self.licence.status == "valid"


def verify_licence(licence: Licence, fields: list[str], verifier_key: str) -> Verification:
    licence = Licence.objects.select_related("licence_type__department").get(pk=licence.pk)
    presentation = presentation_for(licence, fields)
    values = licence.claim_values()
    if presentation["bundle"] is None:
        return Verification(licence, {name: values[name] for name in fields}, "pending",
                            _("The newest change is not sealed into the ledger yet."), presentation)
    try:
        checked = check_presentation(presentation, verifier_key)
    except DisclosureError as exc:
        return Verification(licence, {}, "failed", str(exc), presentation)
    if checked.status != licence.status:
        return Verification(licence, {}, "failed", _("The ledger and the register disagree."), presentation)
    return Verification(licence, checked.fields, "verified",
                        _("Entry %(index)s in the signed tree of %(size)s entries.")
                        % {"index": checked.index, "size": checked.tree_size}, presentation)
