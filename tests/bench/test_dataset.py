"""The shared benchmark data set (bench/dataset.py) has the shape it promises, at a small N,
and reads through the app like data the services wrote."""

import pytest
from django.db import connection

from bench import dataset
from opportunities.models import Opportunity, StatusChange

pytestmark = [
    pytest.mark.skipif(connection.vendor != "postgresql", reason="the generator is PostgreSQL-only (COPY, setseed)"),
    pytest.mark.django_db(transaction=True),
]


@pytest.fixture
def generated():
    return dataset.generate(3000, echo=lambda *args: None)


def test_it_generates_the_promised_shape(generated):
    counts = generated
    assert counts["opportunities"] == 3000
    assert (counts["teams"], counts["reps"], counts["pipelines"], counts["sources"]) == (20, 200, 5, 60)
    assert counts["customers"] == 1000  # 15 % of N, at least 1,000 (150,000 at 1,000,000)
    assert 0.20 <= counts["open"] / 3000 <= 0.30
    assert counts["won"] > 0 and counts["lost"] > counts["won"] > counts["expired"] > 0
    assert 4 <= counts["history_per_opportunity"] <= 7
    # Skewed: the first rep and the first team are the biggest.
    assert counts["biggest_rep"]["username"] == "bench_rep_001"
    assert counts["biggest_team"]["name"] == "Bench team 01"
    assert 0.15 <= counts["biggest_team"]["opportunities"] / 3000 <= 0.32


def test_its_history_agrees_with_the_deals(generated):
    deals = Opportunity.objects.all()
    # Closed deals have a closing time and a status change to their status, credited to their owner.
    closed = deals.exclude(status=Opportunity.Status.OPEN)
    assert not closed.filter(closed_at__isnull=True).exists()
    assert not deals.filter(status=Opportunity.Status.OPEN, closed_at__isnull=False).exists()
    last_change = {change.opportunity_id: change for change in StatusChange.objects.order_by("at", "id")}
    assert {deal.pk: deal.status for deal in closed} == {pk: change.to_status for pk, change in last_change.items()}
    assert not deals.filter(status=Opportunity.Status.WON, owner__isnull=True).exists()
    # Only open deals wait unassigned, each in its team's pool; owners belong to the deal's team.
    assert not closed.filter(owner__isnull=True).exists()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM opportunities_opportunity o WHERE o.owner_id IS NOT NULL AND NOT EXISTS "
            "(SELECT 1 FROM teams_team_members m WHERE m.team_id = o.team_id AND m.user_id = o.owner_id)"
        )
        assert cursor.fetchone()[0] == 0
        # Every deal's stage belongs to its pipeline, and its first stage change has no from-stage.
        cursor.execute(
            "SELECT count(*) FROM opportunities_opportunity o JOIN stages_stage s ON s.id = o.stage_id "
            "WHERE s.pipeline_id <> o.pipeline_id"
        )
        assert cursor.fetchone()[0] == 0
        cursor.execute(
            "SELECT count(DISTINCT opportunity_id) FROM opportunities_stagechange WHERE from_stage_id IS NULL"
        )
        assert cursor.fetchone()[0] == 3000


def test_the_long_history_deal_has_its_200_events(generated, client):
    from opportunities.selectors_timeline import opportunity_timeline
    from teams.models import User

    rep = User.objects.get(username="bench_rep_001")
    deal = Opportunity.objects.get(title=dataset.LONG_HISTORY_TITLE)
    assert deal.owner == rep and deal.status == Opportunity.Status.OPEN
    assert len(opportunity_timeline(opportunity=deal)) >= dataset.LONG_HISTORY_EVENTS
    # The generated data reads through the app: the rep logs in with the bench password.
    assert client.login(username="bench_rep_001", password=dataset.PASSWORD)
    assert client.get(f"/opportunities/{deal.pk}/").status_code == 200
    listing = client.get("/opportunities/")
    assert listing.status_code == 200
    assert listing.content.count(b'<tr data-id="') == 50
