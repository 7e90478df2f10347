"""Default schedules and rules, installed once by a data migration (0002).

A data migration, not a ``post_migrate`` hook: it runs exactly once per database, so an admin
who edits, disables or deletes a schedule or the default rule keeps that choice across
deploys. The schedules are rows of django-celery-beat's tables because its DatabaseScheduler
reads only those (a ``CELERY_BEAT_SCHEDULE`` in settings would be written over the admin's
edits at every beat start).
"""

from django.conf import settings
from django.utils import timezone

# name -> (task, schedule); a schedule is ("crontab", minute, hour) or ("interval", seconds)
PERIODIC_TASKS = {
    "Expire overdue opportunities": ("notifications.expire_overdue", ("crontab", "10", "0")),
    "Close-date reminders": ("notifications.send_reminders", ("crontab", "5", "*")),
    "Stale-deal alerts": ("notifications.stale_alerts", ("crontab", "30", "6")),
    "Deliver queued e-mails": ("notifications.sweep_outbox", ("interval", 60)),
}

DESCRIPTIONS = {
    "Expire overdue opportunities": "Daily at 00:10 company time: closes open deals whose expected close date passed.",
    "Close-date reminders": "Hourly: e-mail and in-app reminders before expected close dates (see reminder rules).",
    "Stale-deal alerts": "Daily: tells owners about deals idle longer than their stage's rotting days.",
    "Deliver queued e-mails": "Every minute: re-enqueues outbox e-mails that are due (retries, broker outages).",
}


def install_defaults(apps) -> None:
    """Create the default periodic tasks and reminder rules that are missing (by name)."""
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    PeriodicTasks = apps.get_model("django_celery_beat", "PeriodicTasks")
    ReminderRule = apps.get_model("notifications", "ReminderRule")

    for name, (task, schedule) in PERIODIC_TASKS.items():
        if PeriodicTask.objects.filter(name=name).exists():
            continue
        fields = {"name": name, "task": task, "enabled": True, "description": DESCRIPTIONS[name]}
        if schedule[0] == "crontab":
            fields["crontab"], _created = CrontabSchedule.objects.get_or_create(
                minute=schedule[1],
                hour=schedule[2],
                day_of_week="*",
                day_of_month="*",
                month_of_year="*",
                timezone=settings.TIME_ZONE,
            )
        else:
            fields["interval"], _created = IntervalSchedule.objects.get_or_create(every=schedule[1], period="seconds")
        PeriodicTask.objects.create(**fields)
    # Historical models send no signals: tell a running beat that its schedule changed.
    PeriodicTasks.objects.update_or_create(ident=1, defaults={"last_update": timezone.now()})

    if not ReminderRule.objects.filter(kind="close_date").exists():
        ReminderRule.objects.create(name="7 days before — owner", kind="close_date", days_before=7, to_owner=True)
    if not ReminderRule.objects.filter(kind="expiry_digest").exists():
        ReminderRule.objects.create(
            name="Expired deals — owner and managers",
            kind="expiry_digest",
            days_before=0,
            to_owner=True,
            to_managers=True,
        )


def remove_defaults(apps) -> None:
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    PeriodicTask.objects.filter(name__in=list(PERIODIC_TASKS)).delete()
