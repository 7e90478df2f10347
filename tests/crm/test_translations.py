"""Both languages ship complete. English is the msgids; Simplified Chinese is every zh_Hans
catalogue in the repository, which must be fully translated (no empty or fuzzy entry, the same
placeholders as the English), cover every string the code marks, be compiled into the committed
.mo next to it, and be what a page shows to a Chinese browser. How to fix a failure:
docs/TRANSLATION.md (in short: ``bash bin/translations``, translate, commit .po and .mo)."""

import gettext
import os
import re
import shutil
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.conf import settings

REPO = Path(settings.BASE_DIR)
# Never ours, or never holding strings of ours: pruned from every walk and from the copy.
NOT_OURS = {".venv", "var", "node_modules", "staticfiles", ".git", "media", "__pycache__", ".pytest_cache"}


@dataclass
class Entry:
    line: int
    msgid: str = ""
    msgid_plural: str | None = None
    msgctxt: str | None = None
    msgstr: dict[int, str] = field(default_factory=dict)
    flags: set[str] = field(default_factory=set)

    def __str__(self) -> str:
        context = f"[{self.msgctxt}] " if self.msgctxt is not None else ""
        return f"line {self.line}: {context}{self.msgid!r}"


def _unquote(text: str) -> str:
    return re.sub(r'\\(["\\nt])', lambda m: {"n": "\n", "t": "\t"}.get(m.group(1), m.group(1)), text)


def parse_po(path: Path) -> tuple[str, list[Entry]]:
    """(header, entries) of a .po file; obsolete (#~) entries are left out."""
    entries: list[Entry] = []
    entry: Entry | None = None
    key: tuple[str, int] | None = None
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            entry, key = None, None
            continue
        if line.startswith("#~"):
            continue
        if entry is None:
            entry = Entry(line=number)
            entries.append(entry)
        if line.startswith("#,"):
            entry.flags |= {flag.strip() for flag in line[2:].split(",")}
            continue
        if line.startswith("#"):
            continue
        match = re.match(r'(msgctxt|msgid_plural|msgid|msgstr)(?:\[(\d+)\])? "(.*)"$', line)
        if match:
            name, index, text = match.group(1), int(match.group(2) or 0), _unquote(match.group(3))
            key = (name, index)
        else:
            match = re.match(r'"(.*)"$', line)
            assert match and key, f"{path}:{number}: cannot read {line!r}"
            name, index, text = key[0], key[1], _unquote(match.group(1))
            text = _value(entry, name, index) + text
        if name == "msgstr":
            entry.msgstr[index] = text
        else:
            setattr(entry, name, text)
    header = next((e for e in entries if e.msgid == "" and e.msgctxt is None), None)
    assert header is not None, f"{path}: no header"
    return header.msgstr.get(0, ""), [e for e in entries if e is not header]


def _value(entry: Entry, name: str, index: int) -> str:
    return entry.msgstr.get(index, "") if name == "msgstr" else getattr(entry, name) or ""


def zh_catalogues(root: Path) -> list[Path]:
    found = []
    for directory, subdirectories, files in os.walk(root):
        subdirectories[:] = sorted(d for d in subdirectories if d not in NOT_OURS)
        if Path(directory).parts[-3:] == ("locale", "zh_Hans", "LC_MESSAGES"):
            found += [Path(directory) / name for name in sorted(files) if name.endswith(".po")]
    return found


def untranslated(entries: list[Entry]) -> list[Entry]:
    return [e for e in entries if "fuzzy" in e.flags or not e.msgstr or any(not text for text in e.msgstr.values())]


PRINTF = re.compile(r"%(?:\((\w+)\))?[#0 +-]*(?:\d+|\*)?(?:\.\d+)?([diouxXeEfFgGcrsa%])")
BRACE = re.compile(r"\{\{|\}\}|\{(\w*)(?:![rsa])?(?::[^{}]*)?\}")
TAG = re.compile(r"</?[A-Za-z][^<>]*>")


def placeholders(text: str, flags: set[str]) -> tuple:
    """What a translation must keep: named %-placeholders (any order), positional ones (in
    order), {}-fields for brace-format strings, and HTML tags."""
    named, positional, braces = set(), [], Counter()
    if "python-format" in flags:
        for match in PRINTF.finditer(text):
            name, conversion = match.groups()
            if conversion == "%":
                continue
            if name:
                named.add((name, conversion))
            else:
                positional.append(conversion)
    if "python-brace-format" in flags:
        braces = Counter(m.group(1) for m in BRACE.finditer(text) if m.group(0) not in ("{{", "}}"))
    return named, positional, braces, Counter(TAG.findall(text))


def problems_of(path: Path) -> list[str]:
    header, entries = parse_po(path)
    found = [f"{path}: the header is not nplurals=1 (Chinese has one form)"] if "nplurals=1;" not in header else []
    found += [f"{path} {e}: untranslated or fuzzy" for e in untranslated(entries)]
    for entry in entries:
        english = entry.msgid_plural if entry.msgid_plural is not None else entry.msgid
        if entry.msgid_plural is not None and set(entry.msgstr) != {0}:
            found.append(f"{path} {entry}: a plural needs exactly msgstr[0], has {sorted(entry.msgstr)}")
        wanted = placeholders(english, entry.flags)
        for translation in entry.msgstr.values():
            if translation and placeholders(translation, entry.flags) != wanted:
                found.append(f"{path} {entry}: placeholders or tags differ in {translation!r}")
    return found


def test_it_has_zh_hans_catalogues_for_the_project_and_notifications():
    relative = {str(path.relative_to(REPO)) for path in zh_catalogues(REPO)}
    assert {"locale/zh_Hans/LC_MESSAGES/django.po", "notifications/locale/zh_Hans/LC_MESSAGES/django.po"} <= relative


@pytest.mark.parametrize("path", zh_catalogues(REPO), ids=lambda p: str(p.relative_to(REPO)))
def test_it_translates_every_entry_keeping_its_placeholders(path):
    assert problems_of(path) == []


def test_it_translates_a_string_the_same_in_every_catalogue():
    # Django merges the catalogues and the project's (LOCALE_PATHS) wins: an app's different
    # translation of the same msgid would silently never show. Give one a pgettext context instead.
    seen: dict[tuple, tuple[str, str]] = {}
    conflicts = []
    for path in zh_catalogues(REPO):
        for entry in parse_po(path)[1]:
            key, text = (entry.msgctxt, entry.msgid, entry.msgid_plural), entry.msgstr.get(0, "")
            where = str(path.relative_to(REPO))
            if key in seen and seen[key][1] != text:
                conflicts.append(f"{entry.msgid!r}: {seen[key][1]!r} in {seen[key][0]}, {text!r} in {where}")
            seen.setdefault(key, (where, text))
    assert conflicts == []


def test_it_flags_what_a_careless_translation_gets_wrong(tmp_path):
    po = tmp_path / "django.po"
    po.write_text(
        'msgid ""\nmsgstr ""\n"Plural-Forms: nplurals=1; plural=0;\\n"\n\n'
        '#, python-format\nmsgid "%(count)d of %(total)s rows"\nmsgstr "%(total)s 行"\n\n'
        '#, fuzzy\nmsgid "Log in"\nmsgstr "登录"\n\n'
        'msgid "Save"\nmsgstr ""\n\n'
        'msgid "<strong>Won</strong>"\nmsgstr "赢单"\n\n'
        '#, python-brace-format\nmsgid "In: {fields}."\nmsgstr "在：{field}。"\n\n'
        '#, python-format\nmsgid "%(n)d row"\nmsgid_plural "%(n)d rows"\nmsgstr[0] "%(n)d 行"\nmsgstr[1] "%(n)d 行"\n\n'
        '#, python-format\nmsgid "Page %(number)s of %(count)s"\nmsgstr "共 %(count)s 页，第 %(number)s 页"\n',
        encoding="utf-8",
    )
    problems = "\n".join(problems_of(po))
    for wrong in ("%(count)d of", "'Log in'", "'Save'", "<strong>", "{fields}", "exactly msgstr[0]"):
        assert wrong in problems
    assert "Page %(number)s" not in problems  # named placeholders may move
    assert len(problems_of(po)) == 6


@pytest.mark.skipif(not shutil.which("xgettext") or not shutil.which("bash"), reason="needs GNU gettext and bash")
def test_it_has_every_marked_string_of_the_code_in_a_catalogue(tmp_path):
    # In a copy: regenerating in place would rewrite the working tree of whoever runs the tests.
    copy = tmp_path / "repo"
    shutil.copytree(REPO, copy, ignore=shutil.ignore_patterns(*NOT_OURS, "*.mo", "*.pyc"), symlinks=True)
    env = {**os.environ, "PYTHON": sys.executable, "JIHUI_VAR_DIR": str(tmp_path / "var")}
    result = subprocess.run(  # noqa: S603 - our own script, fixed arguments
        [shutil.which("bash"), "bin/translations", "--no-compile"],
        cwd=copy,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode in (0, 1), result.stderr  # 1: entries left, listed below
    missing = [
        f"{path.relative_to(copy)} {entry}" for path in zh_catalogues(copy) for entry in untranslated(parse_po(path)[1])
    ]
    assert missing == [], "new or changed strings to translate: run `bash bin/translations` (docs/TRANSLATION.md)"
    # And nothing the catalogues hold is lost: a _() inside an f-string's braces is not found by
    # xgettext, and a regenerated catalogue would drop its translation while the code still asks
    # for it (or the code no longer uses it: run bin/translations to drop it for good).
    dropped = [
        f"{path.relative_to(REPO)} {msgid!r}"
        for path in zh_catalogues(REPO)
        for msgid in sorted(
            {entry.msgid for entry in parse_po(path)[1]}
            - {entry.msgid for entry in parse_po(copy / path.relative_to(REPO))[1]}
        )
    ]
    assert dropped == [], "strings makemessages no longer finds (a _() inside an f-string?)"


@pytest.mark.parametrize("path", zh_catalogues(REPO), ids=lambda p: str(p.relative_to(REPO)))
def test_it_ships_a_compiled_catalogue_matching_the_po(path):
    compiled = path.with_suffix(".mo")
    assert compiled.exists(), f"{compiled} is missing: run `bash bin/translations` and commit it"
    with compiled.open("rb") as file:
        catalogue = gettext.GNUTranslations(file)
    stale = []
    for entry in parse_po(path)[1]:
        if entry.msgid_plural is not None:
            shown = {catalogue.ngettext(entry.msgid, entry.msgid_plural, n) for n in (1, 2, 5)}
        elif entry.msgctxt is not None:
            shown = {catalogue.pgettext(entry.msgctxt, entry.msgid)}
        else:
            shown = {catalogue.gettext(entry.msgid)}
        if shown != {entry.msgstr.get(0)}:
            stale.append(str(entry))
    assert stale == [], f"{compiled} is older than its .po: run `bash bin/translations` and commit it"


def test_it_shows_the_login_page_in_the_browsers_language(client, settings):
    settings.LANGUAGE_CODE = "zh-hans"  # the shipped default (the test suite otherwise runs in English)
    chinese = client.get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="zh-CN,zh;q=0.9").content.decode()
    english = client.get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9").content.decode()
    default = client.get("/accounts/login/").content.decode()

    assert '<html lang="zh-hans">' in chinese and "<h1>登录</h1>" in chinese and "用户名" in chinese
    assert '<html lang="en">' in english and "<h1>Log in</h1>" in english and "Username" in english
    assert "<h1>登录</h1>" in default
    assert "Log in" not in chinese and "登录" not in english


def test_it_answers_a_failed_login_in_the_browsers_language(client, db):
    for language, message in (("zh-hans", "用户名或密码不正确"), ("en", "Please try again.")):
        response = client.post(
            "/accounts/login/", {"username": "nobody", "password": "wrong"}, HTTP_ACCEPT_LANGUAGE=language
        )
        assert message in response.content.decode()
