from django.urls import path

from teams.api import views

urlpatterns = [
    path("auth/token/", views.TokenObtainView.as_view(), name="auth-token"),
    path("me/", views.me, name="me"),
    path("users/", views.UserListView.as_view(), name="user-list"),
    path("users/<int:pk>/", views.UserDetailView.as_view(), name="user-detail"),
    path("teams/", views.TeamListView.as_view(), name="team-list"),
    path("teams/<int:pk>/", views.TeamDetailView.as_view(), name="team-detail"),
]
