from django.core.management.base import BaseCommand

from notifications.services import job_expire_overdue


class Command(BaseCommand):
    help = "Close overdue open opportunities as expired and notify their owners and managers (the nightly job)."

    def handle(self, *args, **options):
        run = job_expire_overdue()
        details = run.details
        self.stdout.write(
            f"Expired {details['expired']} opportunities; {details['notifications']} in-app notifications, "
            f"{details['digests']} digest e-mails queued."
        )
