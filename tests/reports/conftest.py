import pytest

from stages.models import Stage
from tests.factories import PipelineFactory


@pytest.fixture
def pipeline(db):
    """The shared fixture pipeline without its evidence gates: the report scenarios win deals
    from early stages, and exit criteria are not what these tests are about (they are proven in
    tests/opportunities/test_services_stages.py)."""
    return PipelineFactory(
        name="Main pipeline",
        stages=[
            {"name": "New", "probability": 10},
            {"name": "Sample", "probability": 50},
            {"name": "Quote", "probability": 70},
            {"name": "Won", "probability": 100, "kind": Stage.Kind.WON},
            {"name": "Lost", "probability": 0, "kind": Stage.Kind.LOST},
        ],
    )
