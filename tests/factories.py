"""factory_boy factories for the whole domain. Build objects here, never by hand in tests."""

import datetime
from decimal import Decimal

import factory
from django.utils import timezone

from customers.models import Contact, Customer
from opportunities.models import CurrencyRate, LostReason, Opportunity, StageChange
from sources.models import LeadSource
from stages.models import Pipeline, Stage
from teams.models import Team, User


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda o: f"{o.username}@example.com")
    password = factory.PostGenerationMethodCall("set_password", "pw-for-tests-1")

    @factory.post_generation
    def save_password(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class TeamFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Team
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Team {n}")

    @factory.post_generation
    def members(obj, create, extracted, **kwargs):
        if create and extracted:
            obj.members.add(*extracted)

    @factory.post_generation
    def managers(obj, create, extracted, **kwargs):
        if create and extracted:
            obj.managers.add(*extracted)


class PipelineFactory(factory.django.DjangoModelFactory):
    """A pipeline with stages: New (10%) → Sample (50%, needs photo + tracking) → Quote (70%) → Won / Lost."""

    class Meta:
        model = Pipeline
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Pipeline {n}")

    @factory.post_generation
    def stages(obj, create, extracted, **kwargs):
        if not create:
            return
        specs = extracted or [
            {"name": "New", "probability": 10},
            {"name": "Sample", "probability": 50, "requires_attachment": True, "requires_tracking_number": True},
            {"name": "Quote", "probability": 70, "required_fields": ["amount"]},
            {"name": "Won", "probability": 100, "kind": Stage.Kind.WON},
            {"name": "Lost", "probability": 0, "kind": Stage.Kind.LOST},
        ]
        for order, spec in enumerate(specs, start=1):
            Stage.objects.create(pipeline=obj, order=order * 10, **spec)


class LeadSourceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = LeadSource

    name = factory.Sequence(lambda n: f"Source {n}")
    channel = LeadSource.Channel.TRADE_SHOW
    cost_money = Decimal("10000.00")
    manpower_days = Decimal("4.0")
    day_rate = Decimal("500.00")


class CustomerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Customer

    name = factory.Sequence(lambda n: f"Customer {n} Ltd")
    country = "Germany"


class ContactFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Contact

    customer = factory.SubFactory(CustomerFactory)
    name = factory.Sequence(lambda n: f"Contact {n}")
    email = factory.Sequence(lambda n: f"contact{n}@customer.example")


class LostReasonFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = LostReason
        django_get_or_create = ("name",)

    name = "Price too high"


class CurrencyRateFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CurrencyRate
        django_get_or_create = ("currency", "valid_from")

    currency = "USD"
    rate = Decimal("7.100000")
    valid_from = datetime.date(2020, 1, 1)


class OpportunityFactory(factory.django.DjangoModelFactory):
    """Rows built directly (bypassing services) for read-side tests; use services to change them."""

    class Meta:
        model = Opportunity
        skip_postgeneration_save = True

    title = factory.Sequence(lambda n: f"Deal {n}")
    customer = factory.SubFactory(CustomerFactory)
    team = factory.SubFactory(TeamFactory)
    pipeline = factory.SubFactory(PipelineFactory)
    stage = factory.LazyAttribute(lambda o: o.pipeline.first_open_stage())
    probability = factory.LazyAttribute(lambda o: o.stage.probability)
    source = factory.SubFactory(LeadSourceFactory)
    amount = Decimal("1000.00")
    amount_base = Decimal("1000.00")
    expected_close_date = factory.LazyFunction(lambda: timezone.localdate() + datetime.timedelta(days=30))

    @factory.post_generation
    def first_stage_change(obj, create, extracted, **kwargs):
        if create:
            StageChange.objects.create(
                opportunity=obj, by=obj.owner, from_stage=None, to_stage=obj.stage, probability_after=obj.probability
            )


class ActivityFactory(factory.django.DjangoModelFactory):
    """An activity tagged with the deal's current stage (as the service does)."""

    class Meta:
        model = "opportunities.Activity"

    opportunity = factory.SubFactory(OpportunityFactory)
    stage = factory.LazyAttribute(lambda o: o.opportunity.stage)
    kind = "note"
    body = "Called the buyer."
    author = factory.LazyAttribute(lambda o: o.opportunity.owner)


def png_bytes() -> bytes:
    """A real 1×1 PNG, so content sniffing sees a genuine image."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00\xff\x00\x00")
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def upload(name: str = "sample.png", content: bytes | None = None):
    """An uploaded file as a view would receive it (a PNG unless ``content`` says otherwise)."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, png_bytes() if content is None else content)


# --- notifications ------------------------------------------------------------------------------

from notifications.models import Notification, OutboxMessage, ReminderRule  # noqa: E402


class ReminderRuleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ReminderRule

    name = factory.Sequence(lambda n: f"Rule {n}")
    kind = ReminderRule.Kind.CLOSE_DATE
    days_before = 7
    to_owner = True


class OutboxMessageFactory(factory.django.DjangoModelFactory):
    """A queued e-mail written straight to the outbox (nothing enqueued)."""

    class Meta:
        model = OutboxMessage

    due_key = factory.Sequence(lambda n: f"test:{n}")
    kind = OutboxMessage.Kind.REMINDER
    to_address = factory.Sequence(lambda n: f"person{n}@example.com")
    language = "en"
    subject = factory.Sequence(lambda n: f"Message {n}")
    body_text = "Hello"
    body_html = "<p>Hello</p>"


class NotificationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Notification

    kind = Notification.Kind.REMINDER
    due_key = factory.Sequence(lambda n: f"test:{n}")
    data = factory.LazyAttribute(lambda o: {"close_date": "2026-03-10", "days_left": 7})
