"""Forms of the import pages: they parse input; the service decides."""

from django import forms
from django.utils.translation import gettext_lazy as _

from opportunities.imports.mapping import FIELDS, header_label
from opportunities.imports.models import ImportJob
from sources.models import LeadSource
from stages.models import Pipeline, Stage
from teams.selectors import teams_managed_by, users_assignable_by


class ImportUploadForm(forms.Form):
    file = forms.FileField(
        label=_("CSV or Excel (.xlsx) file"),
        widget=forms.ClearableFileInput(
            attrs={
                "accept": ".csv,.txt,.tsv,.xlsx,text/csv,"
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
            }
        ),
    )
    source = forms.ModelChoiceField(LeadSource.objects.none(), label=_("Lead source"))
    team = forms.ModelChoiceField(None, label=_("Team"))
    pipeline = forms.ModelChoiceField(Pipeline.objects.none(), label=_("Pipeline"))
    stage = forms.ModelChoiceField(
        Stage.objects.none(),
        label=_("Starting stage"),
        required=False,
        help_text=_("Empty: the first stage of the pipeline."),
    )
    close_in_days = forms.IntegerField(
        label=_("Expected close in (days)"),
        required=False,
        min_value=0,
        max_value=3650,
        initial=90,
        help_text=_("Or give a date below. A date in the file's own column wins."),
    )
    expected_close_date = forms.DateField(
        label=_("Expected close date"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    currency = forms.CharField(label=_("Currency"), max_length=3, initial="CNY")
    assign = forms.ChoiceField(label=_("Assign to"), choices=ImportJob.Assign.choices, initial=ImportJob.Assign.POOL)
    owner = forms.ModelChoiceField(None, label=_("Rep"), required=False, help_text=_("For “All to one rep”."))
    reps = forms.ModelMultipleChoiceField(
        None,
        label=_("Reps"),
        required=False,
        help_text=_("For round-robin and least-loaded; none chosen: every active member of the team."),
    )
    duplicates = forms.ChoiceField(
        label=_("Duplicates"), choices=ImportJob.Duplicates.choices, initial=ImportJob.Duplicates.SKIP
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["source"].queryset = LeadSource.objects.filter(is_active=True)
        self.fields["team"].queryset = teams_managed_by(user=user)
        self.fields["pipeline"].queryset = Pipeline.objects.filter(is_active=True)
        self.fields["stage"].queryset = Stage.objects.filter(
            kind=Stage.Kind.OPEN, pipeline__is_active=True
        ).select_related("pipeline")
        assignable = users_assignable_by(user=user)
        self.fields["owner"].queryset = assignable
        self.fields["reps"].queryset = assignable
        if self.fields["team"].queryset.count() == 1:
            self.fields["team"].initial = self.fields["team"].queryset.first()

    def clean(self):
        data = super().clean()
        if data.get("expected_close_date"):
            data["close_in_days"] = None
        elif data.get("close_in_days") is None:
            self.add_error("close_in_days", _("Give a number of days or a date."))
        return data


class ImportMappingForm(forms.Form):
    """One choice per column of the file, plus what to do with duplicates and a name to save as."""

    duplicates = forms.ChoiceField(label=_("Duplicates"), choices=ImportJob.Duplicates.choices)
    save_as = forms.CharField(
        label=_("Save this mapping as"),
        required=False,
        max_length=100,
        help_text=_("Files with the same columns will be mapped this way next time."),
    )
    share_with_team = forms.BooleanField(label=_("Share it with the team"), required=False)

    def __init__(self, *args, job: ImportJob, **kwargs):
        super().__init__(*args, **kwargs)
        self.job = job
        choices = [("", _("— not imported —")), *FIELDS.items()]
        self.column_fields = []
        for index in range(len(job.headers)):
            name = f"col_{index}"
            self.fields[name] = forms.ChoiceField(
                label=header_label(job.headers, index),
                choices=choices,
                required=False,
                initial=job.mapping.get(str(index), ""),
            )
            self.column_fields.append(name)
        self.fields["duplicates"].initial = job.duplicates

    def mapping(self) -> dict[str, str]:
        return {
            name.removeprefix("col_"): self.cleaned_data[name] for name in self.column_fields if self.cleaned_data[name]
        }

    def columns(self):
        return [self[name] for name in self.column_fields]
