"""What migrate leaves behind: editable schedules in django-celery-beat's tables and the default rules."""

import pytest
from django.apps import apps
from django_celery_beat.models import PeriodicTask

from notifications.defaults import install_defaults
from notifications.models import ReminderRule


@pytest.mark.django_db
def test_it_has_the_default_schedules_after_migrate():
    tasks = {task.task: task for task in PeriodicTask.objects.select_related("crontab", "interval")}
    expire = tasks["notifications.expire_overdue"].crontab
    assert (expire.minute, expire.hour, str(expire.timezone)) == ("10", "0", "Asia/Shanghai")
    assert tasks["notifications.send_reminders"].crontab.hour == "*"
    assert tasks["notifications.stale_alerts"].crontab.hour == "6"
    sweep = tasks["notifications.sweep_outbox"].interval
    assert (sweep.every, sweep.period) == (60, "seconds")
    assert all(task.enabled for task in tasks.values())


@pytest.mark.django_db
def test_it_has_the_default_rules_after_migrate():
    reminder = ReminderRule.objects.get(kind="close_date")
    assert (reminder.days_before, reminder.to_owner, reminder.to_managers, reminder.is_active) == (7, True, False, True)
    digest = ReminderRule.objects.get(kind="expiry_digest")
    assert (digest.to_owner, digest.to_managers) == (True, True)


@pytest.mark.django_db
def test_it_keeps_admin_edits_when_the_defaults_are_installed_again():
    task = PeriodicTask.objects.get(task="notifications.expire_overdue")
    task.enabled = False
    task.save()
    ReminderRule.objects.filter(kind="close_date").update(days_before=3)
    install_defaults(apps)
    assert PeriodicTask.objects.get(task="notifications.expire_overdue").enabled is False
    assert list(ReminderRule.objects.filter(kind="close_date").values_list("days_before", flat=True)) == [3]
    assert PeriodicTask.objects.filter(task__startswith="notifications.").count() == 4
