"""Forms and small helpers shared by the admin modules of every app.

The admin never writes a rule-bound change itself: forms here hand their cleaned input to the
services and turn the services' errors (ValidationError, PermissionDenied, ConflictError) into
form errors, so a refused change is a message on the page, never a 500.
"""

from django import forms
from django.contrib import admin
from django.contrib.admin import helpers
from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, ValidationError
from django.db import router, transaction
from django.template.response import TemplateResponse
from django.utils.translation import gettext_lazy as _

from crm.exceptions import ConflictError
from opportunities.models import CurrencyRate, Opportunity
from opportunities.services import (
    BASE_CURRENCY,
    DistributionStrategy,
    opportunity_create,
    opportunity_update,
)
from stages.models import Stage
from teams.models import Team, User

SERVICE_ERRORS = (ValidationError, PermissionDenied, ConflictError)

# Marks the second step of an action that asks for input first (an "intermediate page").
ACTION_APPLY_FIELD = "jihui_apply"


def add_service_errors(form: forms.BaseForm, exc: Exception) -> None:
    """Show what a service refused on ``form``: field errors where the form has the field, the
    rest at the top of the form."""
    if isinstance(exc, ValidationError) and hasattr(exc, "error_dict"):
        for field, errors in exc.error_dict.items():
            target = field if field in form.fields and field != NON_FIELD_ERRORS else None
            form.add_error(target, errors)
    elif isinstance(exc, ValidationError):
        form.add_error(None, exc.messages)
    elif isinstance(exc, ConflictError):
        form.add_error(None, str(exc.message))
    else:
        form.add_error(None, str(exc) or _("You may not do that."))


def action_step_form(form_class, request, **kwargs) -> forms.Form:
    """The action's form: bound on the second step (the intermediate page was submitted)."""
    if ACTION_APPLY_FIELD in request.POST:
        return form_class(request.POST, **kwargs)
    return form_class(**kwargs)


def action_form_response(
    modeladmin: admin.ModelAdmin,
    request,
    queryset,
    *,
    form: forms.Form,
    action: str,
    title,
    submit_label,
) -> TemplateResponse:
    """The intermediate page of an action: the selected rows, a small form, apply or cancel."""
    opts = modeladmin.model._meta
    ids = list(queryset.order_by().values_list("pk", flat=True))
    preview_size = 20
    context = {
        **modeladmin.admin_site.each_context(request),
        "opts": opts,
        "title": title,
        "form": form,
        "action": action,
        "ids": ids,
        "preview": list(queryset[:preview_size]),
        "more": max(len(ids) - preview_size, 0),
        "summary": _("Selected %(name)s: %(count)d") % {"name": opts.verbose_name_plural, "count": len(ids)},
        "submit_label": submit_label,
        "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        "apply_field": ACTION_APPLY_FIELD,
        "media": modeladmin.media + form.media,
    }
    return TemplateResponse(request, "admin/jihui/action_form.html", context)


class ReadOnlyAdminMixin:
    """History rows are written by services only: they can be read, never added, changed or deleted."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ProtectedSummaryMixin:
    """A clear refusal when a row that others depend on (PROTECT) is about to be deleted.

    Django would load and list every protected row (possibly a million opportunities). We count
    them instead and say what to do; ``protected_counts(objs)`` returns (label, count) pairs.
    """

    protected_hint = _("Deactivate it instead, or move these records elsewhere first.")

    def protected_counts(self, objs) -> list[tuple[str, int]]:
        return []

    def get_deleted_objects(self, objs, request):
        summary = [
            _("%(label)s: %(count)d. %(hint)s") % {"label": label, "count": count, "hint": self.protected_hint}
            for label, count in self.protected_counts(objs)
            if count
        ]
        if summary:
            return [], {}, set(), summary
        return super().get_deleted_objects(objs, request)


class ServiceFormAdminMixin:
    """For admins whose form calls a service while it validates (see the opportunity forms).

    If the page is shown again with errors (the service refused, or another form on the page is
    invalid), everything written during the request is rolled back: nothing is half-saved.
    """

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        with transaction.atomic(using=router.db_for_write(self.model)):
            response = super().changeform_view(request, object_id, form_url, extra_context)
            context = getattr(response, "context_data", None) or {}
            if request.method == "POST" and context.get("errors"):
                transaction.set_rollback(True, using=router.db_for_write(self.model))
        return response


def currency_choices() -> list[tuple[str, str]]:
    """The base currency plus every currency an administrator has given a rate."""
    codes = set(CurrencyRate.objects.values_list("currency", flat=True).distinct()) | {BASE_CURRENCY}
    return [(code, code) for code in sorted(codes)]


# --- opportunities -------------------------------------------------------------------------


class _ServiceModelForm(forms.ModelForm):
    """A model form that does not build or validate the instance itself: ``_post_clean`` hands
    the cleaned data to a service, whose result becomes ``self.instance`` (already saved)."""

    acting_user: User | None = None  # set by the ModelAdmin for each request

    def run_service(self) -> Opportunity | None:
        raise NotImplementedError

    def _post_clean(self):
        if self.errors:
            return
        try:
            result = self.run_service()
        except SERVICE_ERRORS as exc:
            add_service_errors(self, exc)
        else:
            if result is not None:
                self.instance = result


class OpportunityAddForm(_ServiceModelForm):
    """Creates an opportunity through ``opportunity_create``: first stage change and assignment
    are recorded exactly as on any other path."""

    probability = forms.IntegerField(
        label=_("win probability (%)"),
        required=False,
        min_value=0,
        max_value=100,
        help_text=_("Leave empty to follow the stage's default probability."),
    )
    currency = forms.ChoiceField(label=_("currency"), initial=BASE_CURRENCY)

    class Meta:
        model = Opportunity
        fields = [
            "title",
            "description",
            "customer",
            "contact",
            "pipeline",
            "stage",
            "team",
            "owner",
            "source",
            "amount",
            "currency",
            "expected_close_date",
            "probability",
            "difficulty",
            "is_new_customer",
            "is_new_product",
        ]
        help_texts = {
            "stage": _("Empty: the pipeline's first stage."),
            "owner": _("Empty: the deal waits in the team's unassigned pool."),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["currency"].choices = currency_choices()
        if "stage" in self.fields:
            self.fields["stage"].required = False
            self.fields["stage"].queryset = Stage.objects.filter(kind=Stage.Kind.OPEN).select_related("pipeline")
        if "owner" in self.fields:
            self.fields["owner"].queryset = User.objects.filter(is_active=True).order_by("username")
        if "pipeline" in self.fields:
            self.fields["pipeline"].queryset = self.fields["pipeline"].queryset.filter(is_active=True)

    def run_service(self) -> Opportunity:
        data = self.cleaned_data
        return opportunity_create(
            by=self.acting_user,
            title=data["title"],
            description=data.get("description") or "",
            customer=data["customer"],
            contact=data.get("contact"),
            pipeline=data["pipeline"],
            stage=data.get("stage"),
            team=data["team"],
            owner=data.get("owner"),
            source=data["source"],
            amount=data.get("amount"),
            currency=data["currency"],
            expected_close_date=data["expected_close_date"],
            probability=data.get("probability"),
            difficulty=data.get("difficulty"),
            is_new_customer=data.get("is_new_customer", False),
            is_new_product=data.get("is_new_product", False),
            assignment_reason=str(_("Created in the admin")),
        )


class OpportunityChangeForm(_ServiceModelForm):
    """Edits plain fields through ``opportunity_update`` with the version the page was opened at:
    a stale page gets a conflict message and nothing is saved. Owner, stage, status, close date
    and probability are changed by the list's actions (services), not here."""

    EDITABLE = (
        "title",
        "description",
        "customer",
        "contact",
        "source",
        "amount",
        "currency",
        "difficulty",
        "is_new_customer",
        "is_new_product",
    )

    version = forms.IntegerField(widget=forms.HiddenInput, label=_("version"))
    currency = forms.ChoiceField(label=_("currency"))

    class Meta:
        model = Opportunity
        fields = [
            "title",
            "description",
            "customer",
            "contact",
            "source",
            "amount",
            "currency",
            "difficulty",
            "is_new_customer",
            "is_new_product",
            "version",
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        choices = currency_choices()
        if self.instance.currency and (self.instance.currency, self.instance.currency) not in choices:
            choices.append((self.instance.currency, self.instance.currency))
        self.fields["currency"].choices = choices

    def run_service(self) -> Opportunity | None:
        changes = {name: self.cleaned_data[name] for name in self.changed_data if name in self.EDITABLE}
        if not changes:
            return None
        return opportunity_update(
            opportunity=self.instance,
            by=self.acting_user,
            version=self.cleaned_data["version"],
            reason=str(_("Edited in the admin")),
            **changes,
        )


def _active_users():
    return User.objects.filter(is_active=True).order_by("username")


class AssignForm(forms.Form):
    owner = forms.ModelChoiceField(
        label=_("new owner"),
        queryset=User.objects.none(),
        required=False,
        empty_label=_("— the team's unassigned pool —"),
        help_text=_("The rep must be an active member of each deal's team."),
    )
    reason = forms.CharField(label=_("reason"), max_length=255, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = _active_users()


class DistributeForm(forms.Form):
    team = forms.ModelChoiceField(label=_("team"), queryset=Team.objects.all())
    strategy = forms.ChoiceField(
        label=_("how"),
        choices=[
            (DistributionStrategy.ROUND_ROBIN, _("Round-robin (continues where the last distribution stopped)")),
            (DistributionStrategy.LEAST_LOADED, _("Least-loaded (fewest open deals first)")),
        ],
        initial=DistributionStrategy.ROUND_ROBIN,
        widget=forms.RadioSelect,
    )
    reason = forms.CharField(label=_("reason"), max_length=255, required=False)


class PushCloseDateForm(forms.Form):
    new_date = forms.DateField(label=_("new expected close date"), widget=forms.DateInput(attrs={"type": "date"}))
    reason = forms.CharField(label=_("reason"), max_length=255, required=False)


class DeactivateUserForm(forms.Form):
    successor = forms.ModelChoiceField(
        label=_("hand open deals to"),
        queryset=User.objects.none(),
        required=False,
        empty_label=_("— each team's unassigned pool —"),
        help_text=_("The successor must be an active member of every team the deals belong to."),
    )
    reason = forms.CharField(label=_("reason"), max_length=255, required=False)

    def __init__(self, *args, leaving_ids=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["successor"].queryset = _active_users().exclude(pk__in=list(leaving_ids))
