"""Lead import, the one service under the page, the API and ``import_leads``.

Upload (``import_job_create``: options checked with opportunity_create's rules, file decoded,
header found, mapping guessed; a file that cannot be read stores nothing) → mapping and
preview (``import_job_set_mapping`` / ``import_job_preview``) → start (``import_job_start``:
queued, the Celery task enqueued on commit) → run (``import_job_run``: chunks, each one
transaction: rows planned, created in bulk, assigned, progress counted). ``import_leads`` does
upload and start in one step for the API and the command.
"""

import datetime
import itertools
import logging
from collections.abc import Callable, Iterator

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files import File
from django.db import OperationalError, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from crm.dates import company_today
from opportunities.imports import decoding
from opportunities.imports.mapping import mapping_clean, mapping_from_names, mapping_guess, normalize_header
from opportunities.imports.models import ImportJob, ImportMapping
from opportunities.imports.planning import Action, Planner
from opportunities.imports.rows import RowReader
from opportunities.imports.writing import chunk_write, job_active_reps
from opportunities.services import _check_owner_in_team, _validate_close_date, currency_rate_for
from sources.models import LeadSource
from stages.models import Pipeline, Stage
from teams.models import Team, User
from teams.visibility import user_is_admin, user_manages_team

logger = logging.getLogger(__name__)

CHUNK_ROWS = 2000
MAX_BYTES = 50 * 1024 * 1024
MAX_ROWS = 200_000
HEADER_SEARCH_ROWS = 10
PREVIEW_ROWS = 10
PREVIEW_LISTED = 200
STALE_AFTER = datetime.timedelta(minutes=10)


def _max_bytes() -> int:
    return getattr(settings, "IMPORT_MAX_BYTES", MAX_BYTES)


def _max_rows() -> int:
    return getattr(settings, "IMPORT_MAX_ROWS", MAX_ROWS)


def user_can_import(user) -> bool:
    """Managers (of any team) and admins import; reps do not."""
    if not (user and user.is_authenticated and user.is_active):
        return False
    return user_is_admin(user) or Team.objects.filter(managers=user).exists()


def _require_importer(by: User) -> None:
    if not user_can_import(by):
        raise PermissionDenied(_("Only sales managers can import leads."))


def _require_job_manager(by: User, job: ImportJob) -> None:
    if not (by and by.is_active and user_manages_team(by, job.team_id)):
        raise PermissionDenied(_("Only a manager of the team %(team)s can run this import.") % {"team": job.team})


# --- options ---------------------------------------------------------------------------------


def _resolve_team(by: User, team: Team | None, errors: dict) -> Team | None:
    if team is None:
        managed = list(Team.objects.filter(managers=by)[:2]) if not user_is_admin(by) else list(Team.objects.all()[:2])
        if len(managed) == 1:
            return managed[0]
        errors["team"] = _("Choose the team the leads are for.")
        return None
    if not user_manages_team(by, team.pk):
        errors["team"] = _("You do not manage the team %(team)s.") % {"team": team}
        return None
    return team


def _check_options(
    *,
    by: User,
    source: LeadSource | None,
    pipeline: Pipeline | None,
    stage: Stage | None,
    team: Team | None,
    expected_close_date: datetime.date | None,
    close_in_days: int | None,
    currency: str,
    assign: str,
    owner: User | None,
    reps: list[User] | None,
    duplicates: str,
) -> dict:
    """The rules of opportunity_create for every lead of the file, checked once, up front."""
    errors: dict[str, str] = {}
    team = _resolve_team(by, team, errors)
    if source is None:
        errors["source"] = _("Choose the lead source.")
    elif not source.is_active:
        errors["source"] = _("The lead source %(source)s is not active.") % {"source": source}
    if pipeline is None:
        errors["pipeline"] = _("Choose the pipeline.")
    elif not pipeline.is_active:
        errors["pipeline"] = _("The pipeline %(pipeline)s is not active.") % {"pipeline": pipeline}
    elif stage is None:
        stage = pipeline.first_open_stage()
        if stage is None:
            errors["pipeline"] = _("The pipeline %(pipeline)s has no open stage.") % {"pipeline": pipeline}
    elif stage.pipeline_id != pipeline.pk:
        errors["stage"] = _("That stage belongs to another pipeline.")
    elif stage.kind != Stage.Kind.OPEN:
        errors["stage"] = _("A new opportunity starts in an open stage.")

    if expected_close_date is not None and close_in_days is not None:
        errors["expected_close_date"] = _("Give either a close date or a number of days, not both.")
    elif close_in_days is not None:
        if not 0 <= int(close_in_days) <= 3650:
            errors["close_in_days"] = _("Give a number of days from 0 to 3650.")
        else:
            expected_close_date = company_today() + datetime.timedelta(days=int(close_in_days))
    if "expected_close_date" not in errors and "close_in_days" not in errors:
        try:
            expected_close_date = _validate_close_date(expected_close_date)
        except ValidationError as exc:
            errors["expected_close_date"] = " ".join(exc.messages)

    currency = (currency or settings.BASE_CURRENCY).strip().upper()
    try:
        currency_rate_for(currency=currency, on=company_today())
    except ValidationError as exc:
        errors["currency"] = " ".join(exc.messages)

    if assign not in ImportJob.Assign.values:
        errors["assign"] = _("Choose how to assign the leads.")
    elif assign == ImportJob.Assign.OWNER:
        if owner is None:
            errors["owner"] = _("Choose the rep who gets every lead.")
        elif team is not None:
            try:
                _check_owner_in_team(owner, team)
            except ValidationError as exc:
                errors["owner"] = " ".join(exc.messages)
    elif assign in (ImportJob.Assign.ROUND_ROBIN, ImportJob.Assign.LEAST_LOADED) and team is not None:
        members = set(team.members.values_list("pk", flat=True))
        chosen = list(reps or [])
        if any(rep.pk not in members for rep in chosen):
            errors["reps"] = _("Every chosen rep must be a member of the team %(team)s.") % {"team": team}
        elif chosen and not any(rep.is_active for rep in chosen):
            errors["reps"] = _("None of the chosen reps is active.")
        elif not chosen and not team.members.filter(is_active=True).exists():
            errors["team"] = _("The team %(team)s has no active members to receive leads.") % {"team": team}
    if duplicates not in ImportJob.Duplicates.values:
        errors["duplicates"] = _("Choose what to do with duplicates.")
    if errors:
        raise ValidationError(errors)
    return {
        "team": team,
        "source": source,
        "pipeline": pipeline,
        "stage": stage,
        "currency": currency,
        "expected_close_date": expected_close_date,
        "assign": assign,
        "owner": owner if assign == ImportJob.Assign.OWNER else None,
        "duplicates": duplicates,
        "options": {
            "reps": [rep.pk for rep in reps or []] if assign in DISTRIBUTING else [],
            "close_in_days": close_in_days,
        },
    }


DISTRIBUTING = (ImportJob.Assign.ROUND_ROBIN, ImportJob.Assign.LEAST_LOADED)


# --- reading the stored file ------------------------------------------------------------------


def _file_info(job: ImportJob) -> decoding.FileInfo:
    return decoding.FileInfo(format=job.file_format, encoding=job.encoding, delimiter=job.delimiter)


def _data_records(f, job: ImportJob) -> Iterator[tuple[int, list[str]]]:
    return ((number, cells) for number, cells in decoding.iter_records(f, _file_info(job)) if number > job.header_row)


def _chunks(records, size: int = CHUNK_ROWS):
    iterator = iter(records)
    while chunk := list(itertools.islice(iterator, size)):
        yield chunk


def _find_header(records: list[tuple[int, list[str]]]) -> tuple[int, list[str]]:
    from opportunities.imports.mapping import looks_like_header

    for number, cells in records:
        if looks_like_header(cells):
            return number, cells
    return records[0]


def _reader(job: ImportJob) -> RowReader:
    return RowReader(
        headers=job.headers,
        mapping=job.mapping,
        team=job.team,
        currency=job.currency,
        expected_close_date=job.expected_close_date,
        read_owner=job.assign == ImportJob.Assign.COLUMN,
    )


# --- saved mappings -------------------------------------------------------------------------------


def import_mapping_for(*, by: User, team: Team | None, headers: list[str]) -> ImportMapping | None:
    """The saved mapping (the user's own or shared with the team) that knows most of these headers."""
    keys = {normalize_header(header) for header in headers if header}
    condition = Q(created_by=by) | (Q(team=team) if team else Q(pk__in=[]))
    best, best_overlap = None, 0
    for saved in ImportMapping.objects.filter(condition).order_by("-updated_at", "-id")[:50]:
        overlap = len(keys & set(saved.columns))
        if overlap > best_overlap and overlap * 2 >= len(keys):
            best, best_overlap = saved, overlap
    return best


@transaction.atomic
def import_mapping_save(
    *, by: User, name: str, headers: list[str], mapping: dict[str, str], team: Team | None = None
) -> ImportMapping:
    """Remember a mapping by header text (so column order may change next time); unmapped
    headers are remembered as "not imported"."""
    name = (name or "").strip()[:100]
    if not name:
        raise ValidationError({"save_as": _("Give the saved mapping a name.")})
    if team is not None and not user_manages_team(by, team.pk):
        raise PermissionDenied(_("You do not manage the team %(team)s.") % {"team": team})
    columns = {normalize_header(header): mapping.get(str(index), "") for index, header in enumerate(headers) if header}
    saved, _created = ImportMapping.objects.update_or_create(
        created_by=by, name=name, defaults={"columns": columns, "team": team}
    )
    return saved


# --- upload -----------------------------------------------------------------------------------


@transaction.atomic
def import_job_create(
    *,
    by: User,
    file,
    source: LeadSource | None,
    pipeline: Pipeline | None,
    stage: Stage | None = None,
    team: Team | None = None,
    expected_close_date: datetime.date | None = None,
    close_in_days: int | None = None,
    currency: str = "CNY",
    assign: str = ImportJob.Assign.POOL,
    owner: User | None = None,
    reps: list[User] | None = None,
    duplicates: str = ImportJob.Duplicates.SKIP,
    mapping: dict | None = None,
    require_mapping: bool = False,
) -> ImportJob:
    """Accept an uploaded file for import by a manager of the team.

    Every option is checked as opportunity_create would check it (active source and pipeline,
    an open start stage, a close date not in the past, a known currency rate, owners who are
    active members of the team). The file must decode (UTF-8 with or without BOM, GB18030/GBK,
    UTF-16; or XLSX) and have a header row; otherwise a ValidationError names the problem and
    nothing is stored. The mapping is ``mapping`` (by header text or column number) over the
    best saved mapping over the recognised headers.
    """
    _require_importer(by)
    resolved = _check_options(
        by=by,
        source=source,
        pipeline=pipeline,
        stage=stage,
        team=team,
        expected_close_date=expected_close_date,
        close_in_days=close_in_days,
        currency=currency,
        assign=assign,
        owner=owner,
        reps=reps,
        duplicates=duplicates,
    )
    if file is None:
        raise ValidationError({"file": _("Choose a CSV or XLSX file.")})
    try:
        info = decoding.inspect_file(file, max_bytes=_max_bytes())
        head = decoding.first_records(file, info, HEADER_SEARCH_ROWS)
    except decoding.FileFormatError as exc:
        raise ValidationError({"file": exc.messages}) from exc
    if not head:
        raise ValidationError({"file": _("The file has no rows.")})
    header_row, headers = _find_header(head)

    saved = import_mapping_for(by=by, team=resolved["team"], headers=headers)
    guessed = mapping_guess(headers, saved.columns if saved else None)
    if mapping:
        guessed = mapping_from_names(headers, mapping, guessed)
    if require_mapping or mapping:
        try:
            guessed = mapping_clean(headers, guessed)
        except ValidationError as exc:
            raise ValidationError({"mapping": exc.messages}) from exc
    if resolved["assign"] == ImportJob.Assign.COLUMN and require_mapping and "owner" not in guessed.values():
        raise ValidationError({"mapping": _("Choose the column that holds the owner.")})

    job = ImportJob(
        created_by=by,
        original_name=(getattr(file, "name", "") or "leads").rsplit("/", 1)[-1][:255],
        file_size=info.size,
        file_sha256=info.sha256,
        file_format=info.format,
        encoding=info.encoding,
        delimiter=info.delimiter,
        header_row=header_row,
        headers=headers,
        mapping=guessed,
        **{key: value for key, value in resolved.items()},
    )
    file.seek(0)
    job.file.save(job.original_name, file if isinstance(file, File) else File(file), save=False)
    job.save()
    return job


# --- mapping and preview -------------------------------------------------------------------


def import_job_preview(*, job: ImportJob, by: User, save: bool = True) -> dict:
    """Read the whole file as the import will (same reader, same planner, nothing written):
    the first rows as they will be created, every row's errors and duplicates, the counts."""
    _require_job_manager(by, job)
    reader = _reader(job)
    planner = Planner(team_id=job.team_id, by=by, duplicates=job.duplicates)
    counts = dict.fromkeys(
        ("total", "create", "attach", "skip", "fail", "customers", "contacts", "duplicates", "already_imported"), 0
    )
    sample, problems, duplicates = [], [], []
    with job.file.open("rb") as f:
        try:
            for chunk in _chunks(_data_records(f, job)):
                for plan in planner.plan([reader.read(number, cells) for number, cells in chunk]):
                    counts["total"] += 1
                    counts[plan.action] += 1
                    counts["customers"] += plan.new_customer
                    counts["contacts"] += plan.new_contact
                    if plan.duplicate:
                        counts["duplicates"] += 1
                        if len(duplicates) < PREVIEW_LISTED:
                            duplicates.append({"row": plan.row.number, "detail": plan.duplicate, "action": plan.action})
                    elif plan.action == Action.SKIP:
                        counts["already_imported"] += 1
                    if plan.action == Action.FAIL and len(problems) < PREVIEW_LISTED:
                        problems.append({"row": plan.row.number, "reason": plan.reason, "values": plan.row.cells})
                    if plan.action in (Action.CREATE, Action.ATTACH) and len(sample) < PREVIEW_ROWS:
                        shown = plan.row.display()
                        shown["action"] = plan.action
                        shown["customer"] = plan.customer.name
                        sample.append(shown)
        except decoding.FileFormatError as exc:
            raise ValidationError({"file": exc.messages}) from exc
    if counts["total"] > _max_rows():
        raise ValidationError(
            {
                "file": _("The file has %(count)d rows; the limit is %(limit)d. Split it.")
                % {"count": counts["total"], "limit": _max_rows()}
            }
        )
    preview = {
        "counts": counts,
        "rows": sample,
        "errors": problems,
        "duplicates": duplicates,
        "unmapped": [header for index, header in enumerate(job.headers) if str(index) not in job.mapping and header],
    }
    if save:
        ImportJob.objects.filter(pk=job.pk).update(preview=preview, total=counts["total"], updated_at=timezone.now())
    job.preview, job.total = preview, counts["total"]
    return preview


@transaction.atomic
def import_job_set_mapping(
    *,
    job: ImportJob,
    by: User,
    mapping: dict,
    duplicates: str | None = None,
    save_as: str = "",
    share_with_team: bool = False,
    enqueue: bool = True,
) -> ImportJob:
    """Correct the mapping of an import not yet started (and optionally save it for next
    time), then preview the file with it: in the worker (a 100,000-row file takes longer than a
    web request should), or here with ``enqueue=False``."""
    _require_job_manager(by, job)
    job = ImportJob.objects.select_for_update().get(pk=job.pk)
    if job.status not in (ImportJob.Status.DRAFT, ImportJob.Status.PREVIEWING):
        raise ValidationError(_("This import has already started; its mapping cannot change."))
    try:
        job.mapping = mapping_clean(job.headers, mapping)
    except ValidationError as exc:
        raise ValidationError({"mapping": exc.messages}) from exc
    if job.assign == ImportJob.Assign.COLUMN and "owner" not in job.mapping.values():
        raise ValidationError({"mapping": _("Choose the column that holds the owner.")})
    if duplicates is not None:
        if duplicates not in ImportJob.Duplicates.values:
            raise ValidationError({"duplicates": _("Choose what to do with duplicates.")})
        job.duplicates = duplicates
    job.status = ImportJob.Status.PREVIEWING if enqueue else ImportJob.Status.DRAFT
    job.preview = {}
    job.preview_requested_at = timezone.now()
    job.save(update_fields=["mapping", "duplicates", "status", "preview", "preview_requested_at", "updated_at"])
    if save_as:
        import_mapping_save(
            by=by, name=save_as, headers=job.headers, mapping=job.mapping, team=job.team if share_with_team else None
        )
    if enqueue:
        from opportunities.imports.tasks import import_job_preview_task

        job_id = job.pk
        transaction.on_commit(lambda: import_job_preview_task.delay(job_id))
    else:
        import_job_preview(job=job, by=by)
    return job


def import_job_preview_run(*, job_id: int) -> ImportJob:
    """The worker's side of ``import_job_set_mapping``: compute the preview asked for last and
    hand the job back to the manager (status draft), with the preview or the reason it failed."""
    job = ImportJob.objects.select_related("team", "created_by").get(pk=job_id)
    if job.status != ImportJob.Status.PREVIEWING:
        return job
    asked_at = job.preview_requested_at
    try:
        preview = import_job_preview(job=job, by=job.created_by, save=False)
    except (ValidationError, PermissionDenied) as exc:
        messages = exc.messages if hasattr(exc, "messages") else [str(exc)]
        preview = {"error": " ".join(str(message) for message in messages)}
    ImportJob.objects.filter(pk=job.pk, status=ImportJob.Status.PREVIEWING, preview_requested_at=asked_at).update(
        status=ImportJob.Status.DRAFT,
        preview=preview,
        total=preview.get("counts", {}).get("total", 0),
        updated_at=timezone.now(),
    )
    job.refresh_from_db()
    return job


# --- start and run ------------------------------------------------------------------------------


@transaction.atomic
def import_job_start(*, job: ImportJob, by: User, duplicates: str | None = None, enqueue: bool = True) -> ImportJob:
    """Queue an import; the worker picks it up once this transaction commits."""
    _require_job_manager(by, job)
    job = ImportJob.objects.select_for_update().get(pk=job.pk)
    if job.status != ImportJob.Status.DRAFT:
        raise ValidationError(_("This import has already been started."), code="started")
    try:
        job.mapping = mapping_clean(job.headers, job.mapping)
    except ValidationError as exc:
        raise ValidationError({"mapping": exc.messages}) from exc
    if job.assign == ImportJob.Assign.COLUMN and "owner" not in job.mapping.values():
        raise ValidationError({"mapping": _("Choose the column that holds the owner.")})
    if duplicates is not None:
        if duplicates not in ImportJob.Duplicates.values:
            raise ValidationError({"duplicates": _("Choose what to do with duplicates.")})
        job.duplicates = duplicates
    job.status = ImportJob.Status.QUEUED
    job.queued_at = timezone.now()
    job.save(update_fields=["mapping", "duplicates", "status", "queued_at", "updated_at"])
    if enqueue:
        from opportunities.imports.tasks import import_job_run_task

        job_id = job.pk
        transaction.on_commit(lambda: import_job_run_task.delay(job_id))
    return job


def import_leads(*, by: User, file, enqueue: bool = True, **options) -> ImportJob:
    """Upload and start in one step (API and command): the mapping is the recognised headers,
    corrected by ``mapping`` if given, and must include the company."""
    with transaction.atomic():
        job = import_job_create(by=by, file=file, require_mapping=True, **options)
        return import_job_start(job=job, by=by, enqueue=enqueue)


def _claim(job_id: int) -> ImportJob | None:
    """Take the job with a conditional UPDATE, so two workers never run it at once; a run whose
    worker died (no heartbeat for STALE_AFTER) may be taken over, resuming after its last chunk."""
    now = timezone.now()
    claimed = ImportJob.objects.filter(
        Q(status=ImportJob.Status.QUEUED) | Q(status=ImportJob.Status.RUNNING, heartbeat_at__lt=now - STALE_AFTER),
        pk=job_id,
    ).update(status=ImportJob.Status.RUNNING, heartbeat_at=now, started_at=now, updated_at=now)
    return ImportJob.objects.select_related("team", "stage", "created_by", "owner").get(pk=job_id) if claimed else None


def _check_still_valid(job: ImportJob) -> None:
    """The world may have changed since the upload: check the options again before writing."""
    by = job.created_by
    if not by.is_active or not user_manages_team(by, job.team_id):
        raise PermissionDenied(_("%(user)s no longer manages the team %(team)s.") % {"user": by, "team": job.team})
    _check_options(
        by=by,
        source=job.source,
        pipeline=job.pipeline,
        stage=job.stage,
        team=job.team,
        expected_close_date=max(job.expected_close_date, company_today()),
        close_in_days=None,
        currency=job.currency,
        assign=job.assign,
        owner=job.owner,
        reps=None,
        duplicates=job.duplicates,
    )
    if job.assign in DISTRIBUTING:
        job_active_reps(job)


def import_job_run(*, job_id: int, progress: Callable[[ImportJob], None] | None = None) -> ImportJob:
    """Import the rows of a queued job, a chunk per transaction (invalid rows are never
    half-created, a crash loses at most the chunk in hand, and a re-run resumes after the last
    committed chunk). Owners are chosen by the services' rules (opportunities/imports/writing.py)."""
    job = _claim(job_id)
    if job is None:
        return ImportJob.objects.get(pk=job_id)
    try:
        _run(job, progress)
    except OperationalError:
        # Transient (connection lost, lock timeout): back to the queue for the task's retry.
        ImportJob.objects.filter(pk=job.pk).update(status=ImportJob.Status.QUEUED, updated_at=timezone.now())
        raise
    except (ValidationError, PermissionDenied, decoding.FileFormatError) as exc:
        messages = exc.messages if hasattr(exc, "messages") else [str(exc)]
        _finish(job, ImportJob.Status.FAILED, " ".join(str(message) for message in messages))
    except Exception:
        logger.exception("Import %s failed", job.pk)
        _finish(
            job,
            ImportJob.Status.FAILED,
            _(
                "The import stopped on an unexpected error; the rows before it were "
                "imported. Start a new import of the same file to finish it."
            ),
        )
    job.refresh_from_db()
    if progress:
        progress(job)
    return job


def _finish(job: ImportJob, status: str, error: str = "") -> None:
    now = timezone.now()
    ImportJob.objects.filter(pk=job.pk).update(
        status=status, error=error, finished_at=now, heartbeat_at=now, updated_at=now
    )


def _run(job: ImportJob, progress) -> None:
    _check_still_valid(job)
    by = job.created_by
    reader = _reader(job)
    planner = Planner(team_id=job.team_id, by=by, duplicates=job.duplicates)
    with job.file.open("rb") as f:
        if not job.total:
            total = sum(1 for _record in _data_records(f, job))
            if total > _max_rows():
                raise ValidationError(
                    _("The file has %(count)d rows; the limit is %(limit)d. Split it.")
                    % {"count": total, "limit": _max_rows()}
                )
            ImportJob.objects.filter(pk=job.pk).update(total=total)
            job.total = total
        records = _data_records(f, job)
        for _number, cells in itertools.islice(records, job.processed):
            reader.count_occurrence(cells)  # resuming: keep the fingerprints of later identical rows
        for chunk in _chunks(records):
            rows = [reader.read(number, cells) for number, cells in chunk]
            with transaction.atomic():
                # One import at a time per team: duplicate checks and the round-robin pointer
                # are read and written under this lock.
                Team.objects.select_for_update().get(pk=job.team_id)
                result = chunk_write(job=job, plans=planner.plan(rows), by=by)
                now = timezone.now()
                ImportJob.objects.filter(pk=job.pk).update(
                    processed=F("processed") + len(rows),
                    created=F("created") + result.created,
                    skipped=F("skipped") + result.skipped,
                    failed=F("failed") + result.failed,
                    customers_created=F("customers_created") + result.customers,
                    contacts_created=F("contacts_created") + result.contacts,
                    heartbeat_at=now,
                    updated_at=now,
                )
            if progress:
                job.refresh_from_db()
                progress(job)
    _finish(job, ImportJob.Status.DONE)


# --- summary ---------------------------------------------------------------------------------------


def import_job_summary(job: ImportJob) -> str:
    """One line for the page, the API and the command."""
    rows = ngettext("%(count)d row", "%(count)d rows", job.total) % {"count": job.total}
    return _(
        "Import #%(id)d (%(file)s): %(status)s — %(rows)s, %(processed)d processed: %(created)d created, "
        "%(skipped)d skipped, %(failed)d rejected; %(customers)d new customers, %(contacts)d new contacts."
    ) % {
        "id": job.pk,
        "file": job.original_name,
        "status": job.get_status_display(),
        "rows": rows,
        "processed": job.processed,
        "created": job.created,
        "skipped": job.skipped,
        "failed": job.failed,
        "customers": job.customers_created,
        "contacts": job.contacts_created,
    }
