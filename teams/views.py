"""Team pages for managers: their teams, a team's reps with their deal counts, and the hand-over
of a leaving rep's deals (preview, then confirm). Reps get 403; a team the user does not manage
is a 404."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods

from opportunities.models import Opportunity
from opportunities.selectors import opportunity_handover_preview
from teams.forms import HandOverForm
from teams.models import Team
from teams.selectors import team_get_managed, team_members_with_deal_counts, teams_managed_with_counts, user_is_manager
from teams.services import team_hand_over


def _require_manager(request: HttpRequest) -> None:
    if not user_is_manager(user=request.user):
        raise PermissionDenied(_("Only sales managers can see the team pages."))


def _team_for(request: HttpRequest, pk: int) -> Team:
    _require_manager(request)
    try:
        return team_get_managed(user=request.user, pk=pk)
    except Team.DoesNotExist as exc:
        raise Http404 from exc


@require_GET
@login_required
def team_list(request: HttpRequest) -> HttpResponse:
    _require_manager(request)
    teams = list(teams_managed_with_counts(user=request.user))
    if len(teams) == 1:
        return redirect("teams:detail", pk=teams[0].pk)
    return render(request, "teams/team_list.html", {"teams": teams})


def _team_context(team: Team) -> dict:
    members = team_members_with_deal_counts(teams=Team.objects.filter(pk=team.pk), include_inactive=True)
    pool = Opportunity.objects.filter(team=team, status=Opportunity.Status.OPEN, owner__isnull=True).count()
    return {"team": team, "members": members, "pool": pool}


@require_GET
@login_required
def team_detail(request: HttpRequest, pk: int) -> HttpResponse:
    team = _team_for(request, pk)
    context = _team_context(team) | {"form": HandOverForm(team=team)}
    return render(request, "teams/team_detail.html", context)


@require_http_methods(["GET", "POST"])
@login_required
def team_handover(request: HttpRequest, pk: int) -> HttpResponse:
    """GET: the preview — exactly which deals would move. POST (from the preview): do it, if
    the deals are still those previewed; otherwise show the new preview."""
    team = _team_for(request, pk)
    form = HandOverForm(request.POST if request.method == "POST" else request.GET, team=team)
    preview = None
    if form.is_valid():
        data = form.cleaned_data
        preview = opportunity_handover_preview(by=request.user, from_owner=data["from_user"])
        if request.method == "POST":
            if request.POST.get("expected", "") != preview["ids"]:
                messages.warning(request, _("The deals changed since the preview: check the list again."))
            else:
                try:
                    moved = team_hand_over(
                        from_user=data["from_user"],
                        to_user=data["successor"],
                        by=request.user,
                        reason=data["reason"] or _("Handed over"),
                        deactivate=data["deactivate"],
                    )
                except (ValidationError, PermissionDenied) as exc:
                    form.add_error(None, getattr(exc, "messages", None) or str(exc))
                else:
                    leaving = data["from_user"].get_full_name() or data["from_user"].username
                    messages.success(
                        request,
                        ngettext(
                            "%(count)d open opportunity of %(name)s handed over.",
                            "%(count)d open opportunities of %(name)s handed over.",
                            moved,
                        )
                        % {"count": moved, "name": leaving}
                        + (" " + _("The account is deactivated.") if data["deactivate"] else ""),
                    )
                    return redirect("teams:detail", pk=team.pk)
    context = _team_context(team) | {"form": form, "preview": preview}
    return render(request, "teams/team_detail.html", context)
