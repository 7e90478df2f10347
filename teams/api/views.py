from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import generics
from rest_framework.authtoken.serializers import AuthTokenSerializer
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.decorators import api_view
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.settings import api_settings

from crm.api_docs import DETAIL_ERRORS, ERROR_400, ERROR_429, LIST_ERRORS, READ_ERRORS
from teams.api.serializers import MeSerializer, TeamSerializer, TokenSerializer, UserSerializer
from teams.filtersets import TeamFilterSet, UserFilterSet
from teams.models import User
from teams.selectors import teams_visible_to, users_assignable_by


class TokenObtainView(ObtainAuthToken):
    """Exchange a username and password for the caller's API token (the same token every time)."""

    # DRF leaves this view unthrottled; it is the one that most needs it (password guessing).
    throttle_classes = api_settings.DEFAULT_THROTTLE_CLASSES

    @extend_schema(
        operation_id="auth_token_create",
        summary=_("Get an API token"),
        request=AuthTokenSerializer,
        responses={200: TokenSerializer, 400: ERROR_400, 429: ERROR_429},
        auth=[],
    )
    def post(self, request, *args, **kwargs):
        return super().post(request, *args, **kwargs)


@extend_schema(summary=_("Who am I"), responses={200: MeSerializer, **READ_ERRORS})
@api_view(["GET"])
def me(request: Request) -> Response:
    return Response(MeSerializer(request.user).data)


@extend_schema(
    summary=_("Users you may assign deals to"),
    description=_(
        "Active members of the teams you manage (every active team member for an admin). "
        "A rep may assign to nobody, so a rep gets an empty list."
    ),
    responses={200: UserSerializer(many=True), **LIST_ERRORS},
)
class UserListView(generics.ListAPIView):
    serializer_class = UserSerializer
    filterset_class = UserFilterSet
    search_fields = ["username", "first_name", "last_name", "email"]
    ordering_fields = ["username", "first_name", "last_name", "id"]
    ordering = ["username"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation: no signed-in user
            return User.objects.none()
        return users_assignable_by(user=self.request.user)


@extend_schema(summary=_("User"), responses={200: UserSerializer, **DETAIL_ERRORS})
class UserDetailView(generics.RetrieveAPIView):
    serializer_class = UserSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation: no signed-in user
            return User.objects.none()
        return users_assignable_by(user=self.request.user)


@extend_schema(
    summary=_("Teams you belong to or manage"),
    description=_("Every team for an admin."),
    responses={200: TeamSerializer(many=True), **LIST_ERRORS},
)
class TeamListView(generics.ListAPIView):
    serializer_class = TeamSerializer
    filterset_class = TeamFilterSet
    search_fields = ["name"]
    ordering_fields = ["name", "id"]
    ordering = ["name"]

    def get_queryset(self):
        return teams_visible_to(user=self.request.user).prefetch_related("managers", "members")


@extend_schema(summary=_("Team"), responses={200: TeamSerializer, **DETAIL_ERRORS})
class TeamDetailView(generics.RetrieveAPIView):
    serializer_class = TeamSerializer

    def get_queryset(self):
        return teams_visible_to(user=self.request.user).prefetch_related("managers", "members")
