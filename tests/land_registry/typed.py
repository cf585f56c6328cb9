"""The admin's typed registration form filled in from a registration's details, as a clerk would:
parties, rights and parcels picked (their row ids, as the search fields post them), shares typed."""
from land_registry.models import Party, Right


def _pk(model, ref):
    """The row a search would pick; a reference that names nothing is posted as typed (and refused)."""
    if not isinstance(ref, str):
        return str(ref)
    found = model.objects.filter(public_ref=ref).first()
    return found.pk if found else ref


def typed_fields(kind: str, details) -> dict:
    fields = {}
    if not isinstance(details, dict):
        return fields
    for i, owner in enumerate(details.get("owners") or [], start=1):
        owner = owner if isinstance(owner, dict) else {"party": owner}
        fields[f"owner_{i}"] = _pk(Party, owner.get("party"))
        fields[f"owner_share_{i}"] = str(owner.get("share", ""))
    if "holder" in details:
        fields["holder"] = _pk(Party, details["holder"])
    if "amount" in details:
        fields["amount"] = str(details["amount"])
    if "right" in details:
        fields["right"] = _pk(Right, details["right"])
    parcel = details.get("parcel")
    if isinstance(parcel, dict):
        for key, name in (("number", "new_number"), ("location", "new_location"), ("area_m2", "new_area"),
                          ("land_use", "new_land_use")):
            if parcel.get(key) is not None:
                fields[name] = str(parcel[key])
    for i, part in enumerate(details.get("parts") or [], start=1):
        fields.update({f"part_number_{i}": part.get("number", ""), f"part_location_{i}": part.get("location", ""),
                       f"part_area_{i}": str(part.get("area_m2", ""))})
    if kind == "correction":
        for key, name in (("share", "new_share"), ("legal_date", "new_legal_date")):
            if key in details:
                fields[name] = str(details[key])
        if details.get("cancel"):
            fields["cancel"] = "on"
    if kind == "party_correction":
        fields["party"] = _pk(Party, details.get("party"))
        for key in ("name", "id_number", "address"):
            if key in details:
                fields[f"party_{key}"] = details[key]
        if details.get("unlink_account"):
            fields["unlink_account"] = "on"
    return fields
