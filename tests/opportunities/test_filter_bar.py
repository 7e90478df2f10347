"""The list's filter bar (opportunities/filter_bar.py) writes what Django's form would: each
field compared with the FilterSet's own form rendered through Django's stock widgets."""

import re

import pytest
from django import forms
from django.http import QueryDict
from django.utils import translation

from opportunities.filter_bar import FILTER_BAR_FIELDS, filters_open, opportunity_filter_bar
from opportunities.filtersets import OpportunityFilterSet

STAGES = [(1, "New & open", 10, "Export <EU>"), (2, "Sample", 10, "Export <EU>"), (3, "Inquiry", 11, "Domestic")]
SOURCES = [(5, "Canton Fair"), (6, 'Alibaba "Gold"')]
TEAMS = [(7, "Team A")]
PEOPLE = [(8, "Li Wei"), (9, "Old Rep (left)")]


def django_fields(filterset, *, people) -> dict[str, str]:
    """Each field's widget as Django renders it from the FilterSet's form, with stock widgets."""
    form = filterset.form
    any_choice = [("", "Any")]
    groups: dict[str, list] = {}
    for pk, name, _pipeline_id, pipeline_name in STAGES:
        groups.setdefault(pipeline_name, []).append((pk, name))
    choices = {
        "owner": any_choice + PEOPLE,
        "unassigned": [("", "Anyone"), ("true", "Unassigned pool"), ("false", "Has an owner")],
        "team": any_choice + TEAMS,
        "pipeline": any_choice + [(10, "Export <EU>"), (11, "Domestic")],
        "stage": any_choice + list(groups.items()),
        "source": any_choice + SOURCES,
        "status": any_choice + [("open", "Open"), ("won", "Won"), ("lost", "Lost"), ("expired", "Expired")],
        "stale": [("", "Any"), ("true", "Yes"), ("false", "No")],
    }
    rendered = {}
    for name, field in form.fields.items():
        if name == "customer" or (name == "owner" and people is None):
            continue
        if name in choices:
            field.widget = forms.Select(choices=choices[name])
        elif name.startswith("expected_close_date"):
            field.widget = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
        else:
            field.widget = forms.NumberInput(attrs={"min": 0, "step": "any", "inputmode": "decimal"})
        rendered[name] = str(form[name])
    return rendered


def squeeze(html: str) -> str:
    return re.sub(r"\s+", " ", html).replace("> <", "><").strip()


@pytest.mark.parametrize(
    "query",
    [
        "",
        "stage=2&source=6&status=won&team=7&owner=9&unassigned=false&stale=true&pipeline=11",
        "stage=abc&amount_min=x&expected_close_date_after=2026-13-45&amount_max=12.5",
        "expected_close_date_before=2026-03-01&stage=99&stage=3",  # the last of a repeated key, as Django
    ],
)
@pytest.mark.parametrize("people", [PEOPLE, None])
def test_it_writes_each_field_as_djangos_widgets_do(query, people):
    with translation.override("en"):
        data = QueryDict(query)
        ours = opportunity_filter_bar(
            OpportunityFilterSet(data), stages=STAGES, sources=SOURCES, teams=TEAMS, people=people
        )
        theirs = django_fields(OpportunityFilterSet(data), people=people)
    blocks = re.findall(r'<div class="field[^"]*">(.*?)</div>', ours, flags=re.S)
    assert len(blocks) == len(theirs)
    for block, (name, widget) in zip(blocks, theirs.items(), strict=True):
        assert f'<label for="id_{name}">' in block
        assert squeeze(widget) in squeeze(block), name


def test_it_marks_a_refused_field_and_points_to_its_message():
    with translation.override("en"):
        filterset = OpportunityFilterSet(QueryDict("amount_min=lots&status=open"))
        html = opportunity_filter_bar(filterset, stages=STAGES, sources=SOURCES, teams=TEAMS, people=None)
    block = re.search(r'<div class="field has-error">(.*?)</div>', html, flags=re.S).group(1)
    assert 'aria-describedby="id_amount_min_error"' in block
    assert '<p class="field-error" id="id_amount_min_error">Enter a number.</p>' in block
    assert 'value="lots"' in block
    assert filters_open(filterset)


def test_it_lists_the_filtersets_fields_but_the_customer():
    declared = [name for name in OpportunityFilterSet.base_filters if name != "customer"]
    assert [name for name, _kind in FILTER_BAR_FIELDS] == declared


@pytest.mark.parametrize(("query", "shown_open"), [("", False), ("q=pumps&sort=title", False), ("stale=true", True)])
def test_it_opens_when_a_filter_is_set(query, shown_open):
    assert filters_open(OpportunityFilterSet(QueryDict(query))) is shown_open


def test_it_speaks_the_users_language():
    with translation.override("zh-hans"):
        html = opportunity_filter_bar(
            OpportunityFilterSet(QueryDict("")), stages=STAGES, sources=SOURCES, teams=TEAMS, people=None
        )
    assert '<option value="" selected>不限</option>' in html and '<label for="id_stage">阶段</label>' in html
    assert "Any" not in html


@pytest.mark.django_db
def test_its_choices_come_in_one_statement_in_the_pipelines_and_stages_order(django_assert_num_queries):
    from opportunities.selectors import opportunity_filter_choices
    from stages.models import Stage
    from tests.factories import LeadSourceFactory, PipelineFactory

    second = PipelineFactory(name="B second", order=2)
    first = PipelineFactory(name="Z first", order=1)
    LeadSourceFactory(name="Zhejiang fair")
    LeadSourceFactory(name="Old fair", is_active=False)
    LeadSourceFactory(name="Alibaba")
    with django_assert_num_queries(1):
        stages, sources = opportunity_filter_choices()
    expected = [
        (stage.pk, stage.name, pipeline.pk, pipeline.name)
        for pipeline in (first, second)
        for stage in Stage.objects.filter(pipeline=pipeline).order_by("order", "pk")
    ]
    assert stages == expected
    assert [name for _pk, name in sources] == ["Alibaba", "Zhejiang fair", "Old fair"]
