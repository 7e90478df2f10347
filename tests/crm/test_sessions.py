"""crm.sessions.SessionStore reads sessions as Django's database store does."""

import datetime

import pytest
from django.contrib.sessions.backends.db import SessionStore as DjangoSessionStore
from django.contrib.sessions.models import Session
from django.utils import timezone

from crm.sessions import SessionStore

pytestmark = pytest.mark.django_db


def stored(**data) -> str:
    session = DjangoSessionStore()
    session.update(data)
    session.save()
    return session.session_key


def test_it_is_the_sites_session_engine(settings):
    assert settings.SESSION_ENGINE == "crm.sessions"


def test_it_loads_what_djangos_store_loads():
    key = stored(_auth_user_id="7", note="中文 ✓")
    ours, theirs = SessionStore(key), DjangoSessionStore(key)
    assert ours.load() == theirs.load() == {"_auth_user_id": "7", "note": "中文 ✓"}
    assert ours.session_key == key


@pytest.mark.parametrize("key", ["expired", "nobody-has-this-key-0123456789ab", None])
def test_it_forgets_an_expired_or_unknown_key_so_saving_makes_a_new_one(key):
    if key == "expired":
        key = stored(_auth_user_id="7")
        Session.objects.filter(session_key=key).update(expire_date=timezone.now() - datetime.timedelta(seconds=1))
    session = SessionStore(key)
    assert session.load() == {}
    assert session.session_key is None
    session["fresh"] = True
    session.save()
    assert session.session_key not in (None, key)
    assert SessionStore(session.session_key).load() == {"fresh": True}


def test_a_signed_in_client_goes_through_it(client, rep):
    client.force_login(rep)
    assert client.get("/").status_code == 200
    assert isinstance(client.session, SessionStore)
