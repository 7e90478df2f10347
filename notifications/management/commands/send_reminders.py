from django.core.management.base import BaseCommand

from notifications.services import job_send_reminders


class Command(BaseCommand):
    help = "Create the close-date reminders that are due (the hourly job); e-mails go through the outbox."

    def handle(self, *args, **options):
        run = job_send_reminders()
        details = run.details
        self.stdout.write(
            f"{details['reminders']} reminders due: {details['emails']} e-mails queued, "
            f"{details['notifications']} in-app notifications."
        )
