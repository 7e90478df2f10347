"""Celery tasks of the opportunities app (found by ``app.autodiscover_tasks()``)."""

from opportunities.imports.tasks import import_job_preview_task, import_job_run_task

__all__ = ["import_job_preview_task", "import_job_run_task"]
