"""Users and teams. People who leave are deactivated through ``user_deactivate`` (their open
deals handed over with history), never deleted."""

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.db import transaction
from django.db.models import Count, Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from opportunities.forms_admin import (
    SERVICE_ERRORS,
    DeactivateUserForm,
    ProtectedSummaryMixin,
    action_form_response,
    action_step_form,
    add_service_errors,
)
from opportunities.models import Assignment, Opportunity
from teams.models import Team, User
from teams.services import user_deactivate


class TeamForm(forms.ModelForm):
    class Meta:
        model = Team
        fields = ("name", "reps_see_pool", "managers", "members")

    def clean_members(self):
        members = self.cleaned_data["members"]
        current = set(self.instance.members.values_list("pk", flat=True)) if self.instance.pk else set()
        newly_inactive = [user for user in members if user.pk not in current and not user.is_active]
        if newly_inactive:
            raise forms.ValidationError(
                _("Deactivated people cannot join a team: %(users)s.")
                % {"users": ", ".join(str(user) for user in newly_inactive)}
            )
        return members


@admin.register(Team)
class TeamAdmin(ProtectedSummaryMixin, admin.ModelAdmin):
    form = TeamForm
    list_display = ("name", "manager_names", "member_count", "reps_see_pool")
    list_filter = ("reps_see_pool",)
    search_fields = ("name", "members__username", "members__first_name", "members__last_name")
    filter_horizontal = ("managers", "members")
    ordering = ("name",)
    protected_hint = _("A team with deals or assignment history cannot be deleted.")

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(member_total=Count("members", distinct=True))
            .prefetch_related("managers")
        )

    @admin.display(description=_("managers"))
    def manager_names(self, obj):
        return ", ".join(str(user) for user in obj.managers.all())

    @admin.display(description=_("members"), ordering="member_total")
    def member_count(self, obj):
        return obj.member_total

    def protected_counts(self, objs):
        return [
            (str(_("Opportunities of this team")), Opportunity.objects.filter(team__in=objs).count()),
            (
                str(_("Assignments in its history")),
                Assignment.objects.filter(Q(to_team__in=objs) | Q(from_team__in=objs)).count(),
            ),
        ]


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    fieldsets = (
        *DjangoUserAdmin.fieldsets[:1],
        (_("Personal info"), {"fields": ("first_name", "last_name", "email", "language")}),
        *DjangoUserAdmin.fieldsets[2:],
    )
    list_display = ("username", "full_name", "email", "team_names", "is_active", "is_staff", "last_login")
    list_filter = ("is_active", "is_staff", "is_superuser", "teams")
    actions = ["deactivate_and_hand_over"]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("teams")

    @admin.display(description=_("name"), ordering="first_name")
    def full_name(self, obj):
        return obj.get_full_name()

    @admin.display(description=_("teams"))
    def team_names(self, obj):
        return ", ".join(team.name for team in obj.teams.all())

    def has_delete_permission(self, request, obj=None):
        # People are deactivated, never deleted: every deal, activity and history row keeps its author.
        return False

    def get_readonly_fields(self, request, obj=None):
        readonly = list(super().get_readonly_fields(request, obj))
        if obj is not None and obj.is_active:
            # Deactivating must hand the open deals over: that is the list's action, not a checkbox.
            readonly.append("is_active")
        return readonly

    @admin.action(description=_("Deactivate and hand over open deals"), permissions=["change"])
    def deactivate_and_hand_over(self, request, queryset):
        leaving = list(queryset.filter(is_active=True).order_by("username"))
        if not leaving:
            self.message_user(request, _("The selected people are already deactivated."), messages.WARNING)
            return None
        form = action_step_form(DeactivateUserForm, request, leaving_ids=[user.pk for user in leaving])
        if form.is_bound and form.is_valid():
            successor = form.cleaned_data["successor"]
            moved = 0
            try:
                # All or nothing: if one hand-over is refused, nobody is deactivated.
                with transaction.atomic():
                    for user in leaving:
                        moved += user_deactivate(
                            user=user, by=request.user, successor=successor, reason=form.cleaned_data["reason"]
                        )
            except SERVICE_ERRORS as exc:
                add_service_errors(form, exc)
            else:
                target = str(successor) if successor else _("the teams' unassigned pools")
                self.message_user(
                    request,
                    ngettext(
                        "%(people)d person deactivated; %(deals)d open deals handed to %(target)s.",
                        "%(people)d people deactivated; %(deals)d open deals handed to %(target)s.",
                        len(leaving),
                    )
                    % {"people": len(leaving), "deals": moved, "target": target},
                    messages.SUCCESS,
                )
                return None
        return action_form_response(
            self,
            request,
            queryset.filter(pk__in=[user.pk for user in leaving]),
            form=form,
            action="deactivate_and_hand_over",
            title=_("Deactivate and hand over open deals"),
            submit_label=_("Deactivate and hand over"),
        )
