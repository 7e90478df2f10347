from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CrmConfig(AppConfig):
    name = "crm"
    verbose_name = _("Jihui CRM")

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in

        from crm.sessions import on_user_logged_in

        user_logged_in.connect(on_user_logged_in, dispatch_uid="crm-session-renewed-at-login")
