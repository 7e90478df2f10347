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


@pytest.fixture
def report_scenario(
    admin, manager, rep, other_rep, outsider_rep, outsider_manager, team, other_team, pipeline, lost_reason
):
    """The hand-computed March 2026 story of tests/reports/scenario.py, looked at on 10 April 2026."""
    import time_machine

    from tests.reports.scenario import NOW, build

    scenario = build(
        admin=admin, manager=manager, rep=rep, other_rep=other_rep, outsider_rep=outsider_rep,
        team=team, other_team=other_team, pipeline=pipeline, lost_reason=lost_reason,
    )
    with time_machine.travel(NOW, tick=False):
        yield scenario


@pytest.fixture
def fast_password_hasher(settings):
    """Report tests create many users; a cheap hasher keeps them quick (passwords are not under test there)."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
