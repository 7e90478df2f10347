"""The API's error answers: language, throttling, and the shared exception handler."""

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError

from crm.api_errors import api_exception_handler
from crm.exceptions import ConflictError
from crm.settings import env_throttle_rate

CUSTOMERS = "/api/customers/"


@pytest.mark.parametrize(
    ("language", "message"),
    [("en", "This field is required."), ("zh-hans", "该字段是必填项。"), ("zh-Hans-CN", "该字段是必填项。")],
)
def test_it_answers_in_the_callers_language(api_as, rep, language, message):
    response = api_as(rep).post(CUSTOMERS, {}, format="json", HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 400
    assert response.json() == {"name": [message]}


def test_it_answers_401_in_the_callers_language(api_client, db):
    english = api_client.get(CUSTOMERS, HTTP_ACCEPT_LANGUAGE="en").json()["detail"]
    chinese = api_client.get(CUSTOMERS, HTTP_ACCEPT_LANGUAGE="zh-hans").json()["detail"]
    assert english == "Authentication credentials were not provided."
    assert chinese == "身份认证信息未提供。"


def rates(settings, **rates):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": rates}


def test_it_throttles_anonymous_callers_with_429(api_client, settings, db):
    rates(settings, anon="3/min", user="1000/min")
    answers = [api_client.get("/api/docs/").status_code for _ in range(4)]
    assert answers == [200, 200, 200, 429]
    response = api_client.get("/api/docs/", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0


def test_it_throttles_each_user_separately(api_as, rep, other_rep, settings):
    rates(settings, anon="1000/min", user="2/min")
    client = api_as(rep)
    assert [client.get("/api/me/").status_code for _ in range(3)] == [200, 200, 429]
    assert api_as(other_rep).get("/api/me/").status_code == 200


def test_it_throttles_password_guessing_at_the_token_endpoint(api_client, rep, settings):
    rates(settings, anon="2/min", user="1000/min")
    answers = [
        api_client.post("/api/auth/token/", {"username": "rep", "password": "wrong"}, format="json").status_code
        for _ in range(3)
    ]
    assert answers == [400, 400, 429]
    response = api_client.post("/api/auth/token/", {}, format="json", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 429 and "throttled" in response.json()["detail"]
    response = api_client.post("/api/auth/token/", {}, format="json", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert "请求已被限流" in response.json()["detail"]


@pytest.mark.parametrize("raw", ["60/min", "5/s", "100/hour", "1000/day"])
def test_it_accepts_throttle_rates_drf_understands(monkeypatch, raw):
    monkeypatch.setenv("API_THROTTLE_USER", raw)
    assert env_throttle_rate("API_THROTTLE_USER", "1/min") == raw


@pytest.mark.parametrize("raw", ["60", "many/min", "60/fortnight", "/min"])
def test_it_refuses_a_malformed_throttle_rate_at_start_up(monkeypatch, raw):
    monkeypatch.setenv("API_THROTTLE_USER", raw)
    with pytest.raises(ImproperlyConfigured):
        env_throttle_rate("API_THROTTLE_USER", "1/min")


# --- the handler itself -------------------------------------------------------------------------


def test_it_maps_a_field_error_to_400_field_by_field():
    response = api_exception_handler(DjangoValidationError({"amount": "Enter a number.", "__all__": "Both."}), {})
    assert response.status_code == 400
    assert response.data == {"amount": ["Enter a number."], "non_field_errors": ["Both."]}


def test_it_maps_a_list_of_errors_to_non_field_errors():
    response = api_exception_handler(DjangoValidationError(["Attach a photo.", "Enter a tracking number."]), {})
    assert response.data == {"non_field_errors": ["Attach a photo.", "Enter a tracking number."]}


def test_it_keeps_the_services_reason_for_403():
    response = api_exception_handler(DjangoPermissionDenied("Only a manager can do that."), {})
    assert response.status_code == 403 and response.data == {"detail": "Only a manager can do that."}


def test_it_maps_a_conflict_to_409_with_the_current_version():
    response = api_exception_handler(ConflictError(current_version=7), {})
    assert response.status_code == 409 and response.data["current_version"] == 7 and response.data["detail"]


def test_it_keys_a_bare_list_error_as_non_field_errors(api_as, rep, team):
    response = api_as(rep).get("/api/opportunities/", {"search": "a\x00b"})
    assert response.status_code == 400
    assert list(response.json()) == ["non_field_errors"]


def test_it_answers_a_generic_not_found_without_the_model_name(api_as, rep, team):
    response = api_as(rep).get("/api/opportunities/999999/")
    assert response.status_code == 404
    assert "Opportunity" not in response.json()["detail"]
