"""Every change to an opportunity, one transaction each.

Each service takes the acting user (``by``), checks what they may do, changes the row and
writes its history row in the same transaction. Pages, API, admin, tasks and commands all
call these; none of them re-implements a rule. Errors: ``ValidationError`` (bad input,
nothing changed), ``PermissionDenied`` (not allowed), ``ConflictError`` (stale version).
"""

import datetime
import heapq
from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count, F
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from crm.dates import company_today
from crm.exceptions import ConflictError
from customers.models import Contact, Customer
from opportunities.attachments import upload_check
from opportunities.models import (
    DIFFICULTY_MAX,
    DIFFICULTY_MIN,
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
from opportunities.selectors import opportunity_unmet_exit_criteria
from sources.models import LeadSource
from stages.models import Pipeline, Stage
from teams.models import Team, User
from teams.visibility import (
    can_edit_opportunity,
    can_manage_opportunity,
    customer_visibility_q,
    user_is_admin,
    user_manages_team,
)

OPEN = Opportunity.Status.OPEN
EARLIEST_ACTIVITY = datetime.datetime(2000, 1, 1, tzinfo=datetime.UTC)
BASE_CURRENCY = "CNY"
CENT = Decimal("0.01")

# Fields that decide a rep's pay or override the process: managers and admins only.
MANAGER_FIELDS = frozenset({"difficulty", "is_new_customer", "is_new_product", "probability", "probability_is_manual"})
UPDATABLE_FIELDS = (
    frozenset({"title", "description", "customer", "contact", "source", "amount", "currency", "expected_close_date"})
    | MANAGER_FIELDS
)

# What opportunity_update compares and records (FieldChange rows), by attribute name.
TRACKED_FIELDS = (
    "title",
    "description",
    "customer_id",
    "contact_id",
    "source_id",
    "amount",
    "currency",
    "exchange_rate",
    "amount_base",
    "difficulty",
    "is_new_customer",
    "is_new_product",
    "probability",
    "probability_is_manual",
)


class DistributionStrategy:
    ROUND_ROBIN = "round_robin"
    LEAST_LOADED = "least_loaded"
    ALL = (ROUND_ROBIN, LEAST_LOADED)


# --- helpers ---------------------------------------------------------------------------


def _require_active(by: User) -> None:
    if by is None or not by.is_authenticated or not by.is_active:
        raise PermissionDenied(_("Your account is not active."))


def _lock(opportunity: Opportunity) -> Opportunity:
    """Re-read the row under a lock, so two services never interleave on one deal."""
    return Opportunity.objects.select_for_update().get(pk=opportunity.pk)


def _check_version(opportunity: Opportunity, version: int | None) -> None:
    if version is not None and int(version) != opportunity.version:
        raise ConflictError(current_version=opportunity.version)


def _save(opportunity: Opportunity, fields: Iterable[str]) -> None:
    opportunity.version += 1
    opportunity.save(update_fields=[*set(fields), "version", "updated_at"])


def _require_edit(by: User, opportunity: Opportunity) -> None:
    if not can_edit_opportunity(by, opportunity):
        raise PermissionDenied(_("You may not change this opportunity."))


def _require_manage(by: User, opportunity: Opportunity) -> None:
    if not can_manage_opportunity(by, opportunity):
        raise PermissionDenied(_("Only a manager of this team can do that."))


def _require_open(opportunity: Opportunity) -> None:
    if opportunity.status != OPEN:
        raise ValidationError(
            _("This opportunity is %(status)s; reopen it first.") % {"status": opportunity.get_status_display()},
            code="closed",
        )


def _validate_close_date(value: datetime.date | None) -> datetime.date:
    if value is None:
        raise ValidationError({"expected_close_date": _("An open opportunity needs an expected close date.")})
    if value < company_today():
        raise ValidationError({"expected_close_date": _("The expected close date cannot be in the past.")})
    return value


def _validate_difficulty(value) -> Decimal:
    try:
        difficulty = Decimal(str(value))
        if not difficulty.is_finite():  # NaN would slip through quantize and crash the range check
            raise ArithmeticError(value)
        difficulty = difficulty.quantize(CENT)
    except ArithmeticError as exc:
        raise ValidationError({"difficulty": _("Enter a number.")}) from exc
    if not DIFFICULTY_MIN <= difficulty <= DIFFICULTY_MAX:
        raise ValidationError(
            {
                "difficulty": _("The difficulty coefficient must be between %(min)s and %(max)s.")
                % {"min": DIFFICULTY_MIN, "max": DIFFICULTY_MAX}
            }
        )
    return difficulty


def _validate_probability(value) -> int:
    try:
        probability = int(value)
    except (TypeError, ValueError) as exc:
        raise ValidationError({"probability": _("Enter a whole number from 0 to 100.")}) from exc
    if not 0 <= probability <= 100:
        raise ValidationError({"probability": _("Enter a whole number from 0 to 100.")})
    return probability


def _validate_amount(value) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        amount = Decimal(str(value))
        if not amount.is_finite():
            raise ArithmeticError(value)
        amount = amount.quantize(CENT)
    except ArithmeticError as exc:
        raise ValidationError({"amount": _("Enter a number.")}) from exc
    if amount < 0:
        raise ValidationError({"amount": _("The amount cannot be negative.")})
    if amount >= Decimal("1e12"):
        raise ValidationError({"amount": _("The amount is too large.")})
    return amount


def currency_rate_for(*, currency: str, on: datetime.date) -> Decimal:
    """The admin-kept rate of ``currency`` to CNY in force on ``on``."""
    currency = (currency or "").upper()
    if currency == BASE_CURRENCY:
        return Decimal("1")
    rate = (
        CurrencyRate.objects.filter(currency=currency, valid_from__lte=on)
        .order_by("-valid_from")
        .values_list("rate", flat=True)
        .first()
    )
    if rate is None:
        raise ValidationError(
            {
                "currency": _("There is no exchange rate for %(currency)s; an administrator must add one.")
                % {"currency": currency or "—"}
            }
        )
    return rate


def _apply_amount(opportunity: Opportunity, amount: Decimal | None, currency: str) -> None:
    rate = currency_rate_for(currency=currency, on=company_today())
    opportunity.amount = amount
    opportunity.currency = currency.upper()
    opportunity.exchange_rate = rate
    opportunity.amount_base = None if amount is None else (amount * rate).quantize(CENT, rounding=ROUND_HALF_UP)


def _check_owner_in_team(owner: User | None, team: Team, *, field: str = "owner") -> None:
    if owner is None:
        return
    if not owner.is_active:
        raise ValidationError({field: _("%(user)s is deactivated.") % {"user": owner}})
    if not team.members.filter(pk=owner.pk).exists():
        raise ValidationError(
            {field: _("%(user)s is not a member of the team %(team)s.") % {"user": owner, "team": team}}
        )


# --- create and update -------------------------------------------------------------


@transaction.atomic
def opportunity_create(
    *,
    by: User,
    title: str,
    customer: Customer,
    pipeline: Pipeline,
    source: LeadSource,
    expected_close_date: datetime.date | None,
    team: Team | None = None,
    owner: User | None = None,
    stage: Stage | None = None,
    contact: Contact | None = None,
    amount=None,
    currency: str = BASE_CURRENCY,
    description: str = "",
    probability: int | None = None,
    difficulty=None,
    is_new_customer: bool = False,
    is_new_product: bool = False,
    assignment_reason: str = "",
) -> Opportunity:
    """Create an open opportunity.

    A rep creates deals for themself in one of their teams; a manager may create for any
    active member of a team they manage, or into its pool. Only managers set difficulty,
    incentive flags or a probability override. The first stage change and assignment are
    recorded, so history starts at creation.
    """
    _require_active(by)
    errors: dict[str, str] = {}
    title = (title or "").strip()
    if not title:
        errors["title"] = _("Give the opportunity a title.")
    if team is None:
        candidate_teams = list(owner.teams.all()[:2]) if owner is not None else list(by.teams.all()[:2])
        if len(candidate_teams) == 1:
            team = candidate_teams[0]
        else:
            errors["team"] = _("Choose a team.")
    if errors:
        raise ValidationError(errors)

    manages = user_manages_team(by, team.pk)
    if not manages:
        if not team.members.filter(pk=by.pk).exists():
            raise PermissionDenied(_("You are not a member of the team %(team)s.") % {"team": team})
        if owner is not None and owner.pk != by.pk:
            raise PermissionDenied(_("Only a manager can choose the owner."))
        if difficulty is not None or is_new_customer or is_new_product or probability is not None:
            raise PermissionDenied(_("Only a manager can set the difficulty, incentive flags or probability."))
        owner = by
    _check_owner_in_team(owner, team)

    if not pipeline.is_active:
        raise ValidationError({"pipeline": _("The pipeline %(pipeline)s is not active.") % {"pipeline": pipeline}})
    if stage is None:
        stage = pipeline.first_open_stage()
        if stage is None:
            raise ValidationError(
                {"pipeline": _("The pipeline %(pipeline)s has no open stage.") % {"pipeline": pipeline}}
            )
    if stage.pipeline_id != pipeline.pk:
        raise ValidationError({"stage": _("That stage belongs to another pipeline.")})
    if stage.kind != Stage.Kind.OPEN:
        raise ValidationError({"stage": _("A new opportunity starts in an open stage.")})
    if not source.is_active:
        raise ValidationError({"source": _("The lead source %(source)s is not active.") % {"source": source}})
    if not Customer.objects.filter(customer_visibility_q(by), pk=customer.pk).exists():
        raise ValidationError({"customer": _("Unknown customer.")})
    if contact is not None and contact.customer_id != customer.pk:
        raise ValidationError({"contact": _("That contact works for another customer.")})
    expected_close_date = _validate_close_date(expected_close_date)

    now = timezone.now()
    opportunity = Opportunity(
        title=title,
        description=description or "",
        customer=customer,
        contact=contact,
        pipeline=pipeline,
        stage=stage,
        status=OPEN,
        owner=owner,
        team=team,
        source=source,
        expected_close_date=expected_close_date,
        difficulty=_validate_difficulty(difficulty) if difficulty is not None else Decimal("1.00"),
        is_new_customer=bool(is_new_customer),
        is_new_product=bool(is_new_product),
        probability=_validate_probability(probability) if probability is not None else stage.probability,
        probability_is_manual=probability is not None,
        stage_entered_at=now,
        created_by=by,
    )
    _apply_amount(opportunity, _validate_amount(amount), currency)
    opportunity.save()
    StageChange.objects.create(
        opportunity=opportunity,
        by=by,
        at=now,
        from_stage=None,
        to_stage=stage,
        probability_before=None,
        probability_after=opportunity.probability,
    )
    if owner is not None:
        Assignment.objects.create(
            opportunity=opportunity,
            by=by,
            at=now,
            from_owner=None,
            to_owner=owner,
            from_team=None,
            to_team=team,
            reason=assignment_reason or _("Created"),
        )
    return opportunity


def _display(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


@transaction.atomic
def opportunity_update(
    *, opportunity: Opportunity, by: User, version: int | None, reason: str = "", **changes
) -> Opportunity:
    """Edit plain fields, refusing a stale ``version`` (nothing saved) with ConflictError.

    Owner and stage have their own services; a new expected close date goes through
    ``opportunity_push_close_date`` so it is counted. Difficulty, incentive flags and the
    probability override are for managers only; values posted back unchanged are no change.
    A new ``probability`` (or ``probability_is_manual=True``) pins it by hand;
    ``probability_is_manual=False`` hands the probability back to the stage.
    """
    _require_active(by)
    unknown = set(changes) - UPDATABLE_FIELDS
    if unknown:
        raise ValidationError(
            _("These fields cannot be changed here: %(fields)s.") % {"fields": ", ".join(sorted(unknown))}
        )
    opportunity = _lock(opportunity)
    _require_edit(by, opportunity)
    _check_version(opportunity, version)

    # Work out what the edit really changes first: an edit form posts every field, and values
    # sent back unchanged are no change (a rep's form must not trip the manager-only check, and
    # re-posting the stage's probability must not pin it as a manual override).
    difficulty = _validate_difficulty(changes["difficulty"]) if "difficulty" in changes else None
    wants_manual = changes.get("probability_is_manual")
    override: int | None = None  # the probability a manager pins by hand
    if wants_manual is not False:
        if changes.get("probability") is not None:
            value = _validate_probability(changes["probability"])
            if value != opportunity.probability or (wants_manual is True and not opportunity.probability_is_manual):
                override = value
        elif wants_manual is True and not opportunity.probability_is_manual:
            override = opportunity.probability
    release = wants_manual is False and opportunity.probability_is_manual
    manager_changes = {
        flag
        for flag in ("is_new_customer", "is_new_product")
        if flag in changes and bool(changes[flag]) != getattr(opportunity, flag)
    }
    if difficulty is not None and difficulty != opportunity.difficulty:
        manager_changes.add("difficulty")
    if override is not None or release:
        manager_changes.add("probability")
    if manager_changes and not can_manage_opportunity(by, opportunity):
        raise PermissionDenied(_("Only a manager can set the difficulty, incentive flags or probability."))

    before = {field: getattr(opportunity, field) for field in TRACKED_FIELDS}
    errors: dict[str, str] = {}
    if "title" in changes:
        opportunity.title = (changes["title"] or "").strip()
        if not opportunity.title:
            errors["title"] = _("Give the opportunity a title.")
    if "description" in changes:
        opportunity.description = changes["description"] or ""
    if "customer" in changes and changes["customer"].pk != opportunity.customer_id:
        if not Customer.objects.filter(customer_visibility_q(by), pk=changes["customer"].pk).exists():
            errors["customer"] = _("Unknown customer.")
        opportunity.customer = changes["customer"]
        if "contact" not in changes:
            opportunity.contact = None
    if "contact" in changes:
        opportunity.contact = changes["contact"]
    if opportunity.contact is not None and opportunity.contact.customer_id != opportunity.customer_id:
        errors["contact"] = _("That contact works for another customer.")
    if "source" in changes and changes["source"].pk != opportunity.source_id:
        if not changes["source"].is_active:
            errors["source"] = _("The lead source %(source)s is not active.") % {"source": changes["source"]}
        opportunity.source = changes["source"]
    if difficulty is not None:
        opportunity.difficulty = difficulty
    for flag in ("is_new_customer", "is_new_product"):
        if flag in changes:
            setattr(opportunity, flag, bool(changes[flag]))
    if override is not None:
        opportunity.probability = override
        opportunity.probability_is_manual = True
    if release:
        opportunity.probability_is_manual = False
        if opportunity.status == OPEN:
            opportunity.probability = opportunity.stage.probability
    if "amount" in changes or "currency" in changes:
        amount = _validate_amount(changes.get("amount", opportunity.amount))
        currency = (changes.get("currency") or opportunity.currency).upper()
        if amount != before["amount"] or currency != before["currency"]:
            _apply_amount(opportunity, amount, currency)
    if errors:
        raise ValidationError(errors)

    now = timezone.now()
    changed = [field for field in TRACKED_FIELDS if _display(getattr(opportunity, field)) != _display(before[field])]
    if changed:
        FieldChange.objects.bulk_create(
            FieldChange(
                opportunity=opportunity,
                by=by,
                at=now,
                field=field.removesuffix("_id"),
                old_value=_display(before[field]),
                new_value=_display(getattr(opportunity, field)),
            )
            for field in changed
        )
        _save(opportunity, [field.removesuffix("_id") for field in changed])

    new_date = changes.get("expected_close_date")
    if "expected_close_date" in changes and new_date != opportunity.expected_close_date:
        opportunity = opportunity_push_close_date(opportunity=opportunity, by=by, new_date=new_date, reason=reason)
    return opportunity


# --- assignment ------------------------------------------------------------------------


def _lock_many(opportunity_ids: Iterable[int]) -> list[Opportunity]:
    ids = sorted({int(pk) for pk in opportunity_ids})
    if not ids:
        raise ValidationError(_("Select at least one opportunity."))
    rows = list(Opportunity.objects.select_for_update().filter(pk__in=ids).order_by("pk"))
    if len(rows) != len(ids):
        raise ValidationError(_("Some of the selected opportunities do not exist."))
    return rows


def _require_manage_teams(by: User, team_ids: set[int]) -> None:
    if by.is_staff or by.is_superuser:
        return
    managed = set(Team.objects.filter(managers=by, pk__in=team_ids).values_list("pk", flat=True))
    if managed != team_ids:
        raise PermissionDenied(_("Only a manager of the team can assign its opportunities."))


def _require_open_rows(rows: list[Opportunity]) -> None:
    closed = [row for row in rows if row.status != OPEN]
    if closed:
        raise ValidationError(
            ngettext(
                "%(count)d of the selected opportunities is closed and keeps its owner: %(titles)s.",
                "%(count)d of the selected opportunities are closed and keep their owner: %(titles)s.",
                len(closed),
            )
            % {"count": len(closed), "titles": ", ".join(row.title for row in closed[:5])},
            code="closed",
        )


def _write_assignments(
    rows: list[Opportunity], plan: dict[int, User | None], *, team: Team | None, by: User, reason: str
) -> int:
    """Apply ``plan`` (opportunity id → new owner) with one UPDATE per owner and history rows."""
    now = timezone.now()
    history: list[Assignment] = []
    by_owner: dict[int | None, list[int]] = {}
    for row in rows:
        new_owner = plan[row.pk]
        new_owner_id = new_owner.pk if new_owner else None
        new_team_id = team.pk if team else row.team_id
        if row.owner_id == new_owner_id and row.team_id == new_team_id:
            continue
        by_owner.setdefault(new_owner_id, []).append(row.pk)
        history.append(
            Assignment(
                opportunity_id=row.pk,
                by=by,
                at=now,
                from_owner_id=row.owner_id,
                to_owner_id=new_owner_id,
                from_team_id=row.team_id,
                to_team_id=new_team_id,
                reason=reason,
            )
        )
    for owner_id, ids in by_owner.items():
        fields = {"owner_id": owner_id, "version": F("version") + 1, "updated_at": now}
        if team is not None:
            fields["team_id"] = team.pk
        Opportunity.objects.filter(pk__in=ids).update(**fields)
    Assignment.objects.bulk_create(history, batch_size=2000)
    return len(history)


@transaction.atomic
def opportunity_assign(
    *, opportunity_ids: Iterable[int], owner: User | None, by: User, reason: str = "", team: Team | None = None
) -> int:
    """Give one or many open opportunities to ``owner`` (None: back to the team's pool).

    The acting user must manage every deal's current team and the target team (``team``,
    default each deal's own). The owner must be an active member of the target team. Returns
    how many opportunities changed hands; each gets an Assignment row.
    """
    _require_active(by)
    rows = _lock_many(opportunity_ids)
    # Permission first: the "closed" message names deals, which an outsider must not learn.
    team_ids = {row.team_id for row in rows} | ({team.pk} if team else set())
    _require_manage_teams(by, team_ids)
    _require_open_rows(rows)
    targets = [team] if team else list(Team.objects.filter(pk__in={row.team_id for row in rows}))
    for target in targets:
        _check_owner_in_team(owner, target)
    return _write_assignments(rows, dict.fromkeys((row.pk for row in rows), owner), team=team, by=by, reason=reason)


@transaction.atomic
def opportunity_distribute(
    *,
    opportunity_ids: Iterable[int],
    team: Team,
    strategy: str,
    by: User,
    reason: str = "",
    reps: Iterable[User] | None = None,
) -> dict[int, int]:
    """Spread open opportunities over a team's active reps, fairly to within one.

    ``round_robin`` continues from the team's persistent pointer, so successive batches stay
    fair; ``least_loaded`` gives each deal to whoever has the fewest open deals at that
    moment. Deactivated members are skipped. ``reps`` narrows the pool to chosen members.
    Returns {user id: deals given}.
    """
    _require_active(by)
    _require_strategy(strategy)
    team = Team.objects.select_for_update().get(pk=team.pk)
    rows = _lock_many(opportunity_ids)
    _require_manage_teams(by, {row.team_id for row in rows} | {team.pk})
    _require_open_rows(rows)
    owners = _distribution_plan(
        team=team, strategy=strategy, reps=reps, count=len(rows), exclude_ids=[row.pk for row in rows]
    )
    plan = {row.pk: owner for row, owner in zip(rows, owners, strict=True)}
    _write_assignments(rows, plan, team=team, by=by, reason=reason)
    given: dict[int, int] = {}
    for rep in owners:
        given[rep.pk] = given.get(rep.pk, 0) + 1
    return given


@transaction.atomic
def opportunity_owners_for_new(
    *, team: Team, strategy: str, count: int, by: User, reps: Iterable[User] | None = None
) -> list[User]:
    """The owners of ``count`` deals about to be created in ``team``, chosen by the rules of
    ``opportunity_distribute`` (the round-robin pointer moves on and is saved; least-loaded
    counts the open deals of each rep now). For creating many deals with their owner already
    set — the import writes them so, with their Assignment rows, instead of a second pass over
    rows it has just inserted."""
    _require_active(by)
    _require_strategy(strategy)
    team = Team.objects.select_for_update().get(pk=team.pk)
    _require_manage_teams(by, {team.pk})
    return _distribution_plan(team=team, strategy=strategy, reps=reps, count=count, exclude_ids=[])


def opportunity_owner_require(*, owner: User, team: Team, by: User) -> None:
    """Raise unless ``by`` may give deals of ``team`` to ``owner``: the checks of
    ``opportunity_assign``, for deals about to be created with their owner set."""
    _require_active(by)
    _require_manage_teams(by, {team.pk})
    _check_owner_in_team(owner, team)


def _require_strategy(strategy: str) -> None:
    if strategy not in DistributionStrategy.ALL:
        raise ValidationError({"strategy": _("Choose round-robin or least-loaded.")})


def _distribution_plan(
    *, team: Team, strategy: str, reps: Iterable[User] | None, count: int, exclude_ids: list[int]
) -> list[User]:
    """``count`` owners in order, fair to within one over the team's active reps (or the chosen
    ones). ``team`` is locked by the caller; round-robin saves its pointer."""
    candidates = list(team.members.filter(is_active=True).order_by("pk"))
    if reps is not None:
        chosen = {rep.pk for rep in reps}
        outsiders = chosen - {rep.pk for rep in candidates}
        if outsiders:
            raise ValidationError(
                {"reps": _("Every chosen rep must be an active member of the team %(team)s.") % {"team": team}}
            )
        candidates = [rep for rep in candidates if rep.pk in chosen]
    if not candidates:
        raise ValidationError({"team": _("The team %(team)s has no active members to receive deals.") % {"team": team}})
    if count == 0:
        return []
    if strategy == DistributionStrategy.ROUND_ROBIN:
        last_id = team.round_robin_last_id or 0
        start = next((i for i, rep in enumerate(candidates) if rep.pk > last_id), 0)
        owners = [candidates[(start + offset) % len(candidates)] for offset in range(count)]
        team.round_robin_last = owners[-1]
        team.save(update_fields=["round_robin_last", "updated_at"])
        return owners
    loads = dict(
        Opportunity.objects.filter(status=OPEN, owner__in=candidates)
        .exclude(pk__in=exclude_ids)
        .values("owner")
        .annotate(n=Count("pk"))
        .values_list("owner", "n")
    )
    heap = [(loads.get(rep.pk, 0), rep.pk, rep) for rep in candidates]
    heapq.heapify(heap)
    owners = []
    for _row in range(count):
        load, pk, rep = heapq.heappop(heap)
        owners.append(rep)
        heapq.heappush(heap, (load + 1, pk, rep))
    return owners


@transaction.atomic
def opportunity_reassign_all(*, from_owner: User, to_owner: User | None, by: User, reason: str = "") -> int:
    """Hand every open opportunity of ``from_owner`` to ``to_owner`` (None: each team's pool).

    Stages, probabilities and history stay as they are; each deal gets one Assignment row,
    so the successor sees all earlier work. ``to_owner`` must be an active member of every
    team involved.
    """
    _require_active(by)
    if to_owner is not None and to_owner.pk == from_owner.pk:
        raise ValidationError({"to_owner": _("Choose a different person to take over.")})
    rows = list(Opportunity.objects.select_for_update().filter(owner=from_owner, status=OPEN).order_by("pk"))
    if not rows:
        # Nothing moves, but the answer still tells whether this person has open deals: only
        # someone who manages one of their teams (or an admin) may ask.
        if not user_is_admin(by) and not Team.objects.filter(members=from_owner, managers=by).exists():
            raise PermissionDenied(_("Only a manager of the team can assign its opportunities."))
        return 0
    team_ids = {row.team_id for row in rows}
    _require_manage_teams(by, team_ids)
    for team in Team.objects.filter(pk__in=team_ids):
        _check_owner_in_team(to_owner, team, field="to_owner")
    return _write_assignments(rows, dict.fromkeys((row.pk for row in rows), to_owner), team=None, by=by, reason=reason)


# --- stages and closing ---------------------------------------------------------------


def _enter_stage(opportunity: Opportunity, stage: Stage, *, by: User | None, now, note: str = "") -> StageChange:
    before = opportunity.probability
    from_stage = opportunity.stage
    opportunity.stage = stage
    opportunity.stage_entered_at = now
    if stage.kind != Stage.Kind.OPEN:
        opportunity.probability = stage.probability
        opportunity.probability_is_manual = False
    elif not opportunity.probability_is_manual:
        opportunity.probability = stage.probability
    return StageChange.objects.create(
        opportunity=opportunity,
        by=by,
        at=now,
        from_stage=from_stage,
        to_stage=stage,
        probability_before=before,
        probability_after=opportunity.probability,
        note=note,
    )


def _guard_exit(opportunity: Opportunity, target: Stage) -> None:
    """Exit criteria guard progress: a forward move or a win must meet the criteria of the stage
    being left and of every gated stage it jumps over. Moving back or losing is always allowed."""
    current = opportunity.stage
    forward = target.kind == Stage.Kind.WON or (
        target.kind == Stage.Kind.OPEN and (target.order, target.pk) > (current.order, current.pk)
    )
    if not forward:
        return
    missing = opportunity_unmet_exit_criteria(opportunity=opportunity, stage=current, target=target)
    if missing:
        raise ValidationError(missing, code="exit_criteria")


def _close(
    opportunity: Opportunity,
    *,
    outcome: str,
    by: User,
    lost_reason: LostReason | None,
    reason: str,
    won_amount,
    note: str = "",
    lost_stage: Stage | None = None,
) -> Opportunity:
    now = timezone.now()
    if outcome == Opportunity.Status.WON:
        stage = opportunity.pipeline.won_stage()
        if opportunity.owner_id is None:
            raise ValidationError({"owner": _("Assign the opportunity to a rep before marking it won.")})
        if won_amount is not None and won_amount != "":
            _apply_amount(opportunity, _validate_amount(won_amount), opportunity.currency)
    else:
        stage = lost_stage or opportunity.pipeline.lost_stage()
        if lost_reason is None:
            raise ValidationError({"lost_reason": _("Say why the deal was lost.")})
        if not lost_reason.is_active:
            raise ValidationError({"lost_reason": _("That lost reason is no longer in use.")})
    if stage is None:
        raise ValidationError(
            _("The pipeline %(pipeline)s has no “%(kind)s” stage.")
            % {"pipeline": opportunity.pipeline, "kind": Opportunity.Status(outcome).label}
        )
    if outcome == Opportunity.Status.WON:
        _guard_exit(opportunity, stage)

    previous_status = opportunity.status
    if opportunity.stage_id != stage.pk:
        _enter_stage(opportunity, stage, by=by, now=now, note=note)
    opportunity.status = outcome
    opportunity.closed_at = now
    opportunity.close_reason = reason or ""
    opportunity.lost_reason = lost_reason if outcome == Opportunity.Status.LOST else None
    StatusChange.objects.create(
        opportunity=opportunity,
        by=by,
        at=now,
        from_status=previous_status,
        to_status=outcome,
        reason=reason or "",
        lost_reason=opportunity.lost_reason,
        owner_id=opportunity.owner_id,
    )
    _save(
        opportunity,
        [
            "stage",
            "stage_entered_at",
            "probability",
            "probability_is_manual",
            "status",
            "closed_at",
            "close_reason",
            "lost_reason",
            "amount",
            "amount_base",
            "exchange_rate",
            "currency",
        ],
    )
    return opportunity


@transaction.atomic
def opportunity_move_stage(
    *,
    opportunity: Opportunity,
    stage: Stage,
    by: User,
    note: str = "",
    lost_reason: LostReason | None = None,
    won_amount=None,
    reason: str = "",
    version: int | None = None,
) -> Opportunity:
    """Move an open deal to another stage of its pipeline.

    Leaving a stage forward requires its exit criteria (evidence recorded in that stage).
    Probability follows the new stage unless a manager set it by hand. Entering the won or
    a lost stage closes the deal exactly as ``opportunity_close`` does.
    """
    _require_active(by)
    opportunity = _lock(opportunity)
    _require_edit(by, opportunity)
    _check_version(opportunity, version)
    _require_open(opportunity)
    if stage.pipeline_id != opportunity.pipeline_id:
        raise ValidationError({"stage": _("The stage %(stage)s belongs to another pipeline.") % {"stage": stage.name}})
    if stage.pk == opportunity.stage_id:
        return opportunity
    if stage.kind == Stage.Kind.WON:
        return _close(
            opportunity,
            outcome=Opportunity.Status.WON,
            by=by,
            lost_reason=None,
            reason=reason,
            won_amount=won_amount,
            note=note,
        )
    if stage.kind == Stage.Kind.LOST:
        return _close(
            opportunity,
            outcome=Opportunity.Status.LOST,
            by=by,
            lost_reason=lost_reason,
            reason=reason,
            won_amount=None,
            note=note,
            lost_stage=stage,
        )
    _guard_exit(opportunity, stage)
    _enter_stage(opportunity, stage, by=by, now=timezone.now(), note=note)
    _save(opportunity, ["stage", "stage_entered_at", "probability", "probability_is_manual"])
    return opportunity


@transaction.atomic
def opportunity_close(
    *,
    opportunity: Opportunity,
    outcome: str,
    by: User,
    lost_reason: LostReason | None = None,
    reason: str = "",
    won_amount=None,
    version: int | None = None,
) -> Opportunity:
    """Close an open deal as won (moving to the won stage, its exit criteria enforced) or
    lost (with a reason). The owner at this moment is recorded: incentives go to them."""
    _require_active(by)
    if outcome not in (Opportunity.Status.WON, Opportunity.Status.LOST):
        raise ValidationError({"outcome": _("Choose won or lost.")})
    opportunity = _lock(opportunity)
    _require_edit(by, opportunity)
    _check_version(opportunity, version)
    _require_open(opportunity)
    return _close(opportunity, outcome=outcome, by=by, lost_reason=lost_reason, reason=reason, won_amount=won_amount)


@transaction.atomic
def opportunity_reopen(
    *,
    opportunity: Opportunity,
    by: User,
    expected_close_date: datetime.date | None = None,
    reason: str = "",
    version: int | None = None,
) -> Opportunity:
    """Managers reopen a won, lost or expired deal. It returns to the open stage it was
    closed from, and needs an expected close date that is not in the past."""
    _require_active(by)
    opportunity = _lock(opportunity)
    _require_manage(by, opportunity)
    _check_version(opportunity, version)
    if opportunity.status == OPEN:
        raise ValidationError(_("This opportunity is already open."), code="open")
    now = timezone.now()
    new_date = expected_close_date or opportunity.expected_close_date
    if new_date is None or new_date < company_today():
        raise ValidationError(
            {"expected_close_date": _("Give a new expected close date (today or later) to reopen it.")}
        )

    if opportunity.stage.kind != Stage.Kind.OPEN:
        previous = (
            StageChange.objects.filter(
                opportunity=opportunity, to_stage=opportunity.stage, from_stage__kind=Stage.Kind.OPEN
            )
            .select_related("from_stage")
            .order_by("-at", "-pk")
            .first()
        )
        target = previous.from_stage if previous else opportunity.pipeline.first_open_stage()
        _enter_stage(opportunity, target, by=by, now=now, note=reason)
    elif not opportunity.probability_is_manual:
        opportunity.probability = opportunity.stage.probability
    if new_date != opportunity.expected_close_date:
        CloseDateChange.objects.create(
            opportunity=opportunity,
            by=by,
            at=now,
            old_date=opportunity.expected_close_date,
            new_date=new_date,
            reason=reason or _("Reopened"),
        )
        opportunity.expected_close_date = new_date
    StatusChange.objects.create(
        opportunity=opportunity,
        by=by,
        at=now,
        from_status=opportunity.status,
        to_status=OPEN,
        reason=reason or "",
        owner_id=opportunity.owner_id,
    )
    opportunity.status = OPEN
    opportunity.closed_at = None
    opportunity.close_reason = ""
    opportunity.lost_reason = None
    _save(
        opportunity,
        [
            "stage",
            "stage_entered_at",
            "probability",
            "probability_is_manual",
            "status",
            "closed_at",
            "close_reason",
            "lost_reason",
            "expected_close_date",
        ],
    )
    return opportunity


# --- close dates and expiry --------------------------------------------------------------


@transaction.atomic
def opportunity_push_close_date(
    *, opportunity: Opportunity, by: User, new_date: datetime.date | None, reason: str = "", version: int | None = None
) -> Opportunity:
    """Move the expected close date of an open deal. Every change is recorded; a later date
    counts as a push (how often a deal was pushed is part of the rep's record)."""
    _require_active(by)
    opportunity = _lock(opportunity)
    _require_edit(by, opportunity)
    _check_version(opportunity, version)
    _require_open(opportunity)
    new_date = _validate_close_date(new_date)
    old_date = opportunity.expected_close_date
    if new_date == old_date:
        return opportunity
    CloseDateChange.objects.create(
        opportunity=opportunity, by=by, at=timezone.now(), old_date=old_date, new_date=new_date, reason=reason or ""
    )
    opportunity.expected_close_date = new_date
    fields = ["expected_close_date"]
    if old_date is not None and new_date > old_date:
        opportunity.close_date_pushes += 1
        fields.append("close_date_pushes")
    _save(opportunity, fields)
    return opportunity


def opportunities_expire_overdue(
    *,
    today: datetime.date | None = None,
    batch_size: int = 2000,
    reason: str | None = None,
    on_batch=None,
) -> int:
    """Close as *expired* every open deal whose expected close date, plus its pipeline's
    grace days, is before ``today`` (company time zone). Set-based, in batches that are each
    their own transaction; rows another transaction holds (a deal being won right now) are
    skipped, not waited on, so two runs at once never expire a deal twice. ``on_batch``, if
    given, is called inside each batch's transaction with the expired ``(pk, owner_id)``
    pairs, so whatever it writes (notifications) commits or rolls back with the expiry.
    Returns how many deals expired."""
    from django.db import connection
    from django.db.models import Q

    table = connection.ops.quote_name(Opportunity._meta.db_table)
    history_table = connection.ops.quote_name(StatusChange._meta.db_table)
    today = today or company_today()
    reason = _("Expected close date passed") if reason is None else str(reason)
    # One date condition per distinct grace period (a handful of pipelines), so the whole
    # selection stays one indexed query.
    graced: dict[int, list[int]] = {}
    for pipeline_id, grace in Pipeline.objects.filter(expiry_grace_days__gt=0).values_list("pk", "expiry_grace_days"):
        graced.setdefault(grace, []).append(pipeline_id)
    overdue = Q(expected_close_date__lt=today)
    if graced:
        overdue = Q(overdue, ~Q(pipeline_id__in=[pk for ids in graced.values() for pk in ids]))
        for grace, ids in graced.items():
            overdue |= Q(pipeline_id__in=ids, expected_close_date__lt=today - datetime.timedelta(days=grace))
    total = 0
    last_pk = 0
    while True:
        with transaction.atomic():
            # Keyset order: each batch starts after the last one instead of rescanning expired rows.
            batch = list(
                Opportunity.objects.select_for_update(skip_locked=True)
                .filter(overdue, status=OPEN, pk__gt=last_pk)
                .order_by("pk")
                .values_list("pk", "owner_id")[:batch_size]
            )
            if not batch:
                return total
            now = timezone.now()
            ids = [pk for pk, _owner in batch]
            last_pk = ids[-1]
            updated = Opportunity.objects.filter(pk__in=ids, status=OPEN).update(
                status=Opportunity.Status.EXPIRED, closed_at=now, close_reason=reason,
                version=F("version") + 1, updated_at=now,
            )
            # The history rows in one INSERT … SELECT (bulk_create of thousands of objects cost
            # more than the UPDATE itself; see the expiry figure of bench/scale.py).
            with connection.cursor() as cursor:
                cursor.execute(
                    f"INSERT INTO {history_table} "  # noqa: S608 - names from model meta, values are parameters
                    "(opportunity_id, by_id, at, from_status, to_status, reason, lost_reason_id, owner_id) "
                    f"SELECT id, NULL, %s, %s, %s, %s, NULL, owner_id FROM {table} "
                    f"WHERE id IN ({', '.join(['%s'] * len(ids))})",
                    [
                        connection.ops.adapt_datetimefield_value(now), OPEN.value, Opportunity.Status.EXPIRED.value,
                        reason, *ids,
                    ],
                )
            if on_batch is not None:
                on_batch(batch)
            total += updated
        if len(batch) < batch_size:
            return total


@transaction.atomic
def opportunity_expire(*, opportunity: Opportunity, by: User | None = None) -> Opportunity:
    """Expire one overdue deal (the scheduled job uses the set-based version above)."""
    opportunity = _lock(opportunity)
    _require_open(opportunity)
    if opportunity.expected_close_date >= company_today():
        raise ValidationError(_("This opportunity is not overdue yet."), code="not_overdue")
    now = timezone.now()
    StatusChange.objects.create(
        opportunity=opportunity,
        by=by,
        at=now,
        from_status=OPEN,
        to_status=Opportunity.Status.EXPIRED,
        reason=_("Expected close date passed"),
        owner_id=opportunity.owner_id,
    )
    opportunity.status = Opportunity.Status.EXPIRED
    opportunity.closed_at = now
    _save(opportunity, ["status", "closed_at"])
    return opportunity


# --- activities ----------------------------------------------------------------------------


@transaction.atomic
def opportunity_add_activity(
    *,
    opportunity: Opportunity,
    by: User,
    kind: str,
    body: str = "",
    carrier: str = "",
    tracking_number: str = "",
    occurred_at: datetime.datetime | None = None,
    files: Iterable = (),
) -> Activity:
    """Log a note, call, visit, sample, quote … with evidence files, tagged with the stage the
    deal is in now (exit criteria count evidence per stage). Every file is checked before
    anything is written: one bad file rejects the whole entry."""
    _require_active(by)
    opportunity = _lock(opportunity)
    _require_edit(by, opportunity)
    if kind not in Activity.Kind.values:
        raise ValidationError({"kind": _("Choose a kind of activity.")})
    files = list(files)
    body = (body or "").strip()
    tracking_number = (tracking_number or "").strip()
    carrier = (carrier or "").strip()
    if not body and not files and not tracking_number:
        raise ValidationError({"body": _("Write what happened, attach a file or enter a tracking number.")})
    if carrier and not tracking_number:
        raise ValidationError({"tracking_number": _("Enter the tracking number for the courier.")})
    now = timezone.now()
    occurred_at = occurred_at or now
    if occurred_at > now + datetime.timedelta(minutes=5):
        raise ValidationError({"occurred_at": _("An activity cannot be logged in the future.")})
    if occurred_at < EARLIEST_ACTIVITY:
        raise ValidationError({"occurred_at": _("Check the date: that is before the year 2000.")})
    file_errors = []
    checked = []
    for upload in files:
        try:
            checked.append((upload, upload_check(upload)))
        except ValidationError as exc:
            file_errors.extend(exc.messages)
    if file_errors:
        raise ValidationError({"files": file_errors})

    activity = Activity.objects.create(
        opportunity=opportunity,
        stage=opportunity.stage,
        kind=kind,
        body=body,
        carrier=carrier,
        tracking_number=tracking_number,
        occurred_at=occurred_at,
        author=by,
    )
    for upload, check in checked:
        attachment = Attachment(
            activity=activity,
            opportunity=opportunity,
            stage=opportunity.stage,
            stored_name=check.stored_name,
            original_name=check.original_name,
            content_type=check.content_type,
            size=check.size,
            uploaded_by=by,
        )
        attachment.file.save(check.stored_name, upload, save=False)
        attachment.save()
    if opportunity.last_activity_at is None or occurred_at > opportunity.last_activity_at:
        Opportunity.objects.filter(pk=opportunity.pk).update(last_activity_at=occurred_at)
        opportunity.last_activity_at = occurred_at
    return activity


__all__ = [
    "DistributionStrategy",
    "currency_rate_for",
    "opportunities_expire_overdue",
    "opportunity_add_activity",
    "opportunity_assign",
    "opportunity_close",
    "opportunity_create",
    "opportunity_distribute",
    "opportunity_expire",
    "opportunity_move_stage",
    "opportunity_push_close_date",
    "opportunity_reassign_all",
    "opportunity_reopen",
    "opportunity_update",
]


# --- pages: bulk difficulty, quick create (added for the browser UI) -----------------------


@transaction.atomic
def opportunity_set_difficulty_many(*, opportunity_ids: Iterable[int], difficulty, by: User, reason: str = "") -> int:
    """Give many opportunities the same difficulty coefficient, all or none: each goes through
    ``opportunity_update`` (a manager of its team only, recorded as a field change), in one
    transaction. Returns how many changed."""
    _require_active(by)
    ids = sorted({int(pk) for pk in opportunity_ids})
    if not ids:
        raise ValidationError(_("Select at least one opportunity."))
    rows = list(Opportunity.objects.filter(pk__in=ids).order_by("pk"))
    if len(rows) != len(ids):
        raise ValidationError(_("Some of the selected opportunities do not exist."))
    value = _validate_difficulty(difficulty)
    changed = 0
    for row in rows:
        if row.difficulty != value:
            opportunity_update(opportunity=row, by=by, version=None, reason=reason, difficulty=value)
            changed += 1
        elif not can_manage_opportunity(by, row):
            raise PermissionDenied(_("Only a manager can set the difficulty, incentive flags or probability."))
    return changed


@transaction.atomic
def opportunity_quick_create(
    *,
    by: User,
    customer: Customer | None = None,
    new_customer_name: str = "",
    contact: Contact | None = None,
    new_contact: dict | None = None,
    **fields,
) -> Opportunity:
    """The quick form's create: optionally a new customer and a new contact, then the
    opportunity (``opportunity_create``, with every rule it enforces), in one transaction — a
    refused deal leaves no customer or contact behind. ``new_contact`` holds the
    ``contact_create`` arguments (name, email, phone …). Errors name the form's fields:
    ``new_customer_name`` and ``new_contact_*``."""
    from customers.services import contact_create, customer_create

    if customer is None:
        try:
            customer = customer_create(by=by, name=new_customer_name)
        except ValidationError as exc:
            raise _renamed(exc, {"name": "new_customer_name"}, default="new_customer_name") from exc
    if new_contact and (new_contact.get("name") or "").strip():
        try:
            contact = contact_create(by=by, customer=customer, **new_contact)
        except ValidationError as exc:
            renames = {key: f"new_contact_{key}" for key in ("name", "email", "phone", "title")}
            raise _renamed(exc, renames, default="new_contact_name") from exc
    return opportunity_create(by=by, customer=customer, contact=contact, **fields)


def _renamed(exc: ValidationError, renames: dict[str, str], *, default: str) -> ValidationError:
    if hasattr(exc, "error_dict"):
        return ValidationError({renames.get(field, default): errors for field, errors in exc.error_dict.items()})
    return ValidationError({default: exc.messages})


__all__ += ["opportunity_quick_create", "opportunity_set_difficulty_many"]
