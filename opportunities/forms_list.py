"""Forms of the opportunity list: the managers' bulk actions, and the people the filter bar
(``filter_bar.py``) and the bulk form list. They parse input; the services decide."""

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from crm import widgets
from crm.statements import UserQuery
from opportunities.models import DIFFICULTY_MAX, DIFFICULTY_MIN
from opportunities.services import DistributionStrategy
from teams.models import Team, User
from teams.selectors import teams_managed_by, users_assignable_by


def _person(user: User) -> str:
    name = user.get_full_name() or user.username
    return name if user.is_active else _("%(name)s (left)") % {"name": name}


def _people_of_managed_teams(user) -> QuerySet[User]:
    return User.objects.filter(
        pk__in=Team.members.through.objects.filter(team__in=teams_managed_by(user=user).values("pk")).values("user_id")
    ).order_by("-is_active", "first_name", "username")


_people = UserQuery(_people_of_managed_teams)


def opportunity_list_people(*, user) -> list[User]:
    """Everyone in the teams ``user`` manages (every team for an admin), former members last:
    the owner filter lists them all, the bulk form the active ones. One query, compiled once
    per process (``crm.statements.UserQuery``)."""
    return _people(user)


def opportunity_filter_people(people: list[User]) -> list[tuple[int, str]]:
    """The owner filter's choices from ``opportunity_list_people``: (id, name), former members
    marked."""
    return [(member.pk, _person(member)) for member in people]


class OpportunityBulkForm(forms.Form):
    """A manager's action on the selected rows of the list."""

    ACTIONS = [
        ("assign", _("Assign to a rep")),
        ("distribute", _("Distribute across a team")),
        ("difficulty", _("Set the difficulty")),
    ]
    POOL = "pool"

    ids = forms.TypedMultipleChoiceField(coerce=int, label=_("Selected opportunities"))
    action = forms.ChoiceField(choices=ACTIONS)
    owner = forms.ChoiceField(label=_("Assign to"), required=False, widget=widgets.Select)
    team = forms.ModelChoiceField(
        queryset=Team.objects.none(),
        label=_("Team"),
        required=False,
        empty_label=_("Choose a team"),
        widget=widgets.Select,
    )
    strategy = forms.ChoiceField(
        label=_("How"),
        choices=[
            (DistributionStrategy.ROUND_ROBIN, _("Round-robin")),
            (DistributionStrategy.LEAST_LOADED, _("Least-loaded first")),
        ],
        required=False,
        widget=widgets.Select,
    )
    difficulty = forms.DecimalField(
        label=_("Difficulty"),
        required=False,
        min_value=DIFFICULTY_MIN,
        max_value=DIFFICULTY_MAX,
        decimal_places=2,
        widget=widgets.NumberInput(attrs={"step": "0.1", "min": DIFFICULTY_MIN, "max": DIFFICULTY_MAX}),
    )
    reason = forms.CharField(label=_("Reason"), required=False, max_length=255)

    def __init__(
        self, *args, user, visible, people: list[User] | None = None, teams: list[Team] | None = None, **kwargs
    ):
        """``visible``: the opportunities ``user`` sees; selected ids outside it are refused.
        ``people`` (``opportunity_list_people``) and ``teams`` (the teams ``user`` manages, by
        name) when the page already read them."""
        kwargs.setdefault("auto_id", "bulk-%s")  # the filter bar above has fields of the same names
        super().__init__(*args, **kwargs)
        self.user = user
        self.visible = visible
        if people is None:
            assignable = list(users_assignable_by(user=user))
        else:  # the same people as users_assignable_by: the active members of the managed teams
            assignable = sorted((person for person in people if person.is_active), key=lambda person: person.username)
        self.assignable = {member.pk: member for member in assignable}
        self.fields["owner"].choices = [
            ("", _("Choose a rep")),
            (self.POOL, _("Unassigned pool")),
            *((pk, _person(member)) for pk, member in self.assignable.items()),
        ]
        self.fields["team"].queryset = queryset = teams_managed_by(user=user).order_by("name")
        teams = list(queryset) if teams is None else teams
        # The options from the list just read (a ModelChoiceField would read its queryset again).
        self.fields["team"].widget.choices = [("", self.fields["team"].empty_label)] + [
            (team.pk, team.name) for team in teams
        ]
        if not self.is_bound and len(teams) == 1:
            self.initial["team"] = teams[0].pk
        self.fields["ids"].choices = [(value, value) for value in self.data.getlist("ids") if str(value).isdigit()]

    def clean_ids(self) -> list[int]:
        ids = sorted(set(self.cleaned_data["ids"]))
        if len(ids) > 5000:
            raise forms.ValidationError(_("Select at most 5,000 opportunities at a time."))
        if self.visible.filter(pk__in=ids).count() != len(ids):
            # Never say which: an id the user cannot see does not exist for them.
            raise forms.ValidationError(_("Some of the selected opportunities do not exist."))
        return ids

    def clean(self):
        data = super().clean()
        action = data.get("action")
        if action == "assign" and "owner" not in self.errors:
            owner = data.get("owner")
            if not owner:
                self.add_error("owner", _("Choose who takes the selected opportunities."))
            else:  # one of the choices: the pool, or an active member of a team ``user`` manages
                data["owner"] = None if owner == self.POOL else self.assignable[int(owner)]
        elif action == "distribute":
            if data.get("team") is None:
                self.add_error("team", _("Choose the team to distribute across."))
            if not data.get("strategy"):
                self.add_error("strategy", _("Choose round-robin or least-loaded."))
        elif action == "difficulty" and data.get("difficulty") is None and "difficulty" not in self.errors:
            self.add_error("difficulty", _("Enter the difficulty coefficient."))
        return data
