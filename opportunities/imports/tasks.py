"""The import's Celery task: thin, takes the job id, calls the service."""

from celery import shared_task
from django.db import OperationalError

from opportunities.imports.services import import_job_preview_run, import_job_run


@shared_task(
    name="opportunities.import_job_run",
    acks_late=True,
    autoretry_for=(OperationalError,),
    retry_backoff=5,
    max_retries=5,
    # 200,000 rows take about two minutes; the global limits (5 min) are for short jobs.
    soft_time_limit=30 * 60,
    time_limit=35 * 60,
)
def import_job_run_task(job_id: int) -> None:
    import_job_run(job_id=job_id)


@shared_task(name="opportunities.import_job_preview", acks_late=True, soft_time_limit=10 * 60, time_limit=11 * 60)
def import_job_preview_task(job_id: int) -> None:
    import_job_preview_run(job_id=job_id)
