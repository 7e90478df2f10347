"""crm/settings.py parses its environment strictly: a bad value stops start-up with a message
naming the variable, never a silent guess. Helpers are tested directly; the module as a whole is
imported in a subprocess, the way manage.py, gunicorn and celery load it."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from crm import settings as crm_settings
from crm.settings import email_settings, env_bool, env_int, env_list, secret_key

ROOT = Path(__file__).resolve().parents[2]


def load_settings(tmp_path, **env):
    """Import crm.settings in a fresh interpreter with only the given overrides."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_") and k != "EMAIL_URL"}
    clean.update(JIHUI_VAR_DIR=str(tmp_path), DJANGO_SETTINGS_MODULE="crm.settings", **env)
    code = "from django.conf import settings; print(settings.DEBUG, settings.EMAIL_BACKEND)"
    return subprocess.run(  # noqa: S603 - fixed command, test input
        [sys.executable, "-c", code], cwd=ROOT, env=clean, capture_output=True, text=True, timeout=60
    )


@pytest.mark.parametrize(("raw", "expected"), [("true", True), ("1", True), (" Yes ", True), ("off", False)])
def test_it_reads_booleans(monkeypatch, raw, expected):
    monkeypatch.setenv("JIHUI_TEST_FLAG", raw)
    assert env_bool("JIHUI_TEST_FLAG", not expected) is expected


def test_it_uses_the_default_for_an_unset_or_empty_boolean(monkeypatch):
    monkeypatch.delenv("JIHUI_TEST_FLAG", raising=False)
    assert env_bool("JIHUI_TEST_FLAG", True) is True
    monkeypatch.setenv("JIHUI_TEST_FLAG", "")
    assert env_bool("JIHUI_TEST_FLAG", False) is False


@pytest.mark.parametrize("raw", ["ture", "2", "debug"])
def test_it_refuses_a_boolean_it_cannot_read(monkeypatch, raw):
    monkeypatch.setenv("JIHUI_TEST_FLAG", raw)
    with pytest.raises(ImproperlyConfigured, match="JIHUI_TEST_FLAG must be true or false"):
        env_bool("JIHUI_TEST_FLAG", True)


def test_it_refuses_a_number_it_cannot_read(monkeypatch):
    monkeypatch.setenv("JIHUI_TEST_NUMBER", "12h")
    with pytest.raises(ImproperlyConfigured, match="JIHUI_TEST_NUMBER must be a whole number"):
        env_int("JIHUI_TEST_NUMBER", 1)


def test_it_splits_lists_on_commas(monkeypatch):
    monkeypatch.setenv("JIHUI_TEST_LIST", " crm.example.com, .example.org ,,")
    assert env_list("JIHUI_TEST_LIST", []) == ["crm.example.com", ".example.org"]


def test_it_parses_smtp_with_starttls():
    parsed = email_settings("smtp://sales%40example.com:p%40ss%3Aword@mail.example.com:587?tls=1")
    assert parsed == {
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": "mail.example.com",
        "EMAIL_PORT": 587,
        "EMAIL_HOST_USER": "sales@example.com",
        "EMAIL_HOST_PASSWORD": "p@ss:word",
        "EMAIL_USE_SSL": False,
        "EMAIL_USE_TLS": True,
        "EMAIL_TIMEOUT": 30,
    }


def test_it_parses_plain_smtp_with_the_default_port():
    parsed = email_settings("smtp://relay.internal")
    assert (parsed["EMAIL_HOST"], parsed["EMAIL_PORT"], parsed["EMAIL_USE_TLS"]) == ("relay.internal", 25, False)
    assert parsed["EMAIL_HOST_USER"] == parsed["EMAIL_HOST_PASSWORD"] == ""


def test_it_parses_smtps_as_implicit_tls_on_465():
    parsed = email_settings("smtps://user:secret@smtp.exmail.qq.com")
    assert (parsed["EMAIL_PORT"], parsed["EMAIL_USE_SSL"], parsed["EMAIL_USE_TLS"]) == (465, True, False)


def test_it_parses_a_file_url():
    assert email_settings("file:///srv/jihui/mail") == {
        "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
        "EMAIL_FILE_PATH": "/srv/jihui/mail",
    }


def test_it_parses_the_console_url():
    assert email_settings("console://") == {"EMAIL_BACKEND": "django.core.mail.backends.console.EmailBackend"}


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://mail.example.com", "scheme must be smtp, smtps, file or console"),
        ("mail.example.com:587", "scheme must be smtp, smtps, file or console"),
        ("smtp://mail.example.com:port", "bad port"),
        ("smtp://mail.example.com:587?tls=sometimes", "tls option must be true or false"),
        ("smtp://mail.example.com:587?starttls=1", "accepts only the \\?tls= option"),
        ("smtps://mail.example.com?tls=1", "smtps:// is TLS already"),
        ("file://var/mail", "file path must be absolute"),
    ],
)
def test_it_refuses_an_email_url_it_cannot_use(url, message):
    with pytest.raises(ImproperlyConfigured, match=message):
        email_settings(url)


def test_it_requires_a_secret_key_when_debug_is_off(monkeypatch):
    monkeypatch.delenv("DJANGO_SECRET_KEY", raising=False)
    with pytest.raises(ImproperlyConfigured, match="DJANGO_SECRET_KEY is required"):
        secret_key(False)


def test_it_generates_the_development_secret_once(monkeypatch, tmp_path):
    monkeypatch.delenv("DJANGO_SECRET_KEY", raising=False)
    monkeypatch.setattr(crm_settings, "VAR_DIR", tmp_path / "var")
    first = secret_key(True)
    assert len(first) >= 50
    assert secret_key(True) == first
    assert (tmp_path / "var" / "secret_key").stat().st_mode & 0o777 == 0o600


def test_it_prefers_the_secret_key_from_the_environment(monkeypatch):
    monkeypatch.setenv("DJANGO_SECRET_KEY", "from-the-environment")
    assert secret_key(False) == "from-the-environment"


def test_it_starts_with_the_embedded_defaults(tmp_path):
    result = load_settings(tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["True", "django.core.mail.backends.filebased.EmailBackend"]


def test_it_refuses_to_start_with_a_bad_debug_value(tmp_path):
    result = load_settings(tmp_path, DJANGO_DEBUG="flase")
    assert result.returncode != 0
    assert "ImproperlyConfigured: DJANGO_DEBUG must be true or false, not 'flase'" in result.stderr


def test_it_refuses_to_start_in_production_without_a_secret_key(tmp_path):
    result = load_settings(tmp_path, DJANGO_DEBUG="false")
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY is required when DJANGO_DEBUG is off" in result.stderr
    assert not (tmp_path / "secret_key").exists()


def test_it_refuses_to_start_with_a_bad_email_url(tmp_path):
    result = load_settings(tmp_path, EMAIL_URL="smtp+tls://mail.example.com")
    assert result.returncode != 0
    assert "EMAIL_URL scheme must be smtp, smtps, file or console" in result.stderr


def test_it_documents_every_environment_variable_it_reads():
    source = (ROOT / "crm" / "settings.py").read_text()
    names = set(re.findall(r'(?:env_\w+|os\.environ\.get)\(\s*"([A-Z][A-Z0-9_]*)"', source))
    assert {"DJANGO_DEBUG", "DATABASE_URL", "EMAIL_URL"} <= names  # the pattern still finds them
    documented = set(re.findall(r"`([A-Z][A-Z0-9_]*)`", (ROOT / "docs" / "CONFIGURATION.md").read_text()))
    assert sorted(names - documented) == []


def _database_options(tmp_path, url: str, **extra) -> str:
    env = {"DATABASE_URL": url, "JIHUI_VAR_DIR": str(tmp_path), "DJANGO_SETTINGS_MODULE": "crm.settings", **extra}
    clean = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("DJANGO_") and k not in ("DATABASE_URL", "DB_PARALLEL_SETUP_COST")
    }
    code = "from django.conf import settings; print(settings.DATABASES['default'].get('OPTIONS', {}).get('options'))"
    result = subprocess.run(  # noqa: S603 - fixed command, test input
        [sys.executable, "-c", code], cwd=ROOT, env={**clean, **env}, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_it_prices_parallel_workers_for_pages_on_postgresql(tmp_path):
    plain = _database_options(tmp_path, "postgres://u@127.0.0.1:5432/jihui")
    assert plain == "-c parallel_setup_cost=10000"
    # A DATABASE_URL with settings of its own keeps them.
    own = _database_options(tmp_path, "postgres://u@127.0.0.1:5432/jihui?options=-c%20statement_timeout%3D5000")
    assert own == "-c statement_timeout=5000 -c parallel_setup_cost=10000"
    assert _database_options(tmp_path, f"sqlite:///{tmp_path}/db.sqlite3") == "None"
    # Set otherwise, or not at all (behind a pooler that refuses startup options).
    url = "postgres://u@127.0.0.1:5432/jihui"
    assert _database_options(tmp_path, url, DB_PARALLEL_SETUP_COST="5000") == "-c parallel_setup_cost=5000"
    assert _database_options(tmp_path, url, DB_PARALLEL_SETUP_COST="0") == "None"


@pytest.mark.django_db
def test_the_connection_prices_parallel_workers_as_set():
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("a PostgreSQL planner setting")
    with connection.cursor() as cursor:
        cursor.execute("SHOW parallel_setup_cost")
        assert cursor.fetchone()[0] == "10000"
