from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from teams.models import Team, User


class UserBriefSerializer(serializers.ModelSerializer):
    name = serializers.SerializerMethodField(help_text=_("Full name, or the username if none is set."))

    class Meta:
        model = User
        fields = ["id", "username", "name"]

    def get_name(self, user: User) -> str:
        return user.get_full_name() or user.username


class UserSerializer(UserBriefSerializer):
    # Blank when unknown: a plain string, since an empty value is not a valid "email" format.
    email = serializers.CharField(read_only=True, help_text=_("An e-mail address, or empty."))

    class Meta:
        model = User
        fields = ["id", "username", "name", "first_name", "last_name", "email", "is_active"]


class TeamBriefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Team
        fields = ["id", "name"]


class TeamSerializer(serializers.ModelSerializer):
    managers = UserBriefSerializer(many=True, read_only=True)
    members = UserBriefSerializer(many=True, read_only=True)

    class Meta:
        model = Team
        fields = ["id", "name", "reps_see_pool", "managers", "members"]


class MyTeamSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    is_member = serializers.BooleanField(help_text=_("You are a member (you can own its deals)."))
    is_manager = serializers.BooleanField(help_text=_("You manage it (you see and assign all its deals)."))


class MeSerializer(serializers.ModelSerializer):
    name = serializers.SerializerMethodField()
    email = serializers.CharField(read_only=True, help_text=_("An e-mail address, or empty."))
    role = serializers.ChoiceField(
        choices=User.Role.choices,
        read_only=True,
        help_text=_("Derived: staff are admins, team managers are managers, everyone else is a rep."),
    )
    teams = serializers.SerializerMethodField(help_text=_("Teams you belong to or manage."))

    class Meta:
        model = User
        fields = ["id", "username", "name", "first_name", "last_name", "email", "language", "role", "teams"]

    def get_name(self, user: User) -> str:
        return user.get_full_name() or user.username

    @extend_schema_field(MyTeamSerializer(many=True))
    def get_teams(self, user: User) -> list[dict]:
        member_of = {team.pk: team for team in user.teams.all()}
        manager_of = {team.pk: team for team in user.managed_teams.all()}
        teams = sorted({**member_of, **manager_of}.values(), key=lambda team: team.name)
        return MyTeamSerializer(
            [
                {
                    "id": team.pk,
                    "name": team.name,
                    "is_member": team.pk in member_of,
                    "is_manager": team.pk in manager_of,
                }
                for team in teams
            ],
            many=True,
        ).data


class TokenSerializer(serializers.Serializer):
    token = serializers.CharField(help_text=_("Send it as `Authorization: Token <token>`."))
