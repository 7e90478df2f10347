"""Reads of the opportunity page (views_detail.py): the deal and its stages. Its timeline, a page
at a time, is read by selectors_timeline.py."""

import functools

from django.core.exceptions import EmptyResultSet
from django.db import connection

from crm.statements import CompiledModels
from opportunities.models import Opportunity
from stages.models import Stage
from stages.selectors import stages_of_pipeline


def opportunity_get_for_page(*, user, pk) -> Opportunity:
    """One opportunity ``user`` may see, for its page; anything else is Opportunity.DoesNotExist.

    Six joins rather than ``opportunities_visible_to``'s eight: with eight, PostgreSQL spends
    ~10 ms planning this one-row query at a million deals (more than everything else the page
    asks for), with six ~2 ms. The pipeline comes with the stages (``opportunity_page_stages``);
    a lost reason, on a lost deal only, is read when shown.

    The deal is read through the visibility rule in a subquery of its own, and the six joins
    around its one row: PostgreSQL then weighs the deal table's 33 indexes once, not for every
    order of the joins (planning 2.5 → 0.75 ms at a million deals). The statement is compiled
    once per visibility scope (``_page_deal``), with the id as its parameter, and prepared once
    per connection (``crm.prepared``), after which it is hardly planned at all.
    """
    from teams.visibility import opportunity_visibility_scope

    try:
        pk = int(pk)
    except (TypeError, ValueError) as exc:
        raise Opportunity.DoesNotExist from exc
    if not -(2**63) <= pk < 2**63:  # no id is out of a bigint's range (the ORM's lookup says the same)
        raise Opportunity.DoesNotExist(f"no opportunity {pk}")
    statement = _page_deal(opportunity_visibility_scope(user))
    found = [] if statement is None else statement.rows(pk)
    if not found:
        raise Opportunity.DoesNotExist(f"no opportunity {pk} visible to this user")
    return found[0]


# Stands for the deal's id while the statement is compiled: no deal has it.
_PK_PLACEHOLDER = -7_319_451_119


@functools.lru_cache(maxsize=1024)
def _page_deal(scope: tuple) -> CompiledModels | None:
    visible = Opportunity.objects.visible_in_scope(scope).filter(pk=_PK_PLACEHOLDER).order_by()
    try:
        deal = visible.query.sql_with_params()
    except EmptyResultSet:  # this scope sees nothing
        return None
    # The rule stays on the outer query too: the subquery only helps PostgreSQL's planner (and
    # SQLite, which plans the joins as fast without it, reads the table itself).
    return CompiledModels(
        visible.select_related("customer", "contact", "stage", "owner", "team", "source"),
        _PK_PLACEHOLDER,
        from_table=deal if connection.vendor == "postgresql" else None,
    )


def opportunity_page_stages(*, opportunity: Opportunity) -> list[Stage]:
    """The stages of the deal's pipeline in their order, with the pipeline (set on the deal too)."""
    stages = stages_of_pipeline(pipeline_id=opportunity.pipeline_id)
    if stages:
        opportunity.pipeline = stages[0].pipeline
    return stages
