"""The team page's hand-over form. It parses input; the services decide."""

from django import forms
from django.utils.translation import gettext_lazy as _

from teams.models import Team, User


def _name(user: User) -> str:
    return user.get_full_name() or user.username


class HandOverForm(forms.Form):
    """Every open deal of a leaving rep → a successor (or the team's pool)."""

    POOL = "pool"

    from_user = forms.ModelChoiceField(queryset=User.objects.none(), label=_("Leaving rep"), empty_label=_("Choose"))
    to_user = forms.ChoiceField(label=_("Successor"))
    reason = forms.CharField(label=_("Reason"), max_length=200, required=False)
    deactivate = forms.BooleanField(label=_("Then deactivate the leaving rep's account"), required=False)

    def __init__(self, *args, team: Team, **kwargs):
        super().__init__(*args, **kwargs)
        self.team = team
        members = list(team.members.filter(is_active=True).order_by("first_name", "username"))
        self.members = {member.pk: member for member in members}
        self.fields["from_user"].queryset = team.members.filter(is_active=True).order_by("first_name", "username")
        self.fields["from_user"].label_from_instance = _name
        self.fields["to_user"].choices = [
            ("", _("Choose")),
            *((member.pk, _name(member)) for member in members),
            (self.POOL, _("The team's unassigned pool")),
        ]

    def clean(self):
        data = super().clean()
        target = data.get("to_user")
        if target == self.POOL:
            data["successor"] = None
        elif target and target.isdigit() and int(target) in self.members:
            data["successor"] = self.members[int(target)]
        elif "to_user" not in self.errors:
            self.add_error("to_user", _("Choose an active member of the team, or the pool."))
        leaving = data.get("from_user")
        if leaving is not None and data.get("successor") is not None and data["successor"].pk == leaving.pk:
            self.add_error("to_user", _("Choose a different person to take over."))
        return data
