"""manage.py seed_demo: the demo company, built by the real services, safe to run twice."""

import datetime
import io
import re

import pytest
from django.contrib.auth import authenticate
from django.core.management import call_command
from django.db.models import Count, F
from django.utils import timezone

from crm.dates import company_today
from customers.models import Contact, Customer
from opportunities.models import (
    Activity,
    Assignment,
    Attachment,
    CloseDateChange,
    CurrencyRate,
    FieldChange,
    LostReason,
    Opportunity,
    StageChange,
    StatusChange,
)
from sources.models import LeadSource
from stages.models import Pipeline
from teams.models import Team, User

pytestmark = [pytest.mark.django_db(transaction=False), pytest.mark.slow]

MODELS = [
    User,
    Team,
    Pipeline,
    LeadSource,
    LostReason,
    CurrencyRate,
    Customer,
    Contact,
    Opportunity,
    Assignment,
    StageChange,
    CloseDateChange,
    StatusChange,
    FieldChange,
    Activity,
    Attachment,
]
LOGIN_LINES = re.compile(r"^Demo logins:\n((?:  \S+ / \S+\n)+)", re.MULTILINE)


def seed(*args) -> str:
    out = io.StringIO()
    call_command("seed_demo", *args, stdout=out)
    return out.getvalue()


def counts() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in MODELS}


def logins(output: str) -> list[tuple[str, str]]:
    match = LOGIN_LINES.search(output)
    assert match, output
    return [tuple(line.strip().split(" / ")) for line in match.group(1).splitlines()]


def test_it_builds_the_demo_company_and_a_second_run_creates_nothing():
    output = seed("--password", "Demo-pass-2026")
    assert logins(output) == [(name, "Demo-pass-2026") for name in ("admin", "manager", "rep1", "rep2", "rep3")]
    for username in ("admin", "manager", "rep1", "rep2", "rep3"):
        assert authenticate(username=username, password="Demo-pass-2026") is not None, username
    admin = User.objects.get(username="admin")
    assert admin.is_superuser and admin.is_staff
    assert User.objects.get(username="rep1").email == "rep1@example.com"

    team = Team.objects.get(name="外贸一部")
    assert list(team.managers.values_list("username", flat=True)) == ["manager"]
    assert {"rep1", "rep2", "rep3"} <= set(team.members.values_list("username", flat=True))

    main = Pipeline.objects.get(name="外贸标准流程")
    assert list(main.stages.order_by("order").values_list("name", flat=True)) == [
        "取得销售机会",
        "初次接触",
        "客户需求收集",
        "客户考察",
        "提供样品",
        "报价",
        "客户验厂",
        "赢单",
        "输单",
    ]
    sample = main.stages.get(name="提供样品")
    assert sample.requires_attachment and sample.requires_tracking_number
    assert main.stages.get(name="报价").required_fields == ["amount"]
    assert Pipeline.objects.filter(name="配件快单").exists()
    assert {"2026春季广交会", "上海产品博览会", "阿里巴巴国际站", "老客户转介绍"} <= set(
        LeadSource.objects.values_list("name", flat=True)
    )
    assert LeadSource.objects.get(name="2026春季广交会").total_cost > 0
    assert {"USD", "EUR"} <= set(CurrencyRate.objects.values_list("currency", flat=True))
    assert 55 <= Customer.objects.count() <= 65

    # ~300 opportunities over every status, owner (and the pool), both pipelines and several currencies.
    assert Opportunity.objects.count() == 300
    statuses = dict(Opportunity.objects.values_list("status").annotate(n=Count("pk")))
    assert set(statuses) == {"open", "won", "lost", "expired"}
    assert all(count >= 20 for count in statuses.values()), statuses
    assert Opportunity.objects.filter(owner__isnull=True).exists()
    assert {"rep1", "rep2", "rep3"} <= set(Opportunity.objects.values_list("owner__username", flat=True))
    assert Opportunity.objects.values("pipeline").distinct().count() == 2
    assert Opportunity.objects.values("currency").distinct().count() >= 3
    today = company_today()
    open_deals = Opportunity.objects.filter(status="open")
    assert open_deals.filter(expected_close_date__lt=today).exists()  # overdue
    assert open_deals.filter(expected_close_date__range=(today, today + datetime.timedelta(days=7))).exists()

    # History written by the services, and given a past that is consistent.
    assert StageChange.objects.filter(from_stage__isnull=True).count() == 300
    assert StatusChange.objects.filter(to_status="expired").count() == statuses["expired"]
    assert Assignment.objects.filter(reason="离职交接").exists()  # rep4 left; deals handed over
    assert not User.objects.get(username="rep4").is_active
    assert CloseDateChange.objects.exists() and FieldChange.objects.exists()
    assert Attachment.objects.filter(content_type="image/png").exists()
    # Every deal that moved on from the sample stage (forward, or won) left its photo and courier number there.
    passed_sample = (
        StageChange.objects.filter(from_stage=sample)
        .exclude(to_stage__kind="lost")
        .values_list("opportunity", flat=True)
    )
    assert passed_sample
    for opportunity_id in passed_sample:
        assert Attachment.objects.filter(opportunity_id=opportunity_id, stage=sample).exists()
        assert Activity.objects.filter(opportunity_id=opportunity_id, stage=sample).exclude(tracking_number="").exists()
    now = timezone.now()
    assert not StageChange.objects.filter(at__gt=now).exists()
    assert Opportunity.objects.filter(created_at__lt=now - datetime.timedelta(days=90)).exists()
    assert not StageChange.objects.filter(at__lt=F("opportunity__created_at") - datetime.timedelta(seconds=1)).exists()
    assert not Opportunity.objects.filter(closed_at__lt=F("created_at")).exists()
    assert not Activity.objects.filter(occurred_at__gt=now).exists()

    before = counts()
    output = seed("--password", "Another-pass-9")
    assert counts() == before
    assert "nothing new was created" in output
    assert logins(output)[0] == ("admin", "Another-pass-9")
    assert authenticate(username="rep2", password="Another-pass-9") is not None


def test_it_generates_and_prints_a_password_when_none_is_given(monkeypatch):
    monkeypatch.setattr("crm.management.commands.seed_demo.OPPORTUNITY_COUNT", 20)  # the rest is tested above
    output = seed()
    (admin_name, password), *rest = logins(output)
    assert admin_name == "admin" and len(password) >= 10
    assert all(other == password for _user, other in rest)
    assert authenticate(username="manager", password=password) is not None


def test_it_saves_nothing_when_a_service_fails_half_way(monkeypatch):
    from django.core.exceptions import ValidationError

    def refuse(**kwargs):
        raise ValidationError("refused")

    monkeypatch.setattr("crm.management.commands.seed_demo.OPPORTUNITY_COUNT", 20)
    monkeypatch.setattr("crm.management.commands.seed_demo.opportunity_push_close_date", refuse)
    with pytest.raises(ValidationError):
        seed("--password", "Demo-pass-2026")
    assert counts() == dict.fromkeys(counts(), 0)
