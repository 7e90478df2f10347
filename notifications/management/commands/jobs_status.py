from django.core.management.base import BaseCommand
from django.db.models import Count, Q
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from notifications.models import OutboxMessage
from notifications.selectors import job_runs_latest


class Command(BaseCommand):
    help = "When each periodic job last ran, how it ended and how many rows it touched; the outbox by status."

    def handle(self, *args, **options):
        def when(moment):
            return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M:%S") if moment else "—"

        self.stdout.write(f"{'job':<24}{'last started':<22}{'finished':<22}{'status':<9}{'rows':>8}  schedule")
        schedules = {task.task: task for task in PeriodicTask.objects.filter(task__startswith="notifications.")}
        task_names = {
            "expire_overdue": "notifications.expire_overdue",
            "send_reminders": "notifications.send_reminders",
            "stale_alerts": "notifications.stale_alerts",
            "deliver_notifications": "notifications.sweep_outbox",
        }
        for job, _label, run in job_runs_latest():
            task = schedules.get(task_names[job])
            schedule = "not scheduled"
            if task is not None:
                schedule = f"{task.crontab or task.interval}{'' if task.enabled else ' (disabled)'}"
            if run is None:
                self.stdout.write(f"{job:<24}{'never':<22}{'—':<22}{'—':<9}{'—':>8}  {schedule}")
                continue
            started, finished = when(run.started_at), when(run.finished_at)
            self.stdout.write(f"{job:<24}{started:<22}{finished:<22}{run.status:<9}{run.rows:>8}  {schedule}")
            if run.error:
                self.stdout.write(f"    error: {run.error.splitlines()[0][:200]}")
        by_status = OutboxMessage.objects.aggregate(
            **{status: Count("pk", filter=Q(status=status)) for status in OutboxMessage.Status.values}
        )
        self.stdout.write("outbox: " + ", ".join(f"{status} {count}" for status, count in by_status.items()))
