import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from crm.dates import company_today
from customers.models import Contact, Customer
from opportunities.imports.models import ImportedRow, ImportJob, ImportRowError
from opportunities.imports.selectors import import_job_rejected_csv
from opportunities.imports.services import (
    import_job_create,
    import_job_preview,
    import_job_run,
    import_job_set_mapping,
    import_job_start,
    import_leads,
)
from opportunities.models import Assignment, Opportunity, StageChange
from opportunities.services import opportunity_create
from tests.factories import ContactFactory, CurrencyRateFactory, CustomerFactory, OpportunityFactory, UserFactory
from tests.imports.files import (
    CARD_HEADERS_EN,
    CARD_HEADERS_ZH,
    card,
    cards,
    csv_text,
    excel_gbk_csv,
    in_days,
    upload,
    utf8_bom_csv,
    utf16_text,
    xlsx_bytes,
)


def run(by, data: bytes, name: str = "cards.csv", **options) -> ImportJob:
    """Upload and import in this process, as the worker would."""
    job = import_leads(by=by, file=upload(data, name), enqueue=False, **options)
    return import_job_run(job_id=job.pk)


# --- file formats ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("maker", "name"),
    [(excel_gbk_csv, "名片.csv"), (utf8_bom_csv, "cards.csv"), (utf16_text, "cards.txt"), (xlsx_bytes, "cards.xlsx")],
)
def test_it_imports_cards_from_every_format_without_garbling(manager, import_options, maker, name):
    job = run(manager, maker([CARD_HEADERS_ZH, *cards(3)]), name, **import_options)

    assert (job.status, job.total, job.created, job.skipped, job.failed) == ("done", 3, 3, 0, 0)
    customer = Customer.objects.get(name="深圳市第2电子有限公司")
    contact = customer.contacts.get()
    assert (contact.name, contact.title, contact.phone, contact.email, contact.wechat) == (
        "张2",
        "采购经理",
        "13800000002",
        "buyer2@factory2.cn",
        "wx_2",
    )
    assert (contact.email_normalized, contact.phone_normalized) == ("buyer2@factory2.cn", "13800000002")
    assert customer.name_normalized == "深圳市第2电子" and customer.country == "中国"
    opportunity = Opportunity.objects.get(customer=customer)
    assert opportunity.title == "深圳市第2电子有限公司 · LED灯"
    assert opportunity.amount == Decimal("1002.00") and opportunity.amount_base == Decimal("1002.00")
    assert "LED灯" in opportunity.description and "广交会名片 2" in opportunity.description


def test_it_imports_english_headers_and_semicolons(manager, import_options):
    rows = [
        ["Company", "Contact", "E-mail", "Amount", "Currency"],
        ["Müller GmbH", "Jürgen", "j@mueller.de", "1.234,50", "EUR"],
    ]
    CurrencyRateFactory(currency="EUR", rate=Decimal("7.800000"))
    job = run(manager, utf8_bom_csv(rows, delimiter=";"), **import_options)

    assert job.created == 1, job.error
    opportunity = Opportunity.objects.get()
    assert (opportunity.amount, opportunity.currency) == (Decimal("1234.50"), "EUR")
    assert (opportunity.exchange_rate, opportunity.amount_base) == (Decimal("7.800000"), Decimal("9629.10"))


def test_it_finds_the_header_below_a_title_row(manager, import_options):
    rows = [["2026春季广交会 名片"], [], CARD_HEADERS_ZH, *cards(2)]
    job = run(manager, excel_gbk_csv(rows), **import_options)
    assert (job.header_row, job.created) == (3, 2)


# --- what is created, and its history -----------------------------------------------------------


def test_it_writes_the_history_opportunity_create_writes(manager, rep, team, pipeline, source, import_options):
    by_hand = opportunity_create(
        by=manager,
        title="x",
        customer=CustomerFactory(created_by=manager),
        pipeline=pipeline,
        source=source,
        expected_close_date=company_today() + datetime.timedelta(days=30),
        team=team,
        owner=rep,
        assignment_reason="by hand",
    )
    job = run(manager, excel_gbk_csv([CARD_HEADERS_ZH, card(1)]), assign="owner", owner=rep, **import_options)
    imported = Opportunity.objects.get(customer__name="深圳市第1电子有限公司")

    fields = (
        "pipeline_id",
        "stage_id",
        "status",
        "owner_id",
        "team_id",
        "source_id",
        "probability",
        "probability_is_manual",
        "difficulty",
        "created_by_id",
        "expected_close_date",
        "currency",
    )
    assert {f: getattr(imported, f) for f in fields} == {f: getattr(by_hand, f) for f in fields}
    first_change = ("from_stage_id", "to_stage_id", "probability_before", "probability_after", "by_id")
    assert list(StageChange.objects.filter(opportunity=imported).values_list(*first_change)) == list(
        StageChange.objects.filter(opportunity=by_hand).values_list(*first_change)
    )
    assignment = Assignment.objects.get(opportunity=imported)
    assert (assignment.from_owner, assignment.to_owner, assignment.by, assignment.to_team) == (None, rep, manager, team)
    assert assignment.reason == f"Import #{job.pk}: cards.csv"


def test_it_leaves_leads_in_the_pool_without_assignment_rows(manager, import_options):
    run(manager, excel_gbk_csv([CARD_HEADERS_ZH, *cards(2)]), **import_options)
    assert set(Opportunity.objects.values_list("owner", flat=True)) == {None}
    assert not Assignment.objects.exists()
    assert StageChange.objects.count() == 2


def test_it_uses_the_chosen_stage_and_its_probability(manager, import_options, stages):
    run(manager, excel_gbk_csv([CARD_HEADERS_ZH, card(1)]), stage=stages["Quote"], **import_options)
    assert Opportunity.objects.values_list("stage__name", "probability").get() == ("Quote", 70)


# --- rejected rows -------------------------------------------------------------------------------


def test_it_rejects_broken_rows_whole_and_lists_them_in_the_original_columns(manager, import_options):
    headers = ["公司", "联系人", "邮箱", "电话", "金额", "预计成交日期"]
    rows = [
        headers,
        ["好公司有限公司", "王五", "wang@good.cn", "13900000000", "5万", in_days(10)],
        ["", "无名", "nobody@x.cn", "", "", ""],
        ["坏邮箱公司", "赵六", "zhao@", "", "", ""],
        ["坏金额公司", "钱七", "", "", "很多", ""],
        ["坏日期公司", "孙八", "", "", "", "明天"],
        ["过期公司", "周九", "", "", "", in_days(-1)],
        ["科学计数公司", "吴十", "", "1.38E+10", "", ""],
        ["负数公司", "郑一", "", "", "-5", ""],
    ]
    job = run(manager, excel_gbk_csv(rows), **import_options)

    assert (job.total, job.created, job.failed) == (8, 1, 7)
    assert Customer.objects.count() == Contact.objects.count() == Opportunity.objects.count() == 1
    assert Opportunity.objects.get().amount == Decimal("50000.00")
    reasons = dict(ImportRowError.objects.values_list("row_number", "reason"))
    assert reasons[3] == "The company name is missing."
    assert "“zhao@” is not a valid e-mail address." in reasons[4]
    assert "“很多” is not an amount." in reasons[5]
    assert "YYYY-MM-DD" in reasons[6]
    assert "cannot be in the past" in reasons[7]
    assert "format the column as text" in reasons[8]
    assert "cannot be negative" in reasons[9]

    lines = "".join(import_job_rejected_csv(job=job)).lstrip("\ufeff").splitlines()
    assert lines[0] == "公司,联系人,邮箱,电话,金额,预计成交日期,Import result,Reason"
    assert lines[1] == ",无名,nobody@x.cn,,,,Rejected,The company name is missing."
    assert len(lines) == 8


def test_it_rejects_a_currency_without_a_rate(manager, import_options):
    rows = [["Company", "Amount"], ["ACME", "USD 1,000"], ["Beta", "JPY 5000"]]
    CurrencyRateFactory(currency="USD", rate=Decimal("7.100000"))
    job = run(manager, utf8_bom_csv(rows), **import_options)
    assert (job.created, job.failed) == (1, 1)
    assert Opportunity.objects.get().amount_base == Decimal("7100.00")
    assert "no exchange rate for JPY" in ImportRowError.objects.get().reason


# --- duplicates and re-import ------------------------------------------------------------------------


@pytest.fixture
def known_customer(manager):
    customer = CustomerFactory(name="深圳市第1电子有限公司", created_by=manager)
    ContactFactory(customer=customer, name="张1", email="BUYER1@factory1.cn")
    return customer


def test_it_skips_duplicates_of_existing_customers_and_of_earlier_rows(manager, import_options, known_customer):
    same_company = card(9)
    same_company[0] = "深圳市第2电子有限公司"  # another person of the company in row 3
    rows = [CARD_HEADERS_ZH, card(1), card(2), same_company, card(3)]
    job = run(manager, excel_gbk_csv(rows), duplicates="skip", **import_options)

    assert (job.created, job.skipped, job.failed) == (2, 2, 0)
    reasons = dict(ImportRowError.objects.values_list("row_number", "reason"))
    assert reasons[2] == "Duplicate: same e-mail address as the existing customer “深圳市第1电子有限公司”."
    assert reasons[4] == "Duplicate: same company name as row 3 of this file."
    assert not known_customer.opportunities.exists()


def test_it_matches_duplicates_on_normalised_phone_and_company_name(manager, import_options, known_customer):
    ContactFactory(customer=known_customer, phone="+86 138-0000-0005", email="")
    rows = [["Company", "Phone"], ["深圳市第1电子 有限公司", ""], ["Other Co", "0086 13800000005"]]
    job = run(manager, utf8_bom_csv(rows), **import_options)
    assert (job.created, job.skipped) == (0, 2)


def test_it_attaches_duplicates_to_the_existing_customer(manager, import_options, known_customer):
    rows = [CARD_HEADERS_ZH, card(1), card(2), card(2)]
    job = run(manager, excel_gbk_csv(rows), duplicates="attach", **import_options)

    assert (job.created, job.skipped, job.customers_created, job.contacts_created) == (3, 0, 1, 1)
    attached = known_customer.opportunities.get()
    assert attached.contact == known_customer.contacts.get()  # same person: no second contact
    assert Customer.objects.get(name="深圳市第2电子有限公司").opportunities.count() == 2


def test_it_creates_duplicates_anyway_when_asked(manager, import_options, known_customer):
    job = run(manager, excel_gbk_csv([CARD_HEADERS_ZH, card(1)]), duplicates="create", **import_options)
    assert job.created == 1
    assert Customer.objects.filter(name="深圳市第1电子有限公司").count() == 2


def test_it_does_not_match_customers_the_manager_cannot_see(manager, import_options, outsider_manager):
    hidden = CustomerFactory(name="深圳市第1电子有限公司", created_by=outsider_manager)
    job = run(manager, excel_gbk_csv([CARD_HEADERS_ZH, card(1)]), **import_options)
    assert job.created == 1 and not hidden.opportunities.exists()


@pytest.mark.parametrize("duplicates", ["skip", "attach", "create"])
def test_it_creates_nothing_new_when_the_same_file_is_imported_again(manager, import_options, duplicates):
    data = excel_gbk_csv([CARD_HEADERS_ZH, *cards(5), card(5)])  # two identical rows
    first = run(manager, data, duplicates="create", **import_options)
    counts = Customer.objects.count(), Contact.objects.count(), Opportunity.objects.count(), StageChange.objects.count()

    second = run(manager, data, duplicates=duplicates, **import_options)

    assert first.created == 6
    assert (second.total, second.created, second.skipped, second.failed) == (6, 0, 6, 0)
    assert (
        Customer.objects.count(),
        Contact.objects.count(),
        Opportunity.objects.count(),
        StageChange.objects.count(),
    ) == counts
    assert ImportRowError.objects.filter(job=second).first().reason == f"Already imported (import #{first.pk}, row 2)."


def test_it_imports_the_fixed_rows_of_the_rejected_file(manager, import_options):
    rows = [["公司", "邮箱"], ["好公司", "ok@good.cn"], ["坏公司", "bad@"]]
    first = run(manager, excel_gbk_csv(rows), **import_options)
    fixed = "".join(import_job_rejected_csv(job=first)).replace("bad@", "bad@bad.cn")

    second = run(manager, fixed.encode("utf-8"), "fixed.csv", **import_options)

    assert (first.created, first.failed, second.created, second.failed) == (1, 1, 1, 0)
    assert Contact.objects.filter(email="bad@bad.cn").exists()


# --- assignment -----------------------------------------------------------------------------------------


def test_it_spreads_1000_leads_round_robin_over_3_reps_skipping_a_deactivated_one(
    manager, import_options, team, rep, other_rep
):
    third = UserFactory(username="rep3")
    gone = UserFactory(username="gone", is_active=False)
    team.members.add(third, gone)

    job = run(manager, excel_gbk_csv([CARD_HEADERS_ZH, *cards(1000)]), assign="round_robin", **import_options)

    assert (job.created, job.failed) == (1000, 0), job.error
    counts = {user.username: Opportunity.objects.filter(owner=user).count() for user in (rep, other_rep, third, gone)}
    assert counts["gone"] == 0
    assert max(counts.values()) - min(counts["rep"], counts["other_rep"], counts["rep3"]) <= 1
    assert sum(counts.values()) == 1000
    assert Assignment.objects.filter(reason=f"Import #{job.pk}: cards.csv").count() == 1000
    team.refresh_from_db()
    assert team.round_robin_last is not None


def test_it_skips_a_deactivated_rep_among_the_chosen_ones(manager, import_options, team, rep, other_rep):
    third = UserFactory(username="rep3")
    team.members.add(third)
    job = import_leads(
        by=manager,
        file=upload(excel_gbk_csv([CARD_HEADERS_ZH, *cards(10)])),
        enqueue=False,
        assign="round_robin",
        reps=[rep, other_rep, third],
        **import_options,
    )
    other_rep.is_active = False
    other_rep.save()

    job = import_job_run(job_id=job.pk)

    assert job.created == 10, job.error
    assert set(Opportunity.objects.values_list("owner__username", flat=True)) == {"rep", "rep3"}


def test_it_gives_least_loaded_reps_leads_first(manager, import_options, team, pipeline, rep, other_rep):
    for _ in range(5):
        OpportunityFactory(team=team, pipeline=pipeline, owner=rep)
    run(manager, excel_gbk_csv([CARD_HEADERS_ZH, *cards(11)]), assign="least_loaded", **import_options)
    loads = [Opportunity.objects.open().filter(owner=user).count() for user in (rep, other_rep)]
    assert sorted(loads) == [8, 8]


def test_it_takes_the_owner_from_a_column_and_rejects_another_teams_rep(
    manager, import_options, rep, other_rep, outsider_rep, other_team
):
    rows = [
        ["公司", "负责人"],
        ["甲公司", "rep"],
        ["乙公司", other_rep.email],
        ["丙公司", "outsider_rep"],
        ["丁公司", "nobody"],
        ["戊公司", ""],
    ]
    job = run(manager, excel_gbk_csv(rows), assign="column", **import_options)

    assert (job.created, job.failed) == (3, 2)
    owners = dict(Opportunity.objects.values_list("customer__name", "owner__username"))
    assert owners == {"甲公司": "rep", "乙公司": "other_rep", "戊公司": None}
    reasons = dict(ImportRowError.objects.values_list("row_number", "reason"))
    assert reasons[4] == "outsider_rep is not a member of the team 外贸一部."
    assert "There is no user “nobody”" in reasons[5]
    assert not Opportunity.objects.filter(owner=outsider_rep).exists()


def test_it_needs_an_owner_column_to_assign_from_a_column(manager, import_options):
    with pytest.raises(ValidationError) as error:
        import_leads(by=manager, file=upload(excel_gbk_csv([["公司"], ["甲"]])), assign="column", **import_options)
    assert "owner" in str(error.value.message_dict["mapping"])


# --- who may import, and checks before anything is stored ---------------------------------------------------


def test_it_refuses_a_rep(rep, import_options):
    with pytest.raises(PermissionDenied):
        import_leads(by=rep, file=upload(excel_gbk_csv([CARD_HEADERS_ZH, card(1)])), **import_options)
    assert not ImportJob.objects.exists()


def test_it_refuses_a_manager_of_another_team(outsider_manager, other_team, import_options):
    with pytest.raises(ValidationError) as error:
        import_leads(by=outsider_manager, file=upload(excel_gbk_csv([CARD_HEADERS_ZH, card(1)])), **import_options)
    assert "team" in error.value.message_dict


def test_it_stores_nothing_for_an_undecodable_file(manager, import_options, settings):
    data = "Company;Contact\r\nMüller GmbH;Jürgen\r\n".encode("cp1252")
    with pytest.raises(ValidationError) as error:
        import_leads(by=manager, file=upload(data), **import_options)
    assert "garbled" in error.value.message_dict["file"][0]
    assert not ImportJob.objects.exists() and not Customer.objects.exists()
    assert not (settings.MEDIA_ROOT / "imports").exists()


def test_it_checks_the_options_like_opportunity_create(
    manager, import_options, source, pipeline, stages, rep, outsider_rep
):
    source.is_active = False
    source.save()
    options = {
        **import_options,
        "stage": stages["Won"],
        "close_in_days": None,
        "expected_close_date": company_today() - datetime.timedelta(days=1),
        "currency": "XYZ",
        "assign": "owner",
        "owner": outsider_rep,
    }
    with pytest.raises(ValidationError) as error:
        import_job_create(by=manager, file=upload(b"a"), **options)
    assert set(error.value.message_dict) == {"source", "stage", "expected_close_date", "currency", "owner"}


def test_it_refuses_an_import_over_the_row_limit(manager, import_options, settings):
    settings.IMPORT_MAX_ROWS = 3
    job = run(manager, excel_gbk_csv([CARD_HEADERS_ZH, *cards(4)]), **import_options)
    assert job.status == "failed" and "limit is 3" in job.error
    assert not Opportunity.objects.exists()


# --- preview ---------------------------------------------------------------------------------------


def test_it_previews_exactly_what_the_import_will_do_without_writing(manager, import_options, known_customer):
    rows = [CARD_HEADERS_ZH, card(1), card(2), ["", "无名"], card(3)]
    job = import_job_create(by=manager, file=upload(excel_gbk_csv(rows)), **import_options)
    preview = import_job_preview(job=job, by=manager)

    assert preview["counts"] | {} == {
        "total": 4,
        "create": 2,
        "attach": 0,
        "skip": 1,
        "fail": 1,
        "customers": 2,
        "contacts": 2,
        "duplicates": 1,
        "already_imported": 0,
    }
    assert [row["company"] for row in preview["rows"]] == ["深圳市第2电子有限公司", "深圳市第3电子有限公司"]
    assert preview["errors"] == [{"row": 4, "reason": "The company name is missing.", "values": ["", "无名"]}]
    assert preview["duplicates"][0]["row"] == 2
    assert Customer.objects.count() == 1 and not Opportunity.objects.exists()

    job = import_job_set_mapping(
        job=job, by=manager, mapping={**job.mapping, "9": ""}, duplicates="attach", save_as="广交会名片", enqueue=False
    )
    assert job.preview["counts"]["attach"] == 1 and "备注" in job.preview["unmapped"]
    import_job_start(job=job, by=manager, enqueue=False)
    job = import_job_run(job_id=job.pk)
    assert (job.created, job.skipped, job.failed) == (3, 0, 1)


def test_it_maps_the_next_file_with_the_saved_mapping(manager, import_options):
    job = import_job_create(
        by=manager, file=upload(excel_gbk_csv([["单位", "客户", "Handy"], ["甲", "张三", "139"]])), **import_options
    )
    import_job_set_mapping(
        job=job, by=manager, mapping={"0": "company", "1": "contact", "2": "phone"}, save_as="我的模板", enqueue=False
    )
    again = import_job_create(
        by=manager, file=upload(excel_gbk_csv([["Handy", "单位", "客户"], ["139", "乙", "李四"]])), **import_options
    )
    assert again.mapping == {"0": "phone", "1": "company", "2": "contact"}


# --- running -------------------------------------------------------------------------------------------


def test_it_is_not_run_twice_at_once_but_a_dead_run_is_taken_over(manager, import_options):
    job = import_leads(
        by=manager, file=upload(excel_gbk_csv([CARD_HEADERS_ZH, card(1)])), enqueue=False, **import_options
    )
    ImportJob.objects.filter(pk=job.pk).update(status="running", heartbeat_at=timezone.now())
    assert import_job_run(job_id=job.pk).created == 0

    ImportJob.objects.filter(pk=job.pk).update(heartbeat_at=timezone.now() - datetime.timedelta(hours=1))
    assert import_job_run(job_id=job.pk).created == 1
    assert ImportedRow.objects.count() == 1


def test_it_fails_the_job_with_a_message_when_the_source_was_closed_meanwhile(manager, import_options, source):
    job = import_leads(
        by=manager, file=upload(excel_gbk_csv([CARD_HEADERS_ZH, card(1)])), enqueue=False, **import_options
    )
    source.is_active = False
    source.save()
    job = import_job_run(job_id=job.pk)
    assert job.status == "failed" and "not active" in job.error
    assert not Opportunity.objects.exists()


def test_it_keeps_csv_text_cells_intact(manager, import_options):
    rows = [["公司", "备注"], ["甲公司", 'He said "yes", then\nleft']]
    run(manager, csv_text(rows).encode("gbk"), **import_options)
    assert Opportunity.objects.get().description == 'He said "yes", then\nleft'


def test_it_reads_english_cards(manager, import_options):
    rows = [
        CARD_HEADERS_EN,
        ["ACME Corp.", "Anna Smith", "Buyer", "+1 (555) 010-9999", "anna@acme.com", "USA", "", "Pumps", "", ""],
    ]
    job = run(manager, utf8_bom_csv(rows), **import_options)
    assert job.created == 1
    contact = Contact.objects.get()
    assert (contact.name, contact.phone_normalized, contact.customer.name_normalized) == (
        "Anna Smith",
        "15550109999",
        "acme",
    )
