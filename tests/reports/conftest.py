import pytest

from tests.reports.scenario import scenario_pipeline


@pytest.fixture
def pipeline(db):
    """The shared fixture pipeline without its evidence gates (``scenario_pipeline``)."""
    return scenario_pipeline()
