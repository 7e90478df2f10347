"""Forms of the board and the opportunity page. They parse input; the services decide.

Manager-only fields (owner, difficulty, incentive flags, probability override) are left out of
a rep's forms altogether, so a rep never sees or posts them.
"""

from dataclasses import dataclass, field

from django import forms
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from opportunities.forms_admin import currency_choices
from opportunities.models import DIFFICULTY_MAX, DIFFICULTY_MIN, Activity, LostReason, Opportunity
from sources.models import LeadSource
from stages.models import Stage
from teams.models import User


class PageForm(forms.Form):
    """The pages' forms: labels without a trailing colon (the layout sets them apart)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)


class ListedModelChoiceIterator(forms.models.ModelChoiceIterator):
    """Choices read with one plain query. ModelChoiceIterator reads them through
    ``queryset.iterator()``: a server-side cursor on PostgreSQL (DECLARE, FETCH, CLOSE) for a
    list of a few dozen rows. Read this way the list is cached on the field's queryset, so showing
    a choice's label again (after a conflict) does not read it twice."""

    def __iter__(self):
        if self.field.empty_label is not None:
            yield ("", self.field.empty_label)
        for obj in self.queryset:
            yield self.choice(obj)


class ListedModelChoiceField(forms.ModelChoiceField):
    iterator = ListedModelChoiceIterator


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one input (Django's documented recipe)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput())
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(item, initial) for item in data if item]
        return [single(data, initial)] if data else []


DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
ACCEPT_EVIDENCE = "image/*,application/pdf,.doc,.docx,.xls,.xlsx,.ppt,.pptx,.odt,.ods,.txt,.zip"


def _files_field(*, required: bool) -> MultipleFileField:
    return MultipleFileField(
        label=_("Files"),
        required=required,
        widget=MultipleFileInput(attrs={"accept": ACCEPT_EVIDENCE}),
        help_text=_("Photos, PDF or Office documents; several at once."),
    )


# --- moving a deal ------------------------------------------------------------------------


@dataclass
class MoveNeeds:
    """What a refused move asks for, read from the service's own messages (the one place the
    exit-criteria rule lives): each message the dialog knows becomes an input, any other is shown
    as it is."""

    attachment: bool = False
    tracking: bool = False
    fields: list[str] = field(default_factory=list)
    messages: list[str] = field(default_factory=list)

    @property
    def evidence(self) -> bool:
        return self.attachment or self.tracking

    @property
    def any(self) -> bool:
        return self.evidence or bool(self.fields)

    def encode(self) -> str:
        """For the dialog's hidden field: the inputs it shows, so its answer is read the same way."""
        flags = [name for name in ("attachment", "tracking") if getattr(self, name)]
        return ",".join([*flags, *self.fields])

    def merged(self, other: "MoveNeeds") -> "MoveNeeds":
        return MoveNeeds(
            attachment=self.attachment or other.attachment,
            tracking=self.tracking or other.tracking,
            fields=list(dict.fromkeys([*other.fields, *self.fields])),
            messages=self.messages,
        )

    @classmethod
    def decode(cls, raw: str) -> "MoveNeeds":
        keys = {key.strip() for key in (raw or "").split(",")}
        return cls(
            attachment="attachment" in keys,
            tracking="tracking" in keys,
            fields=[name for name in Stage.REQUIRED_FIELD_CHOICES if name in keys],
        )

    @classmethod
    def from_messages(cls, messages: list[str], stages: list[Stage]) -> "MoveNeeds":
        # The very sentences opportunity_unmet_exit_criteria writes, in the current language.
        known: dict[str, str] = {}
        for stage in stages:
            known[gettext("Attach a file (e.g. a sample photo) in the stage “%(stage)s”.") % {"stage": stage.name}] = (
                "attachment"
            )
            known[gettext("Enter a courier tracking number in the stage “%(stage)s”.") % {"stage": stage.name}] = (
                "tracking"
            )
        for name, label in Stage.REQUIRED_FIELD_CHOICES.items():
            known[gettext("Fill in “%(field)s”.") % {"field": label}] = name
        needs = cls(messages=list(messages))
        for message in messages:
            key = known.get(message)
            if key == "attachment":
                needs.attachment = True
            elif key == "tracking":
                needs.tracking = True
            elif key is not None and key not in needs.fields:
                needs.fields.append(key)
        return needs


class MoveForm(forms.Form):
    """A move as the board (drag and drop), the stage path (click) and the move dialog post it."""

    stage = forms.IntegerField(min_value=1)
    version = forms.IntegerField(required=False, min_value=1)
    context = forms.ChoiceField(choices=[("detail", "detail"), ("board", "board")], required=False)
    confirm = forms.BooleanField(required=False)
    needs = forms.CharField(required=False, max_length=100)
    board_query = forms.CharField(required=False, max_length=500)

    def __init__(self, *args, stages: list[Stage], **kwargs):
        super().__init__(*args, **kwargs)
        self.stages = {stage.pk: stage for stage in stages}

    def clean_stage(self) -> Stage:
        stage = self.stages.get(self.cleaned_data["stage"])
        if stage is None:
            raise forms.ValidationError(_("Choose a stage of this opportunity's pipeline."))
        return stage


class MoveDialogForm(PageForm):
    """What the move dialog asks for: the evidence a gate is missing, the amount (or another
    required field), the won amount or the lost reason. Built from ``needs`` and the target."""

    def __init__(self, *args, opportunity: Opportunity, target: Stage, needs: MoveNeeds, **kwargs):
        super().__init__(*args, **kwargs)
        won = target.kind == Stage.Kind.WON
        # Closing as won sets the amount: then the won amount is the one input, and it is required.
        amount_missing = won and "amount" in needs.fields
        self.opportunity, self.target, self.needs = opportunity, target, needs
        if needs.evidence:
            self.fields["kind"] = forms.ChoiceField(
                label=_("Kind of activity"),
                choices=Activity.Kind.choices,
                initial=Activity.Kind.SAMPLE if needs.tracking else Activity.Kind.NOTE,
            )
        if needs.attachment:
            self.fields["files"] = _files_field(required=True)
        if needs.tracking:
            self.fields["carrier"] = forms.CharField(label=_("Courier"), max_length=100, required=False)
            self.fields["tracking_number"] = forms.CharField(label=_("Tracking number"), max_length=100)
        if "amount" in needs.fields and not won:
            self.fields["amount"] = forms.DecimalField(
                label=_("Amount (%(currency)s)") % {"currency": opportunity.currency},
                min_value=0,
                max_digits=14,
                decimal_places=2,
            )
        if "contact" in needs.fields:
            self.fields["contact"] = forms.ModelChoiceField(
                opportunity.customer.contacts.all(),
                label=_("Contact"),
                empty_label=None,
                help_text=_("Add contacts on the customer's page."),
            )
        if "description" in needs.fields:
            self.fields["description"] = forms.CharField(
                label=_("Description"), widget=forms.Textarea(attrs={"rows": 3})
            )
        if target.kind == Stage.Kind.WON:
            self.fields["won_amount"] = forms.DecimalField(
                label=_("Won amount (%(currency)s)") % {"currency": opportunity.currency},
                min_value=0,
                max_digits=14,
                decimal_places=2,
                required=amount_missing,
                initial=opportunity.amount,
            )
        if target.kind == Stage.Kind.LOST:
            self.fields["lost_reason"] = forms.ModelChoiceField(
                LostReason.objects.filter(is_active=True), label=_("Why was it lost?")
            )
        if target.kind != Stage.Kind.OPEN or needs.evidence:
            self.fields["body"] = forms.CharField(
                label=_("Note") if needs.evidence else _("Comment"),
                required=False,
                widget=forms.Textarea(attrs={"rows": 2}),
            )


# --- the opportunity page -------------------------------------------------------------


class ActivityForm(PageForm):
    kind = forms.ChoiceField(label=_("Kind"), choices=Activity.Kind.choices, initial=Activity.Kind.NOTE)
    body = forms.CharField(label=_("What happened"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
    carrier = forms.CharField(label=_("Courier"), max_length=100, required=False)
    tracking_number = forms.CharField(label=_("Tracking number"), max_length=100, required=False)
    occurred_at = forms.DateTimeField(
        label=_("When"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
        help_text=_("Empty: now."),
    )
    files = _files_field(required=False)


class PushDateForm(PageForm):
    version = forms.IntegerField(min_value=1, widget=forms.HiddenInput)
    new_date = forms.DateField(label=_("New expected close date"), widget=DATE_INPUT)
    reason = forms.CharField(label=_("Why"), max_length=255)


class CloseForm(PageForm):
    version = forms.IntegerField(min_value=1, widget=forms.HiddenInput)
    outcome = forms.ChoiceField(
        label=_("Outcome"), choices=[(Opportunity.Status.WON, _("Won")), (Opportunity.Status.LOST, _("Lost"))]
    )
    won_amount = forms.DecimalField(label=_("Won amount"), min_value=0, max_digits=14, decimal_places=2, required=False)
    lost_reason = ListedModelChoiceField(LostReason.objects.none(), label=_("Lost reason"), required=False)
    reason = forms.CharField(label=_("Comment"), required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, opportunity: Opportunity, **kwargs):
        kwargs.setdefault("initial", {"version": opportunity.version, "won_amount": opportunity.amount})
        super().__init__(*args, **kwargs)
        self.fields["lost_reason"].queryset = LostReason.objects.filter(is_active=True)
        self.fields["won_amount"].label = _("Won amount (%(currency)s)") % {"currency": opportunity.currency}


class ReopenForm(PageForm):
    version = forms.IntegerField(min_value=1, widget=forms.HiddenInput)
    expected_close_date = forms.DateField(label=_("New expected close date"), widget=DATE_INPUT)
    reason = forms.CharField(label=_("Why"), max_length=255, required=False)


class OpportunityEditForm(PageForm):
    """Plain fields of a deal, with the version it was read at (optimistic lock). Each field also
    carries the value the form was opened with (``was-<field>``), so after a conflict the page
    can say what someone else changed meanwhile."""

    version = forms.IntegerField(min_value=1, widget=forms.HiddenInput)
    title = forms.CharField(label=_("Title"), max_length=200)
    contact = ListedModelChoiceField(None, label=_("Contact"), required=False)
    source = ListedModelChoiceField(None, label=_("Lead source"))
    amount = forms.DecimalField(label=_("Amount"), min_value=0, max_digits=14, decimal_places=2, required=False)
    currency = forms.ChoiceField(label=_("Currency"))
    description = forms.CharField(label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
    # Managers only (removed for reps in __init__).
    owner = ListedModelChoiceField(None, label=_("Owner"), required=False, empty_label=_("— Team's unassigned pool —"))
    probability_is_manual = forms.BooleanField(label=_("Set the probability by hand"), required=False)
    probability = forms.IntegerField(label=_("Win probability (%)"), min_value=0, max_value=100, required=False)
    difficulty = forms.DecimalField(
        label=_("Difficulty coefficient"), min_value=DIFFICULTY_MIN, max_value=DIFFICULTY_MAX, decimal_places=2
    )
    is_new_customer = forms.BooleanField(label=_("New customer"), required=False)
    is_new_product = forms.BooleanField(label=_("New product"), required=False)
    reason = forms.CharField(label=_("Reason for a new owner"), max_length=255, required=False)

    MANAGER_FIELDS = (
        "owner",
        "probability_is_manual",
        "probability",
        "difficulty",
        "is_new_customer",
        "is_new_product",
    )
    SERVICE_FIELDS = ("title", "contact", "source", "amount", "currency", "description", *MANAGER_FIELDS[1:])

    def __init__(self, *args, opportunity: Opportunity, manager: bool, **kwargs):
        kwargs.setdefault("initial", self.values_of(opportunity))
        super().__init__(*args, **kwargs)
        self.opportunity, self.manager = opportunity, manager
        self.fields["contact"].queryset = opportunity.customer.contacts.all()
        self.fields["source"].queryset = LeadSource.objects.filter(is_active=True) | LeadSource.objects.filter(
            pk=opportunity.source_id
        )
        self.fields["currency"].choices = currency_choices()
        if manager:
            self.fields["owner"].queryset = User.objects.filter(teams=opportunity.team_id, is_active=True).order_by(
                "username"
            )
        else:
            for name in (*self.MANAGER_FIELDS, "reason"):
                del self.fields[name]

    @classmethod
    def values_of(cls, opportunity: Opportunity) -> dict:
        return {
            "version": opportunity.version,
            "title": opportunity.title,
            "contact": opportunity.contact_id,
            "source": opportunity.source_id,
            "amount": opportunity.amount,
            "currency": opportunity.currency,
            "description": opportunity.description,
            "owner": opportunity.owner_id,
            "probability_is_manual": opportunity.probability_is_manual,
            "probability": opportunity.probability,
            "difficulty": opportunity.difficulty,
            "is_new_customer": opportunity.is_new_customer,
            "is_new_product": opportunity.is_new_product,
        }

    def was_fields(self) -> list[tuple[str, str]]:
        """(name, value) of the hidden ``was-<field>`` inputs: the values this form started from."""
        source = self.data if self.is_bound else {}
        values = self.values_of(self.opportunity)
        pairs = []
        for name in self.fields:
            if name in ("version", "reason"):
                continue
            raw = source.get(f"was-{name}") if self.is_bound else None
            pairs.append((name, raw if raw is not None else _as_text(values.get(name))))
        return pairs

    def rebased(self, current: Opportunity) -> "OpportunityEditForm":
        """The same input, now based on ``current`` (after a conflict): the user's values are
        kept, the version and the ``was-`` values are today's, so saving again is a deliberate
        overwrite of what they have now seen."""
        data = self.data.copy()
        data["version"] = str(current.version)
        now = self.values_of(current)
        for name, _was in self.was_fields():
            data[f"was-{name}"] = _as_text(now.get(name))
        form = type(self)(data, opportunity=current, manager=self.manager)
        form.is_valid()
        return form


def _as_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "on" if value else ""
    return str(value)


def edit_changes_meanwhile(form: OpportunityEditForm, current: Opportunity) -> list[dict]:
    """After a conflict: the fields whose saved value is no longer what the form started from."""
    now = form.values_of(current)
    changed = []
    for name, was in form.was_fields():
        if _as_text(now.get(name)) != was:
            field = form.fields[name]
            changed.append(
                {"field": name, "label": field.label, "was": _label(field, was), "now": _label(field, now.get(name))}
            )
    return changed


def _label(field: forms.Field, value) -> str:
    text = _as_text(value)
    if isinstance(field, forms.BooleanField):
        return gettext("Yes") if text else gettext("No")
    if isinstance(field, forms.ModelChoiceField):
        if not text:
            return "—"
        return next((str(label) for key, label in field.choices if str(key) == text), text)
    return text or "—"
