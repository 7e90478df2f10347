from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _

from crm.models import TimeStampedModel


class User(AbstractUser):
    """A person who logs in. People who leave are deactivated (is_active=False), never deleted."""

    class Role(models.TextChoices):
        REP = "rep", _("Sales rep")
        MANAGER = "manager", _("Sales manager")
        ADMIN = "admin", _("Administrator")

    language = models.CharField(
        _("language"), max_length=10, blank=True, help_text=_("Language of e-mails; empty follows the site default.")
    )

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")

    @property
    def role(self) -> str:
        """Derived, never stored: staff are admins, team managers are managers, the rest reps."""
        if self.is_staff or self.is_superuser:
            return self.Role.ADMIN
        if self.managed_teams.exists():
            return self.Role.MANAGER
        return self.Role.REP

    @property
    def is_crm_admin(self) -> bool:
        return self.is_active and (self.is_staff or self.is_superuser)

    def __str__(self) -> str:
        full = self.get_full_name()
        return f"{full} ({self.username})" if full else self.username


class Team(TimeStampedModel):
    name = models.CharField(_("name"), max_length=100, unique=True)
    managers = models.ManyToManyField(User, related_name="managed_teams", blank=True, verbose_name=_("managers"))
    members = models.ManyToManyField(User, related_name="teams", blank=True, verbose_name=_("members"))
    reps_see_pool = models.BooleanField(
        _("reps see the unassigned pool"),
        default=False,
        help_text=_("If set, every member can see and work this team's unassigned opportunities."),
    )
    # Round-robin pointer: the last rep handed a lead, so the next distribution starts after them.
    round_robin_last = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )

    class Meta:
        verbose_name = _("team")
        verbose_name_plural = _("teams")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name
