"""Opportunity reads: the scoped list, its query count, and what a stage still needs."""

import datetime

import pytest
from django.utils import timezone

from crm.dates import company_today
from opportunities.selectors import (
    attachments_visible_to,
    opportunities_visible_to,
    opportunity_is_stale,
    opportunity_list_values,
    opportunity_rows,
    opportunity_staleness,
    opportunity_unmet_exit_criteria,
)
from opportunities.services import opportunity_add_activity
from stages.models import Stage
from tests.factories import ContactFactory, PipelineFactory, upload

pytestmark = pytest.mark.django_db


def test_it_lists_deals_with_their_related_rows_in_one_query(
    make_deal, manager, rep, other_rep, django_assert_num_queries
):
    for owner in (rep, other_rep, None, rep, other_rep):
        make_deal(owner=owner)
    with django_assert_num_queries(2):  # the manager's teams, then the deals with their relations
        rows = [
            (
                deal.title,
                deal.stage.name,
                deal.pipeline.name,
                deal.customer.name,
                deal.source.name,
                deal.team.name,
                deal.owner.username if deal.owner else "",
            )
            for deal in opportunities_visible_to(user=manager)
        ]
    assert len(rows) == 5


def test_the_rows_built_once_are_handed_out_as_copies_that_see_new_deals(make_deal, rep):
    """``opportunity_rows()`` and ``opportunity_list_values()`` are built once per process: a
    caller's evaluation must not fill the shared one's cache (stale rows for the next request)."""
    first = make_deal(owner=rep)
    assert [deal.pk for deal in opportunity_rows()] == [first.pk]
    assert [row["pk"] for row in opportunity_list_values()] == [first.pk]
    second = make_deal(owner=rep)
    assert sorted(deal.pk for deal in opportunity_rows()) == [first.pk, second.pk]
    assert sorted(row["pk"] for row in opportunity_list_values()) == [first.pk, second.pk]
    row = opportunity_list_values().get(pk=second.pk)
    assert (row["customer__name"], row["stage__name"], row["pipeline_name"]) == (
        second.customer.name,
        second.stage.name,
        second.pipeline.name,
    )


def test_the_page_reader_gives_what_the_queryset_gives_compiled_once_per_count(
    make_deal, rep, other_rep, django_assert_num_queries
):
    """``opportunity_list_reader()`` / ``opportunity_api_reader()`` (``RowsById``) read the
    rows of the ids given as ``filter(pk__in=ids)`` does, values converted alike on either
    database, with new ids in a statement compiled before; unknown ids are left out."""
    from decimal import Decimal

    from opportunities.api.serializers import _api_rows, opportunity_api_reader
    from opportunities.pagination import RowsById
    from opportunities.selectors import _list_rows, opportunity_list_reader

    deals = [
        make_deal(owner=owner, amount=amount, amount_base=amount, difficulty=difficulty)
        for owner, amount, difficulty in (
            (rep, Decimal("1234.50"), Decimal("2.50")),
            (None, None, Decimal("1.00")),
            (other_rep, Decimal("0.00"), Decimal("1.25")),
        )
    ]
    deals[0].last_activity_at = timezone.now()
    deals[0].save()
    ids = [deal.pk for deal in deals]
    assert opportunity_list_reader() is opportunity_list_reader()  # once per process
    assert opportunity_api_reader().queryset is _api_rows()
    readers = [(RowsById(rows), rows) for rows in (_list_rows(), _api_rows())]
    for reader, rows in readers:
        for wanted in (ids, ids[1:], [ids[2], 10**9], []):
            expected = sorted(rows.filter(pk__in=wanted), key=lambda row: row["pk"])
            with django_assert_num_queries(1 if wanted else 0):
                found = sorted(reader.by_ids(wanted), key=lambda row: row["pk"])
            assert found == expected
            assert [type(value) for row in found for value in row.values()] == [
                type(value) for row in expected for value in row.values()
            ]
    assert [sorted(reader._statements) for reader, _rows in readers] == [[2, 3], [2, 3]]  # one per number of ids


def test_it_lists_attachments_with_their_deal_in_one_query(deal, rep, django_assert_num_queries):
    opportunity_add_activity(opportunity=deal, by=rep, kind="sample", files=[upload("a.png"), upload("b.png")])
    with django_assert_num_queries(1):
        rows = [
            (item.original_name, item.opportunity.title, item.stage.name) for item in attachments_visible_to(user=rep)
        ]
    assert len(rows) == 2


def test_it_reports_nothing_missing_for_a_stage_without_criteria(deal):
    assert opportunity_unmet_exit_criteria(opportunity=deal) == []


def test_it_reports_the_missing_evidence_of_a_stage(deal, rep, stages):
    missing = opportunity_unmet_exit_criteria(opportunity=deal, stage=stages["Sample"])
    assert len(missing) == 2
    assert "Attach a file" in missing[0] and "Sample" in missing[0]
    assert "tracking number" in missing[1]


def test_it_reports_required_fields_left_empty(make_deal, rep):
    pipeline = PipelineFactory(
        name="Strict",
        stages=[
            {"name": "Qualify", "required_fields": ["amount", "contact", "description"]},
            {"name": "Won", "kind": Stage.Kind.WON},
            {"name": "Lost", "kind": Stage.Kind.LOST},
        ],
    )
    deal = make_deal(owner=rep, pipeline=pipeline, amount=None, amount_base=None, description="")
    assert len(opportunity_unmet_exit_criteria(opportunity=deal)) == 3

    deal.amount = 0
    deal.description = "Two containers a year"
    deal.contact = ContactFactory(customer=deal.customer)
    assert opportunity_unmet_exit_criteria(opportunity=deal) == []


def test_staleness_works_out_each_idle_limit_on_its_own(make_deal, rep, stages):
    # One predicate serves a whole board: a deal idle ten days is stale in a stage that allows
    # three, not in one that allows thirty, whichever of them it is asked about first.
    stages["New"].rotting_days, stages["Sample"].rotting_days = 3, 30
    for stage in (stages["New"], stages["Sample"]):
        stage.save()
    idle_since = timezone.now() - datetime.timedelta(days=10)
    in_new = make_deal(owner=rep, stage=stages["New"], stage_entered_at=idle_since, last_activity_at=None)
    in_sample = make_deal(owner=rep, stage=stages["Sample"], stage_entered_at=idle_since, last_activity_at=None)
    today = company_today()
    for first, second in ((in_new, in_sample), (in_sample, in_new)):
        is_stale = opportunity_staleness(today=today)
        assert [is_stale(first), is_stale(second)] == [first is in_new, second is in_new]
    assert opportunity_is_stale(opportunity=in_new, today=today)
    assert not opportunity_is_stale(opportunity=in_sample, today=today)
