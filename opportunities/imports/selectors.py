"""Reads of imports. A job is visible to the managers of its team, its creator and admins."""

import csv
from collections.abc import Iterator

from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from opportunities.imports.models import ImportJob, ImportMapping, ImportRowError
from teams.visibility import managed_team_ids, user_is_active, user_is_admin


def import_jobs_visible_to(*, user) -> QuerySet[ImportJob]:
    jobs = ImportJob.objects.select_related("team", "source", "pipeline", "stage", "created_by", "owner")
    if not user_is_active(user):
        return jobs.none()
    if user_is_admin(user):
        return jobs
    return jobs.filter(Q(team__in=managed_team_ids(user)) | Q(created_by=user))


def import_job_get_for_user(*, user, pk) -> ImportJob:
    """One visible job; anything else is ImportJob.DoesNotExist (a 404 for callers)."""
    return import_jobs_visible_to(user=user).get(pk=pk)


def import_mappings_for(*, user) -> QuerySet[ImportMapping]:
    return ImportMapping.objects.filter(Q(created_by=user) | Q(team__in=managed_team_ids(user)))


def import_job_row_errors(*, job: ImportJob, kind: str | None = None) -> QuerySet[ImportRowError]:
    rows = ImportRowError.objects.filter(job=job).order_by("row_number", "pk")
    return rows.filter(kind=kind) if kind else rows


class _Echo:
    def write(self, value: str) -> str:
        return value


def import_job_rejected_csv(*, job: ImportJob, kind: str | None = None) -> Iterator[str]:
    """The rows that were not imported, in the file's own columns plus the result and reason,
    as UTF-8 with a byte-order mark (Excel opens it with Chinese intact). Fix and re-import it:
    the two added columns are not mapped."""
    writer = csv.writer(_Echo())
    yield "\ufeff" + writer.writerow([*job.headers, _("Import result"), _("Reason")])
    width = len(job.headers)
    labels = dict(ImportRowError.Kind.choices)
    for row in import_job_row_errors(job=job, kind=kind).iterator(chunk_size=2000):
        values = list(row.values) + [""] * (width - len(row.values))
        yield writer.writerow([*values, labels[row.kind], row.reason])


def rejected_csv_name(job: ImportJob) -> str:
    stem = job.original_name.rsplit(".", 1)[0] or "import"
    return f"{stem}-rejected-{job.pk}.csv"
