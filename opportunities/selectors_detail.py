"""Reads of the opportunity page (views_detail.py): the deal and its stages. Its timeline, a page
at a time, is read by selectors_timeline.py."""

from opportunities.models import Opportunity
from stages.models import Stage


def opportunity_get_for_page(*, user, pk) -> Opportunity:
    """One opportunity ``user`` may see, for its page; anything else is Opportunity.DoesNotExist.

    Six joins rather than ``opportunities_visible_to``'s eight: with eight, PostgreSQL spends
    ~10 ms planning this one-row query at a million deals (more than everything else the page
    asks for), with six ~2 ms. The pipeline comes with the stages (``opportunity_page_stages``);
    a lost reason, on a lost deal only, is read when shown.
    """
    return (
        Opportunity.objects.visible_to(user)
        .select_related("customer", "contact", "stage", "owner", "team", "source")
        .get(pk=pk)
    )


def opportunity_page_stages(*, opportunity: Opportunity) -> list[Stage]:
    """The stages of the deal's pipeline in their order, with the pipeline (set on the deal too)."""
    stages = list(Stage.objects.filter(pipeline_id=opportunity.pipeline_id).select_related("pipeline"))
    if stages:
        opportunity.pipeline = stages[0].pipeline
    return stages
