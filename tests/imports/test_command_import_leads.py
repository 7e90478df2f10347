import pytest
from django.core.management import CommandError, call_command

from opportunities.models import Opportunity
from tests.imports.files import CARD_HEADERS_ZH, card, cards, excel_gbk_csv


def test_it_imports_a_file_and_prints_the_summary(tmp_path, capsys, manager, team, pipeline, source, rep, other_rep):
    path = tmp_path / "名片.csv"
    path.write_bytes(excel_gbk_csv([CARD_HEADERS_ZH, *cards(6), ["", "无名"]]))

    call_command(
        "import_leads",
        str(path),
        "--source",
        str(source.pk),
        "--pipeline",
        str(pipeline.pk),
        "--assign",
        "round_robin",
        "--team",
        str(team.pk),
        "--duplicates",
        "skip",
        "--by",
        "manager",
    )

    out = capsys.readouterr().out
    assert "Import #" in out and "名片.csv" in out and "6 created, 0 skipped, 1 rejected" in out
    assert "/errors/?format=csv" in out
    assert Opportunity.objects.filter(owner=rep).count() == Opportunity.objects.filter(owner=other_rep).count() == 3


def test_it_says_what_is_wrong(tmp_path, manager, team, pipeline, source, stages):
    path = tmp_path / "cards.csv"
    path.write_bytes(excel_gbk_csv([CARD_HEADERS_ZH, card(1)]))
    with pytest.raises(CommandError, match="stage: A new opportunity starts in an open stage."):
        call_command(
            "import_leads",
            str(path),
            "--source",
            str(source.pk),
            "--pipeline",
            str(pipeline.pk),
            "--stage",
            str(stages["Won"].pk),
            "--by",
            "manager",
        )
    with pytest.raises(CommandError, match="--by"):
        call_command("import_leads", str(path), "--source", str(source.pk), "--pipeline", str(pipeline.pk))
