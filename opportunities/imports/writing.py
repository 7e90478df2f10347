"""Bulk creation of one chunk of planned rows, inside the caller's transaction.

The rows are the ones ``opportunity_create`` would make for each lead — an open opportunity in
the chosen open stage with the stage's probability, its first ``StageChange`` (from nothing to
that stage) — written with one INSERT per table per chunk instead of one per row. Owners are
chosen before the insert by the services' own rules (``opportunity_owners_for_new``: the
round-robin pointer and the fairness of ``opportunity_distribute``; ``opportunity_owner_require``:
the checks of ``opportunity_assign``), so each deal is written once, with its owner and the
Assignment row ``opportunity_assign`` would have written for it.
"""

from dataclasses import dataclass, field
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from customers.models import Contact, Customer
from opportunities.imports.bulk import insert_rows
from opportunities.imports.models import ImportedRow, ImportJob, ImportRowError
from opportunities.imports.planning import Action, RowPlan
from opportunities.models import Assignment, Opportunity, StageChange
from opportunities.services import DistributionStrategy, opportunity_owner_require, opportunity_owners_for_new


@dataclass(frozen=True)
class ChunkResult:
    created: int = 0
    skipped: int = 0
    failed: int = 0
    customers: int = 0
    contacts: int = 0
    opportunity_ids: list[int] = field(default_factory=list)


def assignment_reason(job: ImportJob) -> str:
    return (_("Import #%(job)d: %(file)s") % {"job": job.pk, "file": job.original_name})[:255]


def chunk_write(*, job: ImportJob, plans: list[RowPlan], by) -> ChunkResult:
    now = timezone.now()
    stage = job.stage

    new_customers = [plan for plan in plans if plan.new_customer]
    customer_ids = insert_rows(
        Customer,
        [
            {
                "name": plan.row.company,
                "name_normalized": plan.row.company_key,
                "country": plan.row.country,
                "website": plan.row.website,
                "industry": plan.row.industry,
                "created_by_id": by.pk,
            }
            for plan in new_customers
        ],
    )
    for plan, pk in zip(new_customers, customer_ids, strict=True):
        plan.customer.pk = pk

    new_contacts = [plan for plan in plans if plan.new_contact]
    contact_ids = insert_rows(
        Contact,
        [
            {
                "customer_id": plan.contact.customer.pk,
                "title": plan.row.title,
                "phone": plan.row.phone,
                "name": plan.row.contact or plan.row.email or plan.row.phone or plan.row.wechat or plan.row.whatsapp,
                "phone_normalized": plan.row.phone_key,
                "email": plan.row.email,
                "email_normalized": plan.row.email_key,
                "wechat": plan.row.wechat,
                "whatsapp": plan.row.whatsapp,
            }
            for plan in new_contacts
        ],
    )
    for plan, pk in zip(new_contacts, contact_ids, strict=True):
        plan.contact.pk = pk

    creating = [plan for plan in plans if plan.action in (Action.CREATE, Action.ATTACH)]
    owners = _owners(job=job, by=by, plans=creating)
    common = {
        "pipeline_id": job.pipeline_id,
        "stage_id": stage.pk,
        "status": Opportunity.Status.OPEN,
        "team_id": job.team_id,
        "source_id": job.source_id,
        "difficulty": Decimal("1.00"),
        "probability": stage.probability,
        "probability_is_manual": False,
        "stage_entered_at": now,
        "created_by_id": by.pk,
    }
    opportunity_ids = insert_rows(
        Opportunity,
        [
            {
                **common,
                "owner_id": owner.pk if owner else None,
                "title": plan.row.deal_title,
                "description": plan.row.description,
                "customer_id": plan.customer.pk,
                "contact_id": plan.contact.pk if plan.contact else None,
                "expected_close_date": plan.row.close_date,
                "amount": plan.row.amount,
                "currency": plan.row.currency,
                "exchange_rate": plan.row.exchange_rate,
                "amount_base": plan.row.amount_base,
            }
            for plan, owner in zip(creating, owners, strict=True)
        ],
    )
    insert_rows(
        StageChange,
        [
            {
                "opportunity_id": pk,
                "by_id": by.pk,
                "at": now,
                "from_stage_id": None,
                "to_stage_id": stage.pk,
                "probability_before": None,
                "probability_after": stage.probability,
            }
            for pk in opportunity_ids
        ],
    )
    insert_rows(
        ImportedRow,
        [
            {
                "team_id": job.team_id,
                "fingerprint": plan.row.fingerprint,
                "job_id": job.pk,
                "row_number": plan.row.number,
                "opportunity_id": pk,
            }
            for plan, pk in zip(creating, opportunity_ids, strict=True)
        ],
    )
    insert_rows(
        ImportRowError,
        [
            {
                "job_id": job.pk,
                "row_number": plan.row.number,
                "reason": plan.reason,
                "values": plan.row.cells,
                "kind": ImportRowError.Kind.FAILED if plan.action == Action.FAIL else ImportRowError.Kind.SKIPPED,
            }
            for plan in plans
            if plan.action in (Action.FAIL, Action.SKIP)
        ],
    )
    reason = assignment_reason(job)
    insert_rows(
        Assignment,
        [
            {
                "opportunity_id": pk,
                "by_id": by.pk,
                "at": now,
                "from_owner_id": None,
                "to_owner_id": owner.pk,
                "from_team_id": job.team_id,
                "to_team_id": job.team_id,
                "reason": reason,
            }
            for pk, owner in zip(opportunity_ids, owners, strict=True)
            if owner is not None
        ],
    )

    return ChunkResult(
        created=len(opportunity_ids),
        failed=sum(1 for plan in plans if plan.action == Action.FAIL),
        skipped=sum(1 for plan in plans if plan.action == Action.SKIP),
        customers=len(customer_ids),
        contacts=len(contact_ids),
        opportunity_ids=opportunity_ids,
    )


def job_active_reps(job: ImportJob) -> list | None:
    """The chosen reps still active in the team (deactivated ones are skipped); None: the whole team."""
    chosen = job.options.get("reps") or []
    if not chosen:
        return None
    reps = list(get_user_model().objects.filter(pk__in=chosen, is_active=True, teams=job.team_id).order_by("pk"))
    if not reps:
        raise ValidationError(_("None of the chosen reps is an active member of the team any more."))
    return reps


def _owners(*, job: ImportJob, by, plans: list[RowPlan]) -> list:
    """The owner of each deal about to be created (None: the team's pool)."""
    if not plans or job.assign == ImportJob.Assign.POOL:
        return [None] * len(plans)
    if job.assign == ImportJob.Assign.OWNER:
        opportunity_owner_require(owner=job.owner, team=job.team, by=by)
        return [job.owner] * len(plans)
    if job.assign in DistributionStrategy.ALL:
        return opportunity_owners_for_new(
            team=job.team, strategy=job.assign, count=len(plans), by=by, reps=job_active_reps(job)
        )
    if job.assign == ImportJob.Assign.COLUMN:
        owners = [plan.row.owner for plan in plans]
        for owner in {owner.pk: owner for owner in owners if owner is not None}.values():
            opportunity_owner_require(owner=owner, team=job.team, by=by)
        return owners
    raise ValueError(f"unknown assignment {job.assign!r}")
