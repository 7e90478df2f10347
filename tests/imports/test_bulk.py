from customers.models import Customer
from opportunities.imports.bulk import insert_rows
from opportunities.imports.models import ImportRowError
from tests.imports.files import CARD_HEADERS_ZH, excel_gbk_csv, upload


def test_it_inserts_rows_as_save_would_and_returns_their_ids_in_order(manager):
    awkward = 'Tab\there, new\nline, back\\slash, "quotes", 中文 \\N'
    ids = insert_rows(
        Customer,
        [
            {"name": awkward, "name_normalized": "x", "created_by_id": manager.pk},
            {"name": "Plain", "name_normalized": "plain"},
        ],
    )

    first, second = Customer.objects.get(pk=ids[0]), Customer.objects.get(pk=ids[1])
    assert (first.name, first.created_by, first.country, first.notes) == (awkward, manager, "", "")
    assert first.created_at is not None and first.updated_at is not None
    assert second.name == "Plain" and ids[1] > ids[0]
    assert Customer.objects.create(name="after").pk > ids[1]  # the id sequence moved on


def test_it_stores_json_and_choices(manager, import_options):
    from opportunities.imports.services import import_job_create

    job = import_job_create(by=manager, file=upload(excel_gbk_csv([CARD_HEADERS_ZH])), **import_options)
    [pk] = insert_rows(
        ImportRowError,
        [
            {
                "job_id": job.pk,
                "row_number": 2,
                "kind": ImportRowError.Kind.SKIPPED,
                "reason": "r",
                "values": ["a\tb", '引号"', "", "\\"],
            }
        ],
    )
    row = ImportRowError.objects.get(pk=pk)
    assert (row.kind, row.values) == ("skipped", ["a\tb", '引号"', "", "\\"])


def test_it_inserts_nothing_for_no_rows(db):
    assert insert_rows(Customer, []) == []
    assert not Customer.objects.exists()
