"""Filters of user and team lists (API and pages alike)."""

import django_filters
from django.utils.translation import gettext_lazy as _

from crm.filtersets import IdFilter
from teams.models import Team, User


class UserFilterSet(django_filters.FilterSet):
    team = IdFilter(field_name="teams", label=_("Member of the team with this id"))

    class Meta:
        model = User
        fields = ["team"]


class TeamFilterSet(django_filters.FilterSet):
    class Meta:
        model = Team
        fields = ["reps_see_pool"]
