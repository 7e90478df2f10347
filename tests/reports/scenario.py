"""The hand-computed March 2026 story behind the report tests.

Every event goes through the real services (opportunities/services.py) with time_machine placing
it at a company-local moment (Asia/Shanghai). docs/REPORTS.md explains the definitions; the
expected numbers are worked out by hand in the tests next to each assertion.

People: ``rep`` and ``other_rep`` start in ``team`` (managed by ``manager``); ``other_rep`` moves
to ``other_team`` (managed by ``outsider_manager``, with ``outsider_rep``) on 21 March.

Incentive policy: none until 15 March (built-in default 1000 CNY × difficulty); from 15 March
1200 CNY × difficulty, +300 for a new customer, +200 for a new product.

| deal | owner | team | source | amount (CNY) | story (Shanghai time) |
|---|---|---|---|---|---|
| D0 | rep | team | S1 | 1000 | created 20 Feb 10:00, won 25 Feb 10:00 (February) |
| D1 | rep | team | S1 | 10000, difficulty 2.50 | created 2 Mar 10:00, → Quote 5 Mar 10:00, won 10 Mar 10:00 |
| D2 | rep | team | S2 | 1000 USD = 7100, diff 1.15, new customer | created 3 Mar 09:00, won 20 Mar 09:00 |
| D3 | rep | team | S1 | 5000 | created 4 Mar, → Quote 6 Mar, won 12 Mar, reopened 14 Mar (close 5 Apr), open |
| D4 | other_rep | team | S1 | 20000, diff 0.50 | created 5 Mar 12:00, won 31 Mar 23:59 |
| D5 | other_rep | team | S2 | 3000 | created 6 Mar 10:00, won 1 Apr 00:00 (April) |
| D6 | rep | team | S1 | 2000 | created 7 Mar 10:00, → Sample 9 Mar, lost 15 Mar |
| D7 | rep | team | S2 | 4000 | created 8 Mar (close 20 Mar), pushed 18 Mar to 25 Mar, expired 26 Mar |
| D8 | other_rep | team | S3 | — | created 9 Mar (close 28 Mar), expired 29 Mar |
| D9 | outsider_rep | other_team | S1 | 8000, new product | created 10 Mar 09:00, won 18 Mar 09:00 |
| D10 | rep | team | S4 | 1500 | created 12 Mar 10:00, open in New (close 20 May) |
| D11 | other_rep | other_team | S3 | 2000 | created 22 Mar 10:00, won 25 Mar 10:00 |
| D12 | — (pool) | team | S1 | 6000 | created 11 Mar 10:00, open in New (close 1 Dec) |

Sources: S1 2026春季广交会 (trade show, 10000 + 4 × 500 = 12000), S2 阿里巴巴国际站 (online
platform, 5000), S3 Referral (referral, 0), S4 上海产品博览会 (trade show, 3000).
Activities: rep logs a note on D1 on 4 Mar 10:00 and on D7 on 15 Mar 10:00.
The tests look at the reports on 10 April 2026, 12:00 Shanghai time.
"""

import datetime
from dataclasses import dataclass
from decimal import Decimal
from zoneinfo import ZoneInfo

import time_machine

from opportunities import services
from reports.models import IncentivePolicy
from sources.models import LeadSource
from tests.factories import CurrencyRateFactory, CustomerFactory, LeadSourceFactory

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = datetime.datetime(2026, 4, 10, 12, 0, tzinfo=SHANGHAI)
MARCH = (datetime.date(2026, 3, 1), datetime.date(2026, 3, 31))


def scenario_pipeline():
    """The pipeline the scenario runs in: the shared fixture's stages without their evidence
    gates, since the story wins deals from early stages (exit criteria are proven in
    tests/opportunities/test_services_stages.py)."""
    from stages.models import Stage
    from tests.factories import PipelineFactory

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


def at(month: int, day: int, hour: int = 10, minute: int = 0) -> datetime.datetime:
    return datetime.datetime(2026, month, day, hour, minute, tzinfo=SHANGHAI)


def d(month: int, day: int) -> datetime.date:
    return datetime.date(2026, month, day)


@dataclass
class Scenario:
    deals: dict
    sources: dict
    stages: dict


def build(*, admin, manager, rep, other_rep, outsider_rep, team, other_team, pipeline, lost_reason) -> Scenario:
    stages = {stage.name: stage for stage in pipeline.stages.all()}
    CurrencyRateFactory(currency="USD", rate=Decimal("7.100000"), valid_from=datetime.date(2020, 1, 1))
    sources = {
        "S1": LeadSourceFactory(
            name="2026春季广交会",
            channel=LeadSource.Channel.TRADE_SHOW,
            cost_money=Decimal("10000"),
            manpower_days=Decimal("4"),
            day_rate=Decimal("500"),
        ),
        "S2": LeadSourceFactory(
            name="阿里巴巴国际站",
            channel=LeadSource.Channel.ONLINE_PLATFORM,
            cost_money=Decimal("5000"),
            manpower_days=Decimal("0"),
            day_rate=Decimal("0"),
        ),
        "S3": LeadSourceFactory(
            name="Referral",
            channel=LeadSource.Channel.REFERRAL,
            cost_money=Decimal("0"),
            manpower_days=Decimal("0"),
            day_rate=Decimal("0"),
        ),
        "S4": LeadSourceFactory(
            name="上海产品博览会",
            channel=LeadSource.Channel.TRADE_SHOW,
            cost_money=Decimal("3000"),
            manpower_days=Decimal("0"),
            day_rate=Decimal("0"),
        ),
    }
    IncentivePolicy.objects.create(
        effective_from=d(3, 15),
        base_reward=Decimal("1200.00"),
        new_customer_bonus=Decimal("300.00"),
        new_product_bonus=Decimal("200.00"),
    )
    customer = CustomerFactory(name="Müller GmbH")
    deals: dict = {}

    def create(key, moment, *, owner, source, close, amount, team_=team, currency="CNY", **extra):
        with time_machine.travel(moment, tick=False):
            deals[key] = services.opportunity_create(
                by=admin,
                title=key,
                customer=customer,
                pipeline=pipeline,
                source=sources[source],
                expected_close_date=close,
                team=team_,
                owner=owner,
                amount=amount,
                currency=currency,
                **extra,
            )

    def act(moment, service, key, **kwargs):
        with time_machine.travel(moment, tick=False):
            deals[key] = service(opportunity=deals[key], **kwargs)

    def win(moment, key):
        act(moment, services.opportunity_close, key, outcome="won", by=admin)

    create("D0", at(2, 20), owner=rep, source="S1", close=d(3, 31), amount="1000")
    win(at(2, 25), "D0")

    create("D1", at(3, 2), owner=rep, source="S1", close=d(3, 31), amount="10000", difficulty="2.50")
    create(
        "D2",
        at(3, 3, 9),
        owner=rep,
        source="S2",
        close=d(3, 31),
        amount="1000",
        currency="USD",
        difficulty="1.15",
        is_new_customer=True,
    )
    create("D3", at(3, 4), owner=rep, source="S1", close=d(3, 31), amount="5000")
    create("D4", at(3, 5, 12), owner=other_rep, source="S1", close=d(4, 30), amount="20000", difficulty="0.50")
    create("D5", at(3, 6), owner=other_rep, source="S2", close=d(4, 15), amount="3000")
    create("D6", at(3, 7), owner=rep, source="S1", close=d(3, 31), amount="2000")
    create("D7", at(3, 8), owner=rep, source="S2", close=d(3, 20), amount="4000")
    create("D8", at(3, 9), owner=other_rep, source="S3", close=d(3, 28), amount=None)
    create(
        "D9",
        at(3, 10, 9),
        owner=outsider_rep,
        team_=other_team,
        source="S1",
        close=d(3, 31),
        amount="8000",
        is_new_product=True,
    )
    create("D12", at(3, 11), owner=None, source="S1", close=d(12, 1), amount="6000")
    create("D10", at(3, 12), owner=rep, source="S4", close=d(5, 20), amount="1500")

    with time_machine.travel(at(3, 4), tick=False):
        services.opportunity_add_activity(opportunity=deals["D1"], by=rep, kind="note", body="Called the buyer")
    act(at(3, 5), services.opportunity_move_stage, "D1", stage=stages["Quote"], by=rep)
    act(at(3, 6), services.opportunity_move_stage, "D3", stage=stages["Quote"], by=rep)
    act(at(3, 9), services.opportunity_move_stage, "D6", stage=stages["Sample"], by=rep)
    win(at(3, 10), "D1")
    win(at(3, 12), "D3")
    act(
        at(3, 14),
        services.opportunity_reopen,
        "D3",
        by=manager,
        expected_close_date=d(4, 5),
        reason="Customer came back",
    )
    act(at(3, 15), services.opportunity_close, "D6", outcome="lost", by=rep, lost_reason=lost_reason)
    with time_machine.travel(at(3, 15), tick=False):
        services.opportunity_add_activity(opportunity=deals["D7"], by=rep, kind="call", body="No answer")
    act(at(3, 18), services.opportunity_push_close_date, "D7", by=rep, new_date=d(3, 25))
    win(at(3, 18, 9), "D9")
    win(at(3, 20, 9), "D2")

    team.members.remove(other_rep)  # other_rep changes teams; D4, D5 and D8 stay with team
    other_team.members.add(other_rep)
    create("D11", at(3, 22), owner=other_rep, team_=other_team, source="S3", close=d(3, 31), amount="2000")
    win(at(3, 25), "D11")
    with time_machine.travel(at(3, 26), tick=False):
        services.opportunities_expire_overdue()
    with time_machine.travel(at(3, 29), tick=False):
        services.opportunities_expire_overdue()
    win(at(3, 31, 23, 59), "D4")
    win(at(4, 1, 0, 0), "D5")
    for deal in deals.values():
        deal.refresh_from_db()
    return Scenario(deals=deals, sources=sources, stages=stages)
