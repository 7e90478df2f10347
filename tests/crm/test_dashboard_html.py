"""The home page's short lists and stage bars are written in Python (crm/dashboard_html.py), not
by the template engine: the same markup the templates wrote, each list's own side (close date,
overdue date, idle time, expiry day in company time), names escaped, the pool's deals unassigned."""

import datetime
from decimal import Decimal

import pytest
import time_machine
from django.urls import reverse

from opportunities.models import Opportunity
from tests.factories import CustomerFactory, PipelineFactory

HOME = reverse("home")
HOSTILE = '<script>alert("x")</script>'
ESCAPED = "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;"
# 18:30 in Shanghai, the company's zone (settings.TIME_ZONE)
NOW = datetime.datetime(2026, 3, 18, 10, 30, tzinfo=datetime.UTC)
TODAY = datetime.date(2026, 3, 18)

pytestmark = pytest.mark.django_db


def item(deal, *, meta: str, side: str) -> str:
    """One deal of a list, as deal_list.html wrote it."""
    return (
        '\n  <li>\n    <div class="main">\n'
        f'      <a href="/opportunities/{deal.pk}/">{deal.title}</a>\n\n'
        f'      <span class="meta">{meta}</span>\n    </div>\n'
        f'    <div class="side">\n      \n        {side}\n      \n    </div>\n  </li>\n'
    )


@pytest.fixture
def home(client_as):
    def get(user, lang="en"):
        with time_machine.travel(NOW, tick=False):
            return client_as(user).get(HOME, HTTP_ACCEPT_LANGUAGE=lang).content.decode()

    return get


def test_it_writes_each_lists_deals_with_what_the_list_is_about(home, make_deal, rep, manager, stages):
    rep.first_name, rep.last_name = "Li", "Wei"
    rep.save()
    stages["New"].rotting_days = 5
    stages["New"].save()
    with time_machine.travel(NOW, tick=False):
        soon = make_deal(
            owner=rep,
            title="Soon",
            expected_close_date=TODAY + datetime.timedelta(days=3),
            amount_base=Decimal("999.50"),
        )
        late = make_deal(owner=rep, title="Late", expected_close_date=datetime.date(2026, 3, 1), amount_base=None)
        sleepy = make_deal(owner=None, title="Sleepy", stage_entered_at=NOW - datetime.timedelta(days=20, hours=1))
        # 17:30 UTC on the 10th is the 11th in Shanghai
        gone = make_deal(
            owner=rep,
            title="Gone",
            status=Opportunity.Status.EXPIRED,
            closed_at=datetime.datetime(2026, 3, 10, 17, 30, tzinfo=datetime.UTC),
        )
    html = home(manager)  # who sees the team's unassigned pool
    customer = "Müller Maschinenbau GmbH"
    assert (
        item(
            soon,
            meta=f"{customer} · New · Li Wei",
            side='<strong>03-21</strong><br><span class="muted">¥999.50</span>',
        )
        in html
    )
    assert (
        item(
            late,
            meta=f"{customer} · New · Li Wei",
            side='<span class="badge overdue">2026-03-01</span><br><span class="muted">—</span>',
        )
        in html
    )
    assert (
        item(
            sleepy,
            meta=f"{customer} · New · Unassigned",
            side='<span class="badge stale">Stale</span><br><span class="muted">idle 2\xa0weeks, 6\xa0days</span>',
        )
        in html
    )
    assert (
        item(
            gone,
            meta=f"{customer} · New · Li Wei",
            side='<span class="badge status-expired">Expired</span><br><span class="muted">2026-03-11</span>',
        )
        in html
    )


def test_it_writes_the_lists_in_the_users_language(home, make_deal, manager, stages):
    stages["New"].rotting_days = 5
    stages["New"].save()
    with time_machine.travel(NOW, tick=False):
        make_deal(owner=None, title="Sleepy", stage_entered_at=NOW - datetime.timedelta(days=20, hours=1))
    html = home(manager, "zh-hans")
    assert '<span class="badge stale">停滞</span><br><span class="muted">已停滞 2\xa0周，6\xa0日</span>' in html
    assert " · New · 未分配</span>" in html
    assert html.count('<li class="empty">暂无。</li>') == 3


def test_it_says_when_a_list_or_the_stages_have_nothing(home, rep):
    html = home(rep)
    assert '<ul class="deal-list">\n\n  <li class="empty">Nothing here.</li>\n\n</ul>\n' in html
    assert html.count('<li class="empty">Nothing here.</li>') == 4
    assert '\n      <p class="empty">No open deals.</p>\n' in html


def test_it_writes_a_bar_per_stage_naming_pipelines_only_when_there_are_several(home, make_deal, rep, stages):
    make_deal(owner=rep, amount_base=Decimal("1500"))
    make_deal(owner=rep, amount_base=Decimal("500"), stage=stages["Quote"])
    html = home(rep)
    bar = (
        '\n        <li>\n          <a href="/opportunities/?status=open&amp;stage={pk}">{name}</a>\n'
        '          <span class="bar" aria-hidden="true"><span style="width: 100%"></span></span>\n'
        '          <span class="figures"><strong>1</strong> · {amount}</span>\n        </li>\n        '
    )
    assert (
        '\n      \n      <ul class="stage-bars">\n        '
        + bar.format(pk=stages["New"].pk, name="New", amount="¥1,500")
        + bar.format(pk=stages["Quote"].pk, name="Quote", amount="¥500")
        + "\n      </ul>\n    "
    ) in html
    assert "pipeline-name" not in html

    other = PipelineFactory(name=f"Second {HOSTILE}")
    make_deal(owner=rep, pipeline=other, stage=other.first_open_stage())
    html = home(rep)
    assert '<p class="pipeline-name">Main pipeline</p>' in html
    assert f'<p class="pipeline-name">Second {ESCAPED}</p>' in html


def test_it_escapes_titles_and_names(home, make_deal, rep, stages):
    customer = CustomerFactory(name=f"Evil {HOSTILE} Ltd", created_by=rep)
    stages["New"].name = f"New {HOSTILE}"
    stages["New"].save()
    rep.first_name = HOSTILE
    rep.save()
    make_deal(owner=rep, title=f"Deal {HOSTILE}", customer=customer, expected_close_date=TODAY)
    html = home(rep)
    assert HOSTILE not in html
    assert f">Deal {ESCAPED}</a>" in html
    assert f'<span class="meta">Evil {ESCAPED} Ltd · New {ESCAPED} · {ESCAPED}</span>' in html
    assert f'">New {ESCAPED}</a>' in html  # its stage bar
