"""One exception handler for the whole API: service errors become DRF-style JSON.

Services raise Django's ``ValidationError`` and ``PermissionDenied`` and our ``ConflictError``
(see crm/exceptions.py); views let them through and this handler answers:

- ``ValidationError`` → 400, ``{"field": ["message", …], "non_field_errors": [...]}`` — the same
  shape as a DRF serializer error, so a client reads every 400 the same way;
- ``PermissionDenied`` → 403, ``{"detail": message}`` keeping the service's own message;
- ``ConflictError`` → 409, ``{"detail": message, "current_version": n}``;
- ``ObjectDoesNotExist`` / ``Http404`` → 404 (another user's row is "not found", never "forbidden").

Messages are produced in the request's language: LocaleMiddleware has activated it before
the service ran, and DRF's own messages are lazy translations.
"""

from django.core.exceptions import ObjectDoesNotExist
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, JsonResponse
from django.views import defaults
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import exception_handler

from crm.exceptions import ConflictError


def validation_error_detail(error: DjangoValidationError) -> dict[str, list[str]]:
    """A Django ValidationError as DRF's field → messages mapping."""
    non_field_key = api_settings.NON_FIELD_ERRORS_KEY
    if hasattr(error, "error_dict"):
        return {
            (non_field_key if field == "__all__" else field): messages for field, messages in error.message_dict.items()
        }
    return {non_field_key: error.messages}


def api_exception_handler(exc, context):
    if isinstance(exc, ConflictError):
        return Response(
            {"detail": str(exc.message), "current_version": exc.current_version}, status=status.HTTP_409_CONFLICT
        )
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(validation_error_detail(exc))
    elif isinstance(exc, DjangoPermissionDenied):
        # DRF's default handler would replace the service's reason with a generic sentence.
        exc = exceptions.PermissionDenied(str(exc) or None)
    elif isinstance(exc, ObjectDoesNotExist | Http404):
        # One translated "Not found." for every miss: Http404's own text names the model.
        exc = exceptions.NotFound()
    elif isinstance(exc, exceptions.ValidationError) and isinstance(exc.detail, list):
        # A bare list (e.g. DRF refusing a NUL character in ?search=) keeps the documented shape.
        exc = exceptions.ValidationError({api_settings.NON_FIELD_ERRORS_KEY: exc.detail})
    return exception_handler(exc, context)


def not_found(request, exception=None):
    """The project's 404 page: JSON under /api/ (a URL no route matches, e.g. ``/api/opportunities/-1/history/``),
    Django's page elsewhere."""
    if request.path.startswith("/api/"):
        detail = str(exceptions.NotFound.default_detail)
        return JsonResponse(
            {"detail": detail}, status=status.HTTP_404_NOT_FOUND, json_dumps_params={"ensure_ascii": False}
        )
    return defaults.page_not_found(request, exception)
