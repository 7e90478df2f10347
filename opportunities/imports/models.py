"""Import jobs and what they leave behind. Imported by ``opportunities.models`` so they live in
the opportunities app (app label ``opportunities``)."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.crypto import get_random_string
from django.utils.translation import gettext_lazy as _

from crm.models import TimeStampedModel


def import_file_path(instance: "ImportJob", filename: str) -> str:
    # Our own random name: the uploader's file name is kept in original_name only.
    suffix = ".xlsx" if instance.file_format == ImportJob.Format.XLSX else ".csv"
    return f"imports/{timezone.now():%Y/%m}/{get_random_string(24)}{suffix}"


class ImportJob(TimeStampedModel):
    """One uploaded file on its way to opportunities, with its options, mapping and progress."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Awaiting mapping")
        PREVIEWING = "previewing", _("Preparing the preview")
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Importing")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    class Format(models.TextChoices):
        CSV = "csv", "CSV"
        XLSX = "xlsx", "XLSX"

    class Assign(models.TextChoices):
        POOL = "pool", _("Leave in the team's pool")
        OWNER = "owner", _("All to one rep")
        ROUND_ROBIN = "round_robin", _("Round-robin across reps")
        LEAST_LOADED = "least_loaded", _("Least-loaded rep first")
        COLUMN = "column", _("Owner from a column")

    class Duplicates(models.TextChoices):
        SKIP = "skip", _("Skip the row")
        ATTACH = "attach", _("Attach to the existing customer")
        CREATE = "create", _("Create anyway")

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("imported by")
    )
    team = models.ForeignKey("teams.Team", on_delete=models.PROTECT, related_name="+", verbose_name=_("team"))
    source = models.ForeignKey(
        "sources.LeadSource", on_delete=models.PROTECT, related_name="+", verbose_name=_("lead source")
    )
    pipeline = models.ForeignKey(
        "stages.Pipeline", on_delete=models.PROTECT, related_name="+", verbose_name=_("pipeline")
    )
    stage = models.ForeignKey("stages.Stage", on_delete=models.PROTECT, related_name="+", verbose_name=_("stage"))
    expected_close_date = models.DateField(_("default expected close date"))
    currency = models.CharField(_("currency"), max_length=3, default="CNY")
    assign = models.CharField(_("assignment"), max_length=20, choices=Assign.choices, default=Assign.POOL)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("rep"),
    )
    duplicates = models.CharField(_("duplicates"), max_length=10, choices=Duplicates.choices, default=Duplicates.SKIP)
    # Anything else chosen at upload: {"reps": [user ids], "close_in_days": n}.
    options = models.JSONField(_("options"), default=dict, blank=True)

    file = models.FileField(_("file"), upload_to=import_file_path, max_length=255)
    original_name = models.CharField(_("file name"), max_length=255)
    file_size = models.PositiveBigIntegerField(_("size (bytes)"), default=0)
    file_sha256 = models.CharField(max_length=64, db_index=True, editable=False)
    file_format = models.CharField(_("file format"), max_length=4, choices=Format.choices, default=Format.CSV)
    encoding = models.CharField(_("encoding"), max_length=20, blank=True)
    delimiter = models.CharField(_("separator"), max_length=1, blank=True)
    header_row = models.PositiveIntegerField(_("header row"), default=1)
    headers = models.JSONField(_("columns"), default=list)
    # {column index as text: target field}; unmapped columns are absent.
    mapping = models.JSONField(_("column mapping"), default=dict, blank=True)
    preview = models.JSONField(default=dict, blank=True, editable=False)
    # When the latest preview was asked for: a preview computed for an older mapping is dropped.
    preview_requested_at = models.DateTimeField(null=True, blank=True, editable=False)

    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.DRAFT)
    total = models.PositiveIntegerField(_("rows"), default=0)
    processed = models.PositiveIntegerField(_("processed"), default=0)
    created = models.PositiveIntegerField(_("created"), default=0)
    skipped = models.PositiveIntegerField(_("skipped"), default=0)
    failed = models.PositiveIntegerField(_("rejected"), default=0)
    customers_created = models.PositiveIntegerField(_("customers created"), default=0)
    contacts_created = models.PositiveIntegerField(_("contacts created"), default=0)
    error = models.TextField(_("error"), blank=True)
    queued_at = models.DateTimeField(_("queued at"), null=True, blank=True)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    heartbeat_at = models.DateTimeField(_("last sign of life"), null=True, blank=True)

    class Meta:
        verbose_name = _("lead import")
        verbose_name_plural = _("lead imports")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["team", "created_at"], name="importjob_team_created")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(processed__lte=models.F("total")) | models.Q(total=0),
                name="importjob_processed_le_total",
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.original_name}"

    @property
    def is_finished(self) -> bool:
        return self.status in (self.Status.DONE, self.Status.FAILED)

    @property
    def percent(self) -> int:
        if self.status == self.Status.DONE:
            return 100
        return int(self.processed * 100 / self.total) if self.total else 0


class ImportRowError(models.Model):
    """A row that was not imported: rejected (an error to fix) or skipped (a duplicate, or
    already imported), with its original cells so the rejected-rows file can be re-imported."""

    class Kind(models.TextChoices):
        FAILED = "failed", _("Rejected")
        SKIPPED = "skipped", _("Skipped")

    job = models.ForeignKey(
        ImportJob, on_delete=models.CASCADE, related_name="row_errors", verbose_name=_("lead import")
    )
    row_number = models.PositiveIntegerField(_("row"))
    kind = models.CharField(_("result"), max_length=10, choices=Kind.choices)
    reason = models.TextField(_("reason"))
    values = models.JSONField(_("cells"), default=list)

    class Meta:
        verbose_name = _("rejected row")
        verbose_name_plural = _("rejected rows")
        ordering = ["job", "row_number"]
        indexes = [models.Index(fields=["job", "row_number"], name="importrowerror_job_row")]

    def __str__(self) -> str:
        return f"{self.job_id}:{self.row_number} {self.reason}"


class ImportedRow(models.Model):
    """The fingerprint of every row an import turned into an opportunity. A row whose
    fingerprint the team already has is skipped, so re-running a file creates nothing new."""

    team = models.ForeignKey("teams.Team", on_delete=models.CASCADE, related_name="+")
    fingerprint = models.CharField(max_length=64)
    job = models.ForeignKey(ImportJob, on_delete=models.CASCADE, related_name="imported_rows")
    row_number = models.PositiveIntegerField()
    opportunity = models.ForeignKey("opportunities.Opportunity", on_delete=models.CASCADE, related_name="+")

    class Meta:
        verbose_name = _("imported row")
        verbose_name_plural = _("imported rows")
        constraints = [models.UniqueConstraint(fields=["team", "fingerprint"], name="importedrow_unique_per_team")]

    def __str__(self) -> str:
        return f"{self.job_id}:{self.row_number} → {self.opportunity_id}"


class ImportMapping(TimeStampedModel):
    """A column mapping saved for next time: normalised header → target field."""

    name = models.CharField(_("name"), max_length=100)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", verbose_name=_("created by")
    )
    team = models.ForeignKey(
        "teams.Team",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("shared with team"),
    )
    columns = models.JSONField(_("columns"), default=dict)

    class Meta:
        verbose_name = _("saved column mapping")
        verbose_name_plural = _("saved column mappings")
        ordering = ["-updated_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["created_by", "name"], name="importmapping_unique_name")]

    def __str__(self) -> str:
        return self.name
