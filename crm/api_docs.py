"""OpenAPI pieces shared by every endpoint: the error bodies and the responses that use them."""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers

VALIDATION_ERROR_REF = {"$ref": "#/components/schemas/ValidationError"}

VALIDATION_ERROR_SCHEMA = {
    "type": "object",
    "description": _(
        "Bad input, nothing changed. Each key is a field of the request (or `non_field_errors` for a "
        "problem of the whole request, e.g. the unmet exit criteria of a stage); each value is the "
        "list of messages, in the caller's language. A list field may answer an object keyed by "
        "the position of the bad item instead."
    ),
    "properties": {"non_field_errors": {"type": "array", "items": {"type": "string"}}},
    "additionalProperties": {
        "oneOf": [
            {"type": "array", "items": {"type": "string"}},
            {"type": "object", "additionalProperties": {}},
        ]
    },
    "example": {"expected_close_date": [_("The expected close date cannot be in the past.")]},
}


class ErrorSerializer(serializers.Serializer):
    detail = serializers.CharField(help_text=_("What went wrong, in the caller's language."))


class ConflictSerializer(serializers.Serializer):
    detail = serializers.CharField(help_text=_("What went wrong, in the caller's language."))
    current_version = serializers.IntegerField(
        allow_null=True, help_text=_("The version the record has now: read it again, then retry.")
    )


ERROR_400 = OpenApiResponse(VALIDATION_ERROR_REF, description=_("Bad input: field-by-field messages; nothing changed."))
ERROR_401 = OpenApiResponse(ErrorSerializer, description=_("Not authenticated: send `Authorization: Token <token>`."))
ERROR_403 = OpenApiResponse(ErrorSerializer, description=_("Not allowed for your role; nothing changed."))
ERROR_404 = OpenApiResponse(
    ErrorSerializer, description=_("Not found, or not visible to you (another rep's records are 'not found').")
)
ERROR_409 = OpenApiResponse(
    ConflictSerializer, description=_("The record changed since you read `version`; nothing changed.")
)
ERROR_429 = OpenApiResponse(ErrorSerializer, description=_("Too many requests; retry after `Retry-After` seconds."))

# Every authenticated endpoint can answer these.
READ_ERRORS = {401: ERROR_401, 403: ERROR_403, 429: ERROR_429}
LIST_ERRORS = {400: ERROR_400, 404: ERROR_404, **READ_ERRORS}  # 400: a bad filter value; 404: a page past the end
DETAIL_ERRORS = {404: ERROR_404, **READ_ERRORS}
WRITE_ERRORS = {400: ERROR_400, **DETAIL_ERRORS}
VERSIONED_WRITE_ERRORS = {409: ERROR_409, **WRITE_ERRORS}


def postprocess_schema(result, generator, request, public):
    """Add the shared ValidationError component, and keep ``version`` required in PATCH bodies
    (drf-spectacular marks every field of a PATCH body optional; ours must carry the version)."""
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas["ValidationError"] = VALIDATION_ERROR_SCHEMA
    for name, schema in schemas.items():
        if name.startswith("Patched") and "version" in schema.get("properties", {}):
            schema["required"] = sorted({*schema.get("required", []), "version"})
    return result
