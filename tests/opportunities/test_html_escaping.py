"""The list rows, board cards, column heads and filters, and timeline events are written in Python
(list_table.py, board_cards.py, timeline_html.py), not by the template engine: whatever users typed must still
come out escaped."""

import pytest

from opportunities.services import opportunity_add_activity
from tests.factories import CustomerFactory

HOSTILE = '<script>alert("x")</script>'
ESCAPED = "&lt;script&gt;"

pytestmark = pytest.mark.django_db


@pytest.fixture
def hostile_deal(make_deal, manager, rep, pipeline):
    customer = CustomerFactory(name=f"Evil {HOSTILE} Ltd", created_by=rep)
    deal = make_deal(owner=rep, title=f"Deal {HOSTILE}", customer=customer)
    opportunity_add_activity(opportunity=deal, by=rep, kind="note", body=f"Note {HOSTILE}", files=[])
    return deal


@pytest.mark.parametrize("who", ["rep", "manager"])
def test_the_list_and_the_board_escape_titles_and_names(client_as, hostile_deal, pipeline, who, request):
    client = client_as(request.getfixturevalue(who))
    for url in ("/opportunities/", f"/opportunities/board/?pipeline={pipeline.pk}"):
        html = client.get(url).content.decode()
        assert HOSTILE not in html, url
        assert f"Deal {ESCAPED}" in html, url
        assert f"Evil {ESCAPED}" in html, url


def test_the_board_escapes_stage_names_in_its_column_heads(client_as, rep, hostile_deal, pipeline, stages):
    stage = stages["New"]
    stage.name = f"New {HOSTILE}"
    stage.required_fields = ["amount"]
    stage.save()
    html = (
        client_as(rep).get(f"/opportunities/board/?pipeline={pipeline.pk}", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    )
    assert HOSTILE not in html
    assert f'<h2 id="col-title-{stage.pk}">New {ESCAPED}' in html
    assert "To leave: · Amount" in html


def test_the_board_escapes_the_names_in_its_filters_and_marks_the_chosen_ones(
    client_as, manager, rep, team, hostile_deal, pipeline
):
    pipeline.name = f"Pipeline {HOSTILE}"
    pipeline.save()
    team.name = f"Team {HOSTILE}"
    team.save()
    rep.first_name = f"Rep {HOSTILE}"
    rep.save()
    url = f"/opportunities/board/?pipeline={pipeline.pk}&team={team.pk}&owner={rep.pk}"
    html = client_as(manager).get(url).content.decode()
    assert HOSTILE not in html
    assert f'<option value="{pipeline.pk}" selected>Pipeline {ESCAPED}' in html
    assert f'<option value="{team.pk}" selected>Team {ESCAPED}' in html
    assert f'<option value="{rep.pk}" selected>Rep {ESCAPED}' in html


def test_the_timeline_escapes_what_was_written(client_as, rep, hostile_deal):
    html = client_as(rep).get(f"/opportunities/{hostile_deal.pk}/").content.decode()
    assert HOSTILE not in html
    assert f"Note {ESCAPED}" in html
