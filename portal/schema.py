"""The OpenAPI schema states every error an operation can answer, so clients and the fuzzer can rely on it."""
from rest_framework.permissions import AllowAny

ERROR = {"$ref": "#/components/schemas/Error"}
ERROR_SCHEMA = {
    "type": "object",
    "description": "What is wrong: `detail`, or for invalid input one list of messages per field.",
    "properties": {"detail": {"type": "string"}},
    "additionalProperties": True,
}
# Answers any operation may give: unacceptable Accept header, throttled.
ALWAYS = {"406": "No acceptable response format (the API answers JSON).",
          "429": "Too many requests: wait as the Retry-After header says."}


def _errors(view, method: str, operation: dict) -> dict[str, str]:
    errors = dict(ALWAYS)
    parameters = operation.get("parameters", [])
    if parameters or "requestBody" in operation:
        errors["400"] = "Malformed or invalid input; the body says what is wrong."
    if any(p.get("in") == "path" for p in parameters):
        errors["404"] = "No such record, or not one this user may see."
    if "requestBody" in operation:
        errors["413"] = "The request body is too large."
        errors["415"] = "Unsupported request body format."
    public = all(isinstance(p, AllowAny) for p in view.get_permissions())
    if not public:
        errors["401"] = "Not logged in (HTTP Basic)."
        errors["403"] = "Not logged in, or not allowed to do this."
    elif method not in ("GET", "HEAD", "OPTIONS") and view.get_authenticators():
        errors["403"] = "CSRF check failed for a logged-in session."
    return errors


def document_errors(result, generator, request, public):
    """drf-spectacular postprocessing hook: adds the error answers each operation can give."""
    result.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_SCHEMA
    views = {(path, method.lower()): generator.create_view(callback, method)
             for path, _regex, method, callback in generator.endpoints}
    for path, operations in result.get("paths", {}).items():
        for method, operation in operations.items():
            view = views.get((path, method))
            if view is None:
                continue
            responses = operation.setdefault("responses", {})
            for code, description in _errors(view, method.upper(), operation).items():
                responses.setdefault(code, {"content": {"application/json": {"schema": ERROR}},
                                            "description": description})
    return result
