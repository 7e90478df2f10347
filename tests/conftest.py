"""Shared fixtures. The cast: ``rep`` and ``other_rep`` in ``team`` (managed by ``manager``),
``outsider_manager`` managing ``other_team`` (with ``outsider_rep``), and ``admin``."""

import pytest

from tests.factories import (
    LeadSourceFactory,
    LostReasonFactory,
    PipelineFactory,
    TeamFactory,
    UserFactory,
)


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def rep(db):
    return UserFactory(username="rep")


@pytest.fixture
def other_rep(db):
    return UserFactory(username="other_rep")


@pytest.fixture
def manager(db):
    return UserFactory(username="manager")


@pytest.fixture
def outsider_manager(db):
    return UserFactory(username="outsider_manager")


@pytest.fixture
def outsider_rep(db):
    return UserFactory(username="outsider_rep")


@pytest.fixture
def admin(db):
    return UserFactory(username="admin", is_staff=True, is_superuser=True)


@pytest.fixture
def team(rep, other_rep, manager):
    return TeamFactory(name="外贸一部", members=[rep, other_rep], managers=[manager])


@pytest.fixture
def other_team(outsider_rep, outsider_manager):
    return TeamFactory(name="外贸二部", members=[outsider_rep], managers=[outsider_manager])


@pytest.fixture
def pipeline(db):
    return PipelineFactory(name="Main pipeline")


@pytest.fixture
def stages(pipeline):
    """The pipeline's stages by name."""
    return {stage.name: stage for stage in pipeline.stages.all()}


@pytest.fixture
def source(db):
    return LeadSourceFactory(name="2026春季广交会")


@pytest.fixture
def lost_reason(db):
    return LostReasonFactory(name="Price too high")


# --- lead import (tests/imports/) -------------------------------------------------------


@pytest.fixture
def celery_eager(settings):
    """Run Celery tasks in-process (a real-worker integration test lives elsewhere)."""
    from crm.celery import app

    settings.CELERY_TASK_ALWAYS_EAGER = True
    previous = app.conf.task_always_eager, app.conf.task_eager_propagates
    app.conf.task_always_eager = app.conf.task_eager_propagates = True
    yield app
    app.conf.task_always_eager, app.conf.task_eager_propagates = previous


@pytest.fixture
def import_options(manager, team, pipeline, source):
    """What a manager chooses on the upload form, as service keyword arguments."""
    return {"source": source, "pipeline": pipeline, "team": team, "close_in_days": 30}


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """The production hasher costs ~0.5 s per user; tests make many users."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
