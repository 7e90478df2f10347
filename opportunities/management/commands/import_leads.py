"""python manage.py import_leads FILE --source ID --pipeline ID [--stage ID] [--assign round_robin --team ID]
[--duplicates skip] [--by USERNAME]

Runs the same service as the page and the API, in this process (no worker needed) unless
``--background`` is given, and prints the same summary.
"""

import datetime
import json
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files import File
from django.core.management.base import BaseCommand, CommandError

from opportunities.imports.models import ImportJob
from opportunities.imports.services import import_job_run, import_job_summary, import_leads
from sources.models import LeadSource
from stages.models import Pipeline, Stage
from teams.models import Team


class Command(BaseCommand):
    help = "Import a CSV or XLSX file of leads as customers, contacts and opportunities."

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)
        parser.add_argument("--source", type=int, required=True, help="lead source id")
        parser.add_argument("--pipeline", type=int, required=True, help="pipeline id")
        parser.add_argument("--stage", type=int, help="starting stage id (default: the pipeline's first)")
        parser.add_argument("--team", type=int, help="team id (default: the one team --by manages)")
        parser.add_argument("--assign", choices=ImportJob.Assign.values, default=ImportJob.Assign.POOL)
        parser.add_argument("--owner", help="username of the rep, for --assign owner")
        parser.add_argument("--reps", help="comma-separated usernames, for round_robin / least_loaded")
        parser.add_argument("--duplicates", choices=ImportJob.Duplicates.values, default=ImportJob.Duplicates.SKIP)
        parser.add_argument("--close-date", type=datetime.date.fromisoformat, help="YYYY-MM-DD")
        parser.add_argument("--close-in-days", type=int, help="default 90 when no --close-date")
        parser.add_argument("--currency", default="CNY")
        parser.add_argument("--mapping", type=json.loads, help='JSON, e.g. {"公司名称": "company", "3": "phone"}')
        parser.add_argument("--by", help="username of the importing manager (default: the only active superuser)")
        parser.add_argument("--background", action="store_true", help="queue for the worker and return")

    def handle(self, *args, **options):
        by = self._user_by(options["by"])
        path: Path = options["file"]
        if not path.is_file():
            raise CommandError(f"No such file: {path}")
        close_date = options["close_date"]
        close_in_days = options["close_in_days"]
        if close_date is None and close_in_days is None:
            close_in_days = 90
        with path.open("rb") as handle:
            try:
                job = import_leads(
                    by=by,
                    file=File(handle, name=path.name),
                    enqueue=options["background"],
                    source=self._get(LeadSource, options["source"], "--source"),
                    pipeline=self._get(Pipeline, options["pipeline"], "--pipeline"),
                    stage=self._get(Stage, options["stage"], "--stage") if options["stage"] else None,
                    team=self._get(Team, options["team"], "--team") if options["team"] else None,
                    expected_close_date=close_date,
                    close_in_days=close_in_days,
                    currency=options["currency"],
                    assign=options["assign"],
                    owner=self._users(options["owner"])[0] if options["owner"] else None,
                    reps=self._users(options["reps"]) if options["reps"] else None,
                    duplicates=options["duplicates"],
                    mapping=options["mapping"],
                )
            except ValidationError as exc:
                raise CommandError(self._messages(exc)) from exc
            except PermissionDenied as exc:
                raise CommandError(str(exc)) from exc
        if options["background"]:
            self.stdout.write(import_job_summary(job))
            return
        job = import_job_run(
            job_id=job.pk,
            progress=lambda current: self.stderr.write(
                f"\r{current.processed}/{current.total} ({current.percent}%)", ending=""
            ),
        )
        self.stderr.write("")
        self.stdout.write(import_job_summary(job))
        if job.error:
            raise CommandError(job.error)
        if job.skipped or job.failed:
            self.stdout.write(f"Rows not imported: GET /api/imports/{job.pk}/errors/?format=csv")

    def _get(self, model, pk, flag):
        try:
            return model.objects.get(pk=pk)
        except model.DoesNotExist as exc:
            raise CommandError(f"{flag}: no {model._meta.verbose_name} with id {pk}") from exc

    def _users(self, names: str):
        User = get_user_model()
        found = []
        for name in (part.strip() for part in names.split(",") if part.strip()):
            try:
                found.append(User.objects.get(username=name))
            except User.DoesNotExist as exc:
                raise CommandError(f"No user {name!r}") from exc
        return found

    def _user_by(self, username: str | None):
        User = get_user_model()
        if username:
            return self._users(username)[0]
        admins = list(User.objects.filter(is_superuser=True, is_active=True)[:2])
        if len(admins) != 1:
            raise CommandError("Say who imports with --by USERNAME.")
        return admins[0]

    @staticmethod
    def _messages(exc: ValidationError) -> str:
        if hasattr(exc, "error_dict"):
            return "; ".join(f"{field}: {' '.join(messages)}" for field, messages in exc.message_dict.items())
        return " ".join(exc.messages)
