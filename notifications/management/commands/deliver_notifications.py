from django.core.management.base import BaseCommand

from notifications.services import job_deliver_notifications


class Command(BaseCommand):
    help = (
        "Send the queued e-mails that are due, in this process. With --enqueue, do what the "
        "every-minute periodic sweep does instead: hand them to the Celery workers."
    )

    def add_arguments(self, parser):
        parser.add_argument("--enqueue", action="store_true", help="Enqueue for the workers instead of sending here.")

    def handle(self, *args, **options):
        run = job_deliver_notifications(inline=not options["enqueue"])
        details = run.details
        if options["enqueue"]:
            self.stdout.write(f"Enqueued {details['enqueued']} e-mails for delivery.")
        else:
            self.stdout.write(
                f"Sent {details['sent']}, will retry {details['retry']}, failed {details['failed']}, "
                f"skipped {details['skipped']} (taken by another worker or not due)."
            )
