"""``python manage.py seed_demo [--password PW]``: demo data for every page and report.

Idempotent: what exists is kept (matched by name), nothing is created twice, and a second run
only resets the demo users' passwords so the logins it prints always work.

The ~300 opportunities are built by the real services (create, move stage, add activity with a
photo and a courier number, push the close date, assign, distribute, close, expire, deactivate a
rep who leaves), so every history row is genuine. The services stamp rows with the current time;
to give the demo a past, the events are run in the order of a planned timeline and afterwards
every timestamp written during an event is moved to that event's planned moment (one clearly
separated step at the end, see ``_backdate``).
"""

import bisect
import dataclasses
import datetime
import random
import secrets
import time
import unicodedata
from decimal import Decimal

from django.contrib.auth.hashers import make_password
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.db.models import Min
from django.utils import timezone

from crm.dates import company_today, company_zone
from crm.demo_data import (
    CARRIERS,
    CURRENCIES,
    CUSTOMER_COUNTRIES,
    FIRST_NOTES,
    FORMER_REP,
    LEAVING_DAYS_AGO,
    LOGIN_USERS,
    LOST_REASONS,
    MAIN_PIPELINE,
    MAIN_STAGES,
    OPPORTUNITY_COUNT,
    PRODUCTS,
    QUICK_PIPELINE,
    QUICK_PRODUCTS,
    QUICK_STAGES,
    RATES,
    SEED,
    SOURCES,
    STAGE_NOTES,
    TEAM_NAME,
    short_company,
    tiny_png,
)
from customers.models import Contact, Customer
from customers.services import contact_create, customer_create
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
from opportunities.services import (
    DistributionStrategy,
    opportunities_expire_overdue,
    opportunity_add_activity,
    opportunity_assign,
    opportunity_close,
    opportunity_create,
    opportunity_distribute,
    opportunity_move_stage,
    opportunity_push_close_date,
    opportunity_update,
)
from sources.models import LeadSource
from stages.models import Pipeline, Stage
from stages.services import pipeline_create
from teams.models import Team, User
from teams.services import user_deactivate


def ascii_slug(text: str) -> str:
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(ch for ch in plain.lower() if ch.isalnum())


@dataclasses.dataclass
class Plan:
    """One demo opportunity: its fixed choices and, once created, its id and current owner."""

    index: int
    pipeline: Pipeline
    source: LeadSource
    customer: Customer
    contact: Contact | None
    creator: User
    owner: User | None
    title: str
    amount: Decimal | None
    currency: str
    outcome: str  # open / won / lost / expired / overdue (an open deal past its date)
    dates: list[datetime.date]
    pk: int | None = None
    final_close_date: datetime.date | None = None


@dataclasses.dataclass(order=True)
class Event:
    at: datetime.datetime
    seq: int
    kind: str = dataclasses.field(compare=False)
    plan: Plan | None = dataclasses.field(compare=False, default=None)
    data: dict = dataclasses.field(compare=False, default_factory=dict)


class Command(BaseCommand):
    help = "Load the demo data (users, team, pipelines, sources, customers, ~300 opportunities with history)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--password",
            help="Password for every demo login. Without it a new one is generated, set and printed.",
        )

    def handle(self, *args, **options):
        password = options.get("password")
        if password is not None and not password.strip():
            raise CommandError("--password must not be empty.")
        password = password or secrets.token_urlsafe(9)
        started = self.started = time.monotonic()
        self.verbosity = options["verbosity"]
        self.rng = random.Random(SEED)  # noqa: S311 - reproducible demo data, not security
        with transaction.atomic():
            users = self._users(password)
            team = self._team(users)
            pipelines = self._pipelines()
            sources = self._sources()
            reasons = self._lost_reasons()
            self._rates()
            customers = self._customers(users)
            self._log("reference data and customers ready")
            if Opportunity.objects.filter(pipeline__in=pipelines).exists():
                created = None
            else:
                created = self._opportunities(users, team, pipelines, sources, reasons, customers)
        elapsed = time.monotonic() - started

        if created is None:
            self.stdout.write("Demo opportunities already exist; nothing new was created.")
        else:
            counts = {status: 0 for status in Opportunity.Status.values}
            for status in Opportunity.objects.filter(pk__in=created).values_list("status", flat=True):
                counts[status] += 1
            self.stdout.write(
                f"Demo data created in {elapsed:.1f} s: {len(created)} opportunities "
                f"(open {counts['open']}, won {counts['won']}, lost {counts['lost']}, expired {counts['expired']}), "
                f"{len(customers)} customers, {len(pipelines)} pipelines, {len(sources)} lead sources, "
                f"team {TEAM_NAME}."
            )
        self.stdout.write("Demo logins:")
        for username, _name, _superuser in LOGIN_USERS:
            self.stdout.write(f"  {username} / {password}")

    # --- reference data (get or create, matched by name) ---------------------------------------------------

    def _users(self, password: str) -> dict[str, User]:
        users = {}
        # One hash for all: hashing is deliberately slow (~0.5 s each) and the password is shared anyway.
        hashed = make_password(password)
        for username, name, superuser in [*LOGIN_USERS, (*FORMER_REP, False)]:
            user, created = User.objects.get_or_create(
                username=username,
                defaults={
                    "first_name": name,
                    "email": f"{username}@example.com",
                    "is_staff": superuser,
                    "is_superuser": superuser,
                    "language": "zh-hans",
                    "password": hashed,
                },
            )
            if not created and username != FORMER_REP[0]:
                # Reset on every run: the printed logins must work, also on a second run.
                user.password = hashed
                user.save(update_fields=["password"])
            users[username] = user
        return users

    def _team(self, users: dict[str, User]) -> Team:
        team, _created = Team.objects.get_or_create(name=TEAM_NAME)
        team.managers.add(users["manager"])
        team.members.add(users["rep1"], users["rep2"], users["rep3"])
        if users[FORMER_REP[0]].is_active:
            team.members.add(users[FORMER_REP[0]])
        return team

    def _pipelines(self) -> list[Pipeline]:
        pipelines = []
        pairs = [(MAIN_PIPELINE, MAIN_STAGES), (QUICK_PIPELINE, QUICK_STAGES)]
        for order, (name, stages) in enumerate(pairs, start=1):
            pipeline = Pipeline.objects.filter(name=name).first()
            if pipeline is None:
                pipeline = pipeline_create(name=name, stages=stages)
                Pipeline.objects.filter(pk=pipeline.pk).update(order=order)
            pipelines.append(pipeline)
        return pipelines

    def _sources(self) -> list[LeadSource]:
        sources = []
        for name, channel, start, end, money, days, rate, _share in SOURCES:
            source, _created = LeadSource.objects.get_or_create(
                name=name,
                defaults={
                    "channel": channel,
                    "start_date": start,
                    "end_date": end,
                    "cost_money": Decimal(money),
                    "manpower_days": Decimal(days),
                    "day_rate": Decimal(rate),
                },
            )
            sources.append(source)
        return sources

    def _lost_reasons(self) -> list[LostReason]:
        return [
            LostReason.objects.get_or_create(name=name, defaults={"order": (index + 1) * 10})[0]
            for index, name in enumerate(LOST_REASONS)
        ]

    def _rates(self) -> None:
        today = company_today()
        for currency, rate, valid_from in RATES:
            CurrencyRate.objects.get_or_create(
                currency=currency, valid_from=min(valid_from, today), defaults={"rate": Decimal(rate)}
            )

    def _customers(self, users: dict[str, User]) -> list[Customer]:
        """About 60 foreign companies with contacts. Each is recorded by the person who met it
        (customer_create), who can therefore see it when creating its opportunities."""
        rng = random.Random(SEED + 1)  # noqa: S311
        owners = ["rep1", "rep2", "rep3", "manager", FORMER_REP[0]]
        customers = []
        position = 0
        for country, prefix, industry, companies, people in CUSTOMER_COUNTRIES:
            for company_index, company in enumerate(companies):
                home = owners[position % len(owners)]
                position += 1
                existing = Customer.objects.filter(name=company).first()
                if existing is not None:
                    customers.append(existing)
                    continue
                slug = ascii_slug(company.split(" ")[0] + company.split(" ")[1] if " " in company else company)
                domain = f"{slug}.example"
                customer = customer_create(
                    by=users[home] if users[home].is_active else users["manager"],
                    name=company,
                    country=country,
                    website=f"https://www.{domain}",
                    industry=industry,
                    notes="",
                )
                first, last = people[company_index % len(people)]
                contacts = [(first, last, "Purchasing Manager")]
                if rng.random() < 0.5:
                    other_first, other_last = people[(company_index + 1) % len(people)]
                    contacts.append((other_first, other_last, "Owner"))
                for first_name, last_name, title in contacts:
                    number = f"{prefix} {rng.randint(100, 999)} {rng.randint(1000, 9999)} {rng.randint(100, 999)}"
                    contact_create(
                        by=customer.created_by,
                        customer=customer,
                        name=f"{first_name} {last_name}",
                        title=title,
                        phone=number,
                        email=f"{ascii_slug(first_name)}.{ascii_slug(last_name)}@{domain}",
                        whatsapp=number if rng.random() < 0.7 else "",
                    )
                customers.append(customer)
        return customers

    # --- opportunities -----------------------------------------------------------------------------------------

    def _opportunities(self, users, team, pipelines, sources, reasons, customers) -> list[int]:
        rng = self.rng
        now = timezone.now()
        today = company_today()
        zone = company_zone()
        leaving_day = today - datetime.timedelta(days=LEAVING_DAYS_AGO)
        leaving_at = datetime.datetime.combine(leaving_day, datetime.time(17, 30), zone)
        reps = [users["rep1"], users["rep2"], users["rep3"]]
        former = users[FORMER_REP[0]]
        manager = users["manager"]
        main, quick = pipelines
        stages = {pipeline.pk: list(pipeline.stages.order_by("order", "pk")) for pipeline in pipelines}
        contacts = {}
        for contact in Contact.objects.filter(customer__in=customers).order_by("pk"):
            contacts.setdefault(contact.customer_id, []).append(contact)
        by_creator: dict[int, list[Customer]] = {}
        for customer in customers:
            by_creator.setdefault(customer.created_by_id, []).append(customer)

        def moment(day: datetime.date, earliest: int = 9, latest: int = 18) -> datetime.datetime:
            at = datetime.datetime.combine(day, datetime.time(rng.randint(earliest, latest), rng.randint(0, 59)), zone)
            return min(at, now - datetime.timedelta(minutes=30))

        def between(start: datetime.datetime, end: datetime.datetime, count: int) -> list[datetime.datetime]:
            """``count`` sorted moments in (start, end), in office hours where the span allows."""
            span = max((end - start).total_seconds(), 60.0)
            moments = []
            for _i in range(count):
                at = start + datetime.timedelta(seconds=rng.uniform(0.05, 0.98) * span)
                office = datetime.datetime.combine(
                    timezone.localdate(at, zone), datetime.time(rng.randint(9, 18), rng.randint(0, 59)), zone
                )
                moments.append(office if start < office < end else at)
            return sorted(moments)

        events: list[Event] = []
        seq = iter(range(10**9))

        def add(at, kind, plan=None, data=None):
            events.append(Event(at=at, seq=next(seq), kind=kind, plan=plan, data=data or {}))

        plans: list[Plan] = []
        pool_batches: dict[datetime.date, list[Plan]] = {}
        source_weights = [share for *_rest, share in SOURCES]
        for index in range(OPPORTUNITY_COUNT):
            pipeline = quick if rng.random() < 0.25 else main
            source = rng.choices(sources, weights=source_weights)[0]
            window_start = max(source.start_date or datetime.date(2026, 1, 5), today - datetime.timedelta(days=320))
            window_start = min(window_start + datetime.timedelta(days=1), today - datetime.timedelta(days=1))
            created_day = window_start + datetime.timedelta(days=rng.randint(0, (today - window_start).days - 1))
            created_at = moment(created_day)
            age = (today - created_day).days

            mode = rng.choices(["self", "manager", "pool"], weights=[0.55, 0.15, 0.30])[0]
            candidates = reps + ([former] if created_day < leaving_day else [])
            rep = rng.choices(candidates, weights=[1.4, 1.0, 0.9, 0.8][: len(candidates)])[0]
            if mode == "self":
                pool = by_creator.get(rep.pk) or by_creator[manager.pk]
                creator, owner = (rep, rep) if pool is not by_creator[manager.pk] else (manager, rep)
            else:
                pool, creator, owner = by_creator[manager.pk], manager, (rep if mode == "manager" else None)
            customer = rng.choice(pool)
            contact = rng.choice(contacts[customer.pk]) if contacts.get(customer.pk) and rng.random() < 0.85 else None

            if age < 25:
                outcome = rng.choices(["open", "lost"], weights=[0.9, 0.1])[0]
            else:
                outcome = rng.choices(["open", "won", "lost", "expired"], weights=[0.40, 0.26, 0.20, 0.14])[0]
            if outcome == "open" and rng.random() < 0.14:
                outcome = "overdue"

            # Distribution: pool deals are handed out in a weekly batch (the Monday after).
            distributed_at = None
            if owner is None:
                monday = created_day + datetime.timedelta(days=7 - created_day.weekday())
                distributed_at = datetime.datetime.combine(monday, datetime.time(10, 0), zone)
                if distributed_at >= now - datetime.timedelta(hours=1) or rng.random() < 0.08:
                    distributed_at = None  # stays in the pool for now
                    outcome = outcome if outcome in ("open", "overdue", "expired") else "open"

            product, unit = rng.choice(QUICK_PRODUCTS if pipeline == quick else PRODUCTS)
            quantity = rng.choice([200, 500, 1000, 2000, 3000, 5000, 10000])
            currency = rng.choices([code for code, _w in CURRENCIES], weights=[w for _c, w in CURRENCIES])[0]
            scale = 1 if pipeline == main else 0.1
            amount = None
            if rng.random() < 0.82:
                amount = Decimal(int(rng.uniform(8000, 180000) * scale / 10) * 10)
                if currency == "CNY":
                    amount *= 7
            # Close dates: a chain of promises, each later than the one before (pushes).
            final = today + datetime.timedelta(
                days=rng.randint(0, 7) if rng.random() < 0.2 else rng.randint(8, 120 if pipeline == main else 40)
            )
            dates = [final]
            for _push in range(rng.choices([0, 1, 2, 3], weights=[0.6, 0.25, 0.1, 0.05])[0]):
                earlier = dates[0] - datetime.timedelta(days=rng.randint(5, 25))
                if earlier < today:
                    break
                dates.insert(0, earlier)

            plan = Plan(
                index=index,
                pipeline=pipeline,
                source=source,
                customer=customer,
                contact=contact,
                creator=creator,
                owner=owner,
                title=f"{product} {quantity} {unit} – {short_company(customer.name)}",
                amount=amount,
                currency=currency,
                outcome=outcome,
                dates=dates,
            )
            plans.append(plan)
            add(created_at, "create", plan)
            start = created_at
            if owner is None:
                if distributed_at is None:
                    continue  # waits in the pool: nothing else has happened to it
                pool_batches.setdefault(distributed_at.date(), []).append(plan)
                start = distributed_at + datetime.timedelta(minutes=5)

            # The life of the deal, from the start to its end (a close, an expiry, or today).
            path = stages[pipeline.pk]
            open_stages = [stage for stage in path if stage.kind == Stage.Kind.OPEN]
            if outcome == "won":
                # Not every deal goes through every step: visits and audits are often skipped.
                optional = {"客户考察": 0.5, "客户验厂": 0.6}
                steps = [stage for stage in open_stages if rng.random() < optional.get(stage.name, 1.0)]
                last = len(steps) - 1
            else:
                reach = min(len(open_stages) - 1, int(rng.triangular(0, len(open_stages), min(age / 40, 4))))
                steps = open_stages[: reach + 1]
                last = reach
            cycle = datetime.timedelta(days=rng.randint(12, 110 if pipeline == main else 35))
            end = min(start + cycle, now - datetime.timedelta(hours=2))
            if outcome == "expired":
                expiry_day = min((start + cycle).date(), today - datetime.timedelta(days=2))
                expiry_day = max(expiry_day, start.date() + datetime.timedelta(days=1))
                plan.final_close_date = expiry_day - datetime.timedelta(days=1)
                end = datetime.datetime.combine(expiry_day - datetime.timedelta(days=1), datetime.time(18, 0), zone)
            if end <= start:
                end = start + datetime.timedelta(hours=3)

            actions: list[tuple[str, dict]] = []
            for position, stage in enumerate(steps):
                if position > 0:
                    actions.append(("move", {"stage": stage}))
                notes = STAGE_NOTES.get(stage.name, [("note", "跟进中。")])
                if position == 0:
                    notes = FIRST_NOTES[plan.source.channel]
                # Where the lead came from is always noted; later stages get a note about every other time.
                for _n in range(1 if position == 0 else rng.choice([0, 1])):
                    kind, text = rng.choice(notes)
                    actions.append(("activity", {"kind": kind, "body": text}))
                leaving = position < last or outcome == "won"
                if stage.requires_attachment or stage.requires_tracking_number:
                    if leaving or rng.random() < 0.5:
                        actions.append(("sample", {}))
                if (
                    "amount" in (stage.required_fields or [])
                    and plan.amount is None
                    and (leaving or rng.random() < 0.5)
                ):
                    actions.append(("amount", {}))
                if rng.random() < 0.12 and plan.owner is not None and mode != "pool":
                    actions.append(("reassign", {"to": rng.choice(reps)}))
            if rng.random() < 0.3:
                actions.insert(rng.randint(1, max(1, len(actions))), ("review", {}))
            # Pushes at random points of the life, in the order of their dates.
            spots = sorted(rng.randint(1, max(1, len(actions))) for _date in dates[1:])
            for offset, (spot, date) in enumerate(zip(spots, dates[1:], strict=True)):
                actions.insert(spot + offset, ("push", {"date": date}))
            if outcome == "won":
                actions.append(("won", {"via_stage": rng.random() < 0.5}))
            elif outcome == "lost":
                actions.append(("lost", {"reason": rng.choice(reasons), "via_stage": rng.random() < 0.4}))
            elif outcome == "expired":
                actions.append(("expire", {}))

            for (kind, data), at in zip(actions, between(start, end, len(actions)), strict=True):
                if kind == "expire":
                    at = datetime.datetime.combine(
                        plan.final_close_date + datetime.timedelta(days=1), datetime.time(1, 30), zone
                    )
                add(at, kind, plan, data)

        for day, batch in sorted(pool_batches.items()):
            add(datetime.datetime.combine(day, datetime.time(10, 0), zone), "distribute", None, {"plans": batch})
        add(leaving_at, "leave", None)

        self._run(sorted(events), users=users, team=team, manager=manager, former=former, reps=reps)
        return [plan.pk for plan in plans]

    def _run(self, events: list[Event], *, users, team, manager, former, reps) -> None:
        """Call the services in timeline order, noting when (really) each event started."""
        markers: list[datetime.datetime] = []
        planned: list[datetime.datetime] = []
        rng = random.Random(SEED + 2)  # noqa: S311
        strategies = [DistributionStrategy.ROUND_ROBIN, DistributionStrategy.LEAST_LOADED]
        plans: dict[int, Plan] = {}
        closing = {
            pipeline.pk: {Stage.Kind.WON: pipeline.won_stage(), Stage.Kind.LOST: pipeline.lost_stage()}
            for pipeline in {event.plan.pipeline for event in events if event.plan is not None}
        }
        for event in events:
            plan = event.plan
            if plan is not None and event.kind != "create" and plan.pk is None:
                continue
            markers.append(timezone.now())
            planned.append(event.at)
            actor = (plan.owner or manager) if plan is not None else manager
            if event.kind == "create":
                opportunity = opportunity_create(
                    by=plan.creator,
                    title=plan.title,
                    customer=plan.customer,
                    contact=plan.contact,
                    pipeline=plan.pipeline,
                    source=plan.source,
                    team=team,
                    owner=plan.owner,
                    amount=plan.amount,
                    currency=plan.currency,
                    expected_close_date=plan.dates[0],
                    assignment_reason="展会名片录入" if plan.source.channel == LeadSource.Channel.TRADE_SHOW else "",
                )
                plan.pk = opportunity.pk
                plans[plan.pk] = plan
            elif event.kind == "distribute":
                batch = [item for item in event.data["plans"] if item.pk is not None]
                opportunity_distribute(
                    opportunity_ids=[item.pk for item in batch],
                    team=team,
                    strategy=strategies[len(markers) % 2],
                    by=manager,
                    reason="每周分配展会线索",
                )
                owners = dict(Opportunity.objects.filter(pk__in=[item.pk for item in batch]).values_list("pk", "owner"))
                people = {user.pk: user for user in users.values()}
                for item in batch:
                    item.owner = people.get(owners[item.pk])
            elif event.kind == "leave":
                user_deactivate(user=former, by=manager, successor=reps[2], reason="离职交接")
                for item in plans.values():
                    if item.owner == former:
                        item.owner = reps[2]
            elif event.kind == "activity":
                opportunity_add_activity(
                    opportunity=Opportunity(pk=plan.pk),
                    by=actor,
                    kind=event.data["kind"],
                    body=event.data["body"].format(
                        product=plan.title.split(" – ")[0], contact=plan.contact.name if plan.contact else "客户"
                    ),
                )
            elif event.kind == "sample":
                carrier, pattern = rng.choice(CARRIERS)
                color = (rng.randint(40, 200), rng.randint(40, 200), rng.randint(40, 200))
                photo = SimpleUploadedFile(f"sample-{plan.index + 1}.png", tiny_png(color), content_type="image/png")
                opportunity_add_activity(
                    opportunity=Opportunity(pk=plan.pk),
                    by=actor,
                    kind=Activity.Kind.SAMPLE,
                    body="样品已寄出，附样品照片。",
                    carrier=carrier,
                    tracking_number=pattern.format(rng.randint(0, 10**8 - 1)),
                    files=[photo],
                )
            elif event.kind == "amount":
                plan.amount = Decimal(rng.randint(800, 15000) * 10)
                opportunity_update(opportunity=Opportunity(pk=plan.pk), by=actor, version=None, amount=plan.amount)
            elif event.kind == "review":
                opportunity_update(
                    opportunity=Opportunity(pk=plan.pk),
                    by=manager,
                    version=None,
                    difficulty=rng.choice(["0.80", "1.20", "1.50", "2.00", "2.50", "3.00"]),
                    is_new_customer=rng.random() < 0.4,
                    is_new_product=rng.random() < 0.2,
                    reason="经理评估难度系数",
                )
            elif event.kind == "reassign":
                target = event.data["to"]
                if plan.owner is not None and target != plan.owner and plan.owner.is_active:
                    opportunity_assign(
                        opportunity_ids=[plan.pk], owner=target, by=manager, reason="按客户语言调整负责人"
                    )
                    plan.owner = target
            elif event.kind == "move":
                opportunity_move_stage(opportunity=Opportunity(pk=plan.pk), stage=event.data["stage"], by=actor)
            elif event.kind == "push":
                opportunity_push_close_date(
                    opportunity=Opportunity(pk=plan.pk),
                    by=actor,
                    new_date=event.data["date"],
                    reason=rng.choice(["客户预算审批延迟", "等待验厂排期", "客户假期", "样品测试未完成"]),
                )
            elif event.kind == "won":
                deal = Opportunity(pk=plan.pk)
                if event.data["via_stage"]:
                    opportunity_move_stage(opportunity=deal, stage=closing[plan.pipeline.pk][Stage.Kind.WON], by=actor)
                else:
                    opportunity_close(opportunity=deal, outcome=Opportunity.Status.WON, by=actor, reason="收到定金")
            elif event.kind == "lost":
                deal = Opportunity(pk=plan.pk)
                if event.data["via_stage"]:
                    opportunity_move_stage(
                        opportunity=deal,
                        stage=closing[plan.pipeline.pk][Stage.Kind.LOST],
                        by=actor,
                        lost_reason=event.data["reason"],
                    )
                else:
                    opportunity_close(
                        opportunity=deal, outcome=Opportunity.Status.LOST, by=actor, lost_reason=event.data["reason"]
                    )
            elif event.kind == "expire":
                # The deal's promise lies in the past in the demo: move its close dates back (the
                # whole chain, so the pushes keep their spacing), then let the nightly job expire it.
                self._shift_close_dates({plan.pk: plan.final_close_date})
                opportunities_expire_overdue()
        self._log(f"{len(markers)} service calls done")
        self._backdate(markers, planned, plans)
        self._log("history back-dated")

    def _log(self, what: str) -> None:
        if self.verbosity >= 2:
            self.stdout.write(f"  {time.monotonic() - self.started:6.1f} s  {what}")

    def _shift_close_dates(self, finals: dict[int, datetime.date]) -> None:
        """Move each deal's promised date to ``finals[pk]``, and its close-date history by as
        many days, so the pushes keep their spacing (services only accept future dates)."""
        current = dict(Opportunity.objects.filter(pk__in=list(finals)).values_list("pk", "expected_close_date"))
        deltas = {pk: finals[pk] - current[pk] for pk in finals}
        Opportunity.objects.bulk_update(
            [Opportunity(pk=pk, expected_close_date=date) for pk, date in finals.items()], ["expected_close_date"]
        )
        changes = list(CloseDateChange.objects.filter(opportunity_id__in=list(finals)))
        for change in changes:
            delta = deltas[change.opportunity_id]
            change.old_date = change.old_date + delta if change.old_date else None
            change.new_date = change.new_date + delta
        CloseDateChange.objects.bulk_update(changes, ["old_date", "new_date"], batch_size=500)

    def _backdate(self, markers, planned, plans: dict[int, Plan]) -> None:
        """Give the demo its past: every timestamp the services wrote during event k (really, a few
        milliseconds ago) is moved to event k's planned moment, keeping the order within the event."""

        def demo(moment):
            if moment is None:
                return None
            index = bisect.bisect_right(markers, moment) - 1
            return moment if index < 0 else planned[index] + (moment - markers[index])

        ids = list(plans)
        tables = [
            (Opportunity, "pk__in", ["created_at", "updated_at", "stage_entered_at", "last_activity_at", "closed_at"]),
            (StageChange, "opportunity_id__in", ["at"]),
            (Assignment, "opportunity_id__in", ["at"]),
            (CloseDateChange, "opportunity_id__in", ["at"]),
            (StatusChange, "opportunity_id__in", ["at"]),
            (FieldChange, "opportunity_id__in", ["at"]),
            (Activity, "opportunity_id__in", ["occurred_at", "created_at"]),
            (Attachment, "opportunity_id__in", ["created_at"]),
        ]
        quote = connection.ops.quote_name
        with connection.cursor() as cursor:
            for model, lookup, fields in tables:
                meta = model._meta
                table, pk = quote(meta.db_table), quote(meta.pk.column)
                columns = [quote(meta.get_field(field).column) for field in fields]
                rows = [
                    [values[0], *(connection.ops.adapt_datetimefield_value(demo(value)) for value in values[1:])]
                    for values in model.objects.filter(**{lookup: ids}).values_list("pk", *fields)
                ]
                if connection.vendor == "postgresql":
                    # One statement per 500 rows: a round trip per row costs seconds on a busy server.
                    targets = ", ".join(f"{column} = v.{column}" for column in columns)
                    row_sql = "(%s" + ", %s::timestamptz" * len(columns) + ")"
                    for first in range(0, len(rows), 500):
                        chunk = rows[first : first + 500]
                        sql = (
                            f"UPDATE {table} AS t SET {targets} FROM (VALUES {', '.join([row_sql] * len(chunk))}) "  # noqa: S608
                            f"AS v(id, {', '.join(columns)}) WHERE t.{pk} = v.id"
                        )
                        cursor.execute(sql, [value for row in chunk for value in row])
                else:
                    assignments = ", ".join(f"{column} = %s" for column in columns)
                    sql = f"UPDATE {table} SET {assignments} WHERE {pk} = %s"  # noqa: S608
                    cursor.executemany(sql, [[*row[1:], row[0]] for row in rows])

        # Closed deals had promised a date near their close; overdue open deals one in the past.
        rng = random.Random(SEED + 3)  # noqa: S311
        today = company_today()
        closed = Opportunity.objects.filter(pk__in=ids, status__in=[Opportunity.Status.WON, Opportunity.Status.LOST])
        promises = {
            pk: timezone.localdate(closed_at, company_zone()) + datetime.timedelta(days=rng.randint(-5, 20))
            for pk, closed_at in closed.order_by("pk").values_list("pk", "closed_at")
        }
        overdue = [plan.pk for plan in plans.values() if plan.outcome == "overdue"]
        for pk in (
            Opportunity.objects.filter(pk__in=overdue, status=Opportunity.Status.OPEN)
            .order_by("pk")
            .values_list("pk", flat=True)
        ):
            promises[pk] = today - datetime.timedelta(days=rng.randint(1, 20))
        self._shift_close_dates(promises)

        # Customers were met before their first deal.
        first_deal = dict(
            Opportunity.objects.filter(pk__in=ids)
            .values("customer")
            .annotate(first=Min("created_at"))
            .values_list("customer", "first")
        )
        customers = []
        for customer in Customer.objects.filter(pk__in=list(first_deal)):
            customer.created_at = first_deal[customer.pk] - datetime.timedelta(hours=rng.randint(1, 48))
            customers.append(customer)
        Customer.objects.bulk_update(customers, ["created_at"], batch_size=500)
        contacts = []
        for contact in Contact.objects.filter(customer__in=customers):
            contact.created_at = first_deal[contact.customer_id] - datetime.timedelta(hours=1)
            contacts.append(contact)
        Contact.objects.bulk_update(contacts, ["created_at"], batch_size=500)
