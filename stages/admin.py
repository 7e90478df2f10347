"""Pipelines and their stages, ordered by drag and drop.

The stage formset enforces the pipeline rules of ``stages.services`` (one won stage, at least
one lost and one open stage; a stage in use is never deleted) as form errors.
"""

from adminsortable2.admin import CustomInlineFormSet, SortableAdminMixin, SortableTabularInline
from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db.models import Count
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from opportunities.forms_admin import ProtectedSummaryMixin
from opportunities.models import Opportunity
from stages.models import Pipeline, Stage
from stages.services import pipeline_check_stage_kinds, stage_check_deletable, stage_check_required_fields


class StageForm(forms.ModelForm):
    required_fields = forms.MultipleChoiceField(
        label=_("fields required to leave"),
        choices=list(Stage.REQUIRED_FIELD_CHOICES.items()),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    class Meta:
        model = Stage
        fields = (
            "name",
            "kind",
            "probability",
            "rotting_days",
            "requires_attachment",
            "requires_tracking_number",
            "required_fields",
            "guidance",
            "order",
        )
        widgets = {
            "guidance": forms.Textarea(attrs={"rows": 2, "cols": 30}),
            "name": forms.TextInput(attrs={"size": 16}),
            "probability": forms.NumberInput(attrs={"style": "width: 5em"}),
            "rotting_days": forms.NumberInput(attrs={"style": "width: 5em"}),
        }

    def clean_required_fields(self):
        return stage_check_required_fields(fields=list(self.cleaned_data.get("required_fields") or []))


class StageInlineFormSet(CustomInlineFormSet):
    """The pipeline's stages as a whole: kinds, deletions and kind changes are checked together."""

    def clean(self):
        # Deletions first: Django's own check (run by super().clean()) would load and list every
        # protected history row; the service says the same in one sentence.
        deletion_errors = []
        for form in self.forms:
            if hasattr(form, "cleaned_data") and self._should_delete_form(form) and form.instance.pk:
                try:
                    stage_check_deletable(stage=form.instance)
                except ValidationError as exc:
                    deletion_errors.extend(exc.messages)
        if deletion_errors:
            raise ValidationError(deletion_errors)
        super().clean()
        if any(self.errors):
            return
        errors: list[str] = []
        kinds: list[str] = []
        for form in self.forms:
            if not hasattr(form, "cleaned_data") or self._should_delete_form(form):
                continue
            stage = form.instance
            if stage.pk is None and not form.has_changed():
                continue
            kinds.append(form.cleaned_data.get("kind"))
            if stage.pk and "kind" in form.changed_data:
                # Deals sitting in a stage took its meaning (open or closed); changing the kind
                # under them would leave open deals in a won stage, or closed ones in an open one.
                in_use = Opportunity.objects.filter(stage=stage).count()
                if in_use:
                    errors.append(
                        ngettext(
                            "The stage “%(stage)s” holds %(count)d opportunity, so its kind cannot change.",
                            "The stage “%(stage)s” holds %(count)d opportunities, so its kind cannot change.",
                            in_use,
                        )
                        % {"stage": stage.name, "count": in_use}
                    )
        try:
            pipeline_check_stage_kinds(kinds=kinds)
        except ValidationError as exc:
            errors.extend(exc.messages)
        if errors:
            raise ValidationError(errors)


class StageInline(SortableTabularInline):
    model = Stage
    form = StageForm
    formset = StageInlineFormSet
    # Stage's own Meta ordering starts with "pipeline"; the drag handle must sort by "order".
    ordering = ("order",)
    extra = 0
    fields = (
        "name",
        "kind",
        "probability",
        "rotting_days",
        "requires_attachment",
        "requires_tracking_number",
        "required_fields",
        "guidance",
    )


@admin.register(Pipeline)
class PipelineAdmin(ProtectedSummaryMixin, SortableAdminMixin, admin.ModelAdmin):
    inlines = [StageInline]
    list_display = ("name", "is_active", "stage_count", "stage_names")
    list_filter = ("is_active",)
    search_fields = ("name",)
    ordering = ("order", "name")
    protected_hint = _("Make the pipeline inactive instead: its deals and their history stay intact.")

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(stage_total=Count("stages")).prefetch_related("stages")

    @admin.display(description=_("stages"), ordering="stage_total")
    def stage_count(self, obj):
        return obj.stage_total

    @admin.display(description=_("sequence"))
    def stage_names(self, obj):
        return " → ".join(stage.name for stage in sorted(obj.stages.all(), key=lambda s: (s.order, s.pk)))

    def protected_counts(self, objs):
        return [(str(_("Opportunities in this pipeline")), Opportunity.objects.filter(pipeline__in=objs).count())]
