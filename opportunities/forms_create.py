"""The quick "new opportunity" form. It parses input; opportunity_quick_create decides.

A rep's form has no owner, difficulty or incentive flags (only managers may set them); a rep
in one team does not choose a team either.
"""

import datetime

from django import forms
from django.utils.translation import gettext_lazy as _

from crm.dates import company_today
from customers.models import Contact
from customers.selectors import contacts_visible_to, customer_from_text
from opportunities.forms_admin import currency_choices
from opportunities.models import DIFFICULTY_MAX, DIFFICULTY_MIN
from sources.models import LeadSource
from stages.models import Pipeline, Stage
from teams.models import Team
from teams.selectors import users_assignable_by

DEFAULT_CLOSE_IN_DAYS = 30


class OpportunityCreateForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200, widget=forms.TextInput(attrs={"autofocus": True}))
    customer = forms.CharField(
        label=_("Customer"),
        max_length=250,
        required=False,
        help_text=_("Start typing to pick one of your customers."),
    )
    create_customer = forms.BooleanField(label=_("This is a new customer: create it"), required=False)
    contact = forms.ModelChoiceField(queryset=Contact.objects.none(), label=_("Contact"), required=False)
    new_contact_name = forms.CharField(label=_("New contact's name"), max_length=200, required=False)
    new_contact_email = forms.EmailField(label=_("E-mail"), required=False)
    new_contact_phone = forms.CharField(label=_("Phone"), max_length=50, required=False)
    source = forms.ModelChoiceField(queryset=LeadSource.objects.none(), label=_("Lead source"), empty_label=_("Choose"))
    pipeline = forms.ModelChoiceField(queryset=Pipeline.objects.none(), label=_("Pipeline"))
    stage = forms.ModelChoiceField(
        queryset=Stage.objects.none(), label=_("Stage"), required=False, empty_label=_("First stage")
    )
    amount = forms.DecimalField(
        label=_("Amount"),
        required=False,
        min_value=0,
        max_digits=14,
        decimal_places=2,
        widget=forms.NumberInput(attrs={"step": "0.01", "inputmode": "decimal"}),
    )
    currency = forms.ChoiceField(label=_("Currency"), initial="CNY")
    expected_close_date = forms.DateField(
        label=_("Expected close date"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    description = forms.CharField(label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
    # Managers only (removed from a rep's form):
    team = forms.ModelChoiceField(queryset=Team.objects.none(), label=_("Team"))
    owner = forms.ModelChoiceField(
        queryset=Team.objects.none(), label=_("Owner"), required=False, empty_label=_("Unassigned pool")
    )
    difficulty = forms.DecimalField(
        label=_("Difficulty coefficient"),
        required=False,
        min_value=DIFFICULTY_MIN,
        max_value=DIFFICULTY_MAX,
        decimal_places=2,
        widget=forms.NumberInput(attrs={"step": "0.1"}),
        help_text=_("Scales the owner's incentive: 1 is normal, 2.5 hard, below 1 easy."),
    )
    is_new_customer = forms.BooleanField(label=_("New customer (incentive bonus)"), required=False)
    is_new_product = forms.BooleanField(label=_("New product (incentive bonus)"), required=False)

    MANAGER_FIELDS = ("owner", "difficulty", "is_new_customer", "is_new_product")

    def __init__(self, *args, user, manager_teams, member_teams, **kwargs):
        """``manager_teams``: the teams ``user`` manages; ``member_teams``: those they belong to."""
        kwargs.setdefault("initial", {}).setdefault(
            "expected_close_date", company_today() + datetime.timedelta(days=DEFAULT_CLOSE_IN_DAYS)
        )
        super().__init__(*args, **kwargs)
        self.user = user
        self.is_manager = bool(manager_teams)
        fields = self.fields
        fields["source"].queryset = LeadSource.objects.filter(is_active=True).order_by("name")
        fields["pipeline"].queryset = Pipeline.objects.filter(is_active=True).order_by("order", "name")
        fields["stage"].queryset = Stage.objects.filter(kind=Stage.Kind.OPEN, pipeline__is_active=True).select_related(
            "pipeline"
        )
        fields["currency"].choices = currency_choices()
        if self.is_manager:
            fields["team"].queryset = Team.objects.filter(
                pk__in=[team.pk for team in [*manager_teams, *member_teams]]
            ).order_by("name")
            fields["owner"].queryset = users_assignable_by(user=user)
            fields["owner"].label_from_instance = lambda member: member.get_full_name() or member.username
        else:
            for name in self.MANAGER_FIELDS:
                del fields[name]
            if len(member_teams) > 1:
                fields["team"].queryset = Team.objects.filter(pk__in=[team.pk for team in member_teams])
            else:
                del fields["team"]  # the service picks the rep's only team
        # The contact list is the chosen customer's (htmx refreshes it as the customer changes).
        chosen = self.data.get("customer", "") if self.is_bound else self.initial.get("customer", "")
        self.customer_match, self.customer_count = customer_from_text(user=user, text=chosen)
        contacts = contacts_visible_to(user=user)
        fields["contact"].queryset = (
            contacts.filter(customer=self.customer_match) if self.customer_match else contacts.none()
        )
        if self.is_bound:
            pipeline_id = self.data.get("pipeline")
            if pipeline_id and str(pipeline_id).isdigit():
                self.stage_choices_for(int(pipeline_id))
        else:
            first = fields["pipeline"].queryset.first()
            if first is not None:
                self.initial.setdefault("pipeline", first.pk)
                self.stage_choices_for(first.pk)

    def stage_choices_for(self, pipeline_id: int) -> None:
        self.fields["stage"].queryset = (
            self.fields["stage"].queryset.filter(pipeline_id=pipeline_id).order_by("order", "pk")
        )
        self.fields["stage"].label_from_instance = lambda stage: stage.name

    def clean_customer(self) -> str:
        return self.cleaned_data["customer"].strip()

    def clean(self):
        data = super().clean()
        text = data.get("customer", "")
        if data.get("create_customer"):
            if not text:
                self.add_error("customer", _("Enter the new customer's company name."))
            data["customer_obj"] = None
        elif not text:
            self.add_error("customer", _("Choose a customer, or tick “new customer” to create one."))
        elif self.customer_match is None:
            if self.customer_count > 1:
                self.add_error("customer", _("Several customers have this name: pick one from the list."))
            else:
                self.add_error(
                    "customer",
                    _("No customer of yours is called that. Pick one from the list, or tick “new customer”."),
                )
        else:
            data["customer_obj"] = self.customer_match
        return data

    def service_arguments(self) -> dict:
        """Keyword arguments of opportunity_quick_create (besides ``by``)."""
        data = self.cleaned_data
        arguments = {
            "title": data["title"],
            "customer": data.get("customer_obj"),
            "new_customer_name": data["customer"] if data.get("create_customer") else "",
            "contact": data.get("contact"),
            "new_contact": {
                "name": data.get("new_contact_name", ""),
                "email": data.get("new_contact_email", ""),
                "phone": data.get("new_contact_phone", ""),
            },
            "source": data["source"],
            "pipeline": data["pipeline"],
            "stage": data.get("stage"),
            "amount": data.get("amount"),
            "currency": data["currency"],
            "expected_close_date": data["expected_close_date"],
            "description": data.get("description", ""),
        }
        if "team" in self.fields:
            arguments["team"] = data["team"]
        if self.is_manager:
            arguments.update(
                owner=data.get("owner"),
                difficulty=data.get("difficulty"),
                is_new_customer=data.get("is_new_customer", False),
                is_new_product=data.get("is_new_product", False),
            )
        return arguments

    def add_service_errors(self, exc) -> None:
        """Show a service's ValidationError next to the fields it names (the rest on top)."""
        if hasattr(exc, "error_dict"):
            for field, errors in exc.message_dict.items():
                self.add_error(field if field in self.fields else None, errors)
        else:
            self.add_error(None, exc.messages)
