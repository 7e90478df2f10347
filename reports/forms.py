"""One filter form for every report: the page, its exports and the API read the same fields,
so a figure cannot differ between them because of how a parameter was parsed."""

import datetime

from django import forms
from django.utils.translation import gettext_lazy as _

from reports.periods import Period, month_start
from sources.models import LeadSource
from stages.models import Pipeline
from teams.selectors import teams_managed_by

MAX_PERIOD_DAYS = 3 * 366


class ReportFilterForm(forms.Form):
    start = forms.DateField(label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    team = forms.ModelChoiceField(label=_("Team"), queryset=None, required=False, empty_label=_("All my teams"))
    channel = forms.ChoiceField(label=_("Channel"), required=False)
    pipeline = forms.ModelChoiceField(
        label=_("Pipeline"), queryset=None, required=False, empty_label=_("All pipelines")
    )

    def __init__(self, *args, user, fields: tuple[str, ...] = ("start", "end", "team"), one_pipeline=False, **kwargs):
        super().__init__(*args, **kwargs)
        if one_pipeline:  # a report about one pipeline at a time (the funnel)
            self.fields["pipeline"].empty_label = _("First active pipeline")
        self.fields["team"].queryset = teams_managed_by(user=user)
        self.fields["channel"].choices = [("", _("All channels")), *LeadSource.Channel.choices]
        self.fields["pipeline"].queryset = Pipeline.objects.filter(is_active=True)
        for name in list(self.fields):
            if name not in fields:
                del self.fields[name]

    def clean(self):
        data = super().clean()
        if "start" in self.fields:
            # Missing dates default to whole months: this month, or the month of the date given.
            start, end = data.get("start"), data.get("end")
            if start is None and end is None:
                start, end = Period.this_month().start, Period.this_month().end
            elif start is None:
                start = month_start(end)
            elif end is None:
                end = month_start(start, 1) - datetime.timedelta(days=1)
            if end < start:
                raise forms.ValidationError(_("The end date cannot be before the start date."))
            if (end - start).days > MAX_PERIOD_DAYS:
                raise forms.ValidationError(_("Choose a period of at most three years."))
            data["start"], data["end"] = start, end
        return data

    @property
    def period(self) -> Period | None:
        if "start" not in self.fields:
            return None
        return Period(self.cleaned_data["start"], self.cleaned_data["end"])
