from django.core.management.base import BaseCommand

from notifications.services import job_stale_alerts


class Command(BaseCommand):
    help = "Alert owners of deals idle longer than their stage's rotting days (the daily job)."

    def handle(self, *args, **options):
        details = job_stale_alerts().details
        self.stdout.write(f"{details['alerts']} stale deals alerted; {details['emails']} e-mails queued.")
