"""Bulk creation of one chunk of planned rows, inside the caller's transaction.

The rows are the ones ``opportunity_create`` would make for each lead — an open opportunity in
the chosen open stage with the stage's probability, its first ``StageChange`` (from nothing to
that stage) — written with one INSERT per table per chunk instead of one per row. Owners are
then given by ``opportunity_assign`` / ``opportunity_distribute`` on the new ids, so the
Assignment rows, the round-robin pointer and the fairness rules stay in opportunities/services.py.
"""

from dataclasses import dataclass, field
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from customers.models import Contact, Customer
from opportunities.imports.models import ImportedRow, ImportJob, ImportRowError
from opportunities.imports.planning import Action, RowPlan
from opportunities.models import Opportunity, StageChange
from opportunities.services import DistributionStrategy, opportunity_assign, opportunity_distribute

BATCH = 1000


@dataclass
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
    result = ChunkResult()
    now = timezone.now()

    new_customers = [plan for plan in plans if plan.new_customer]
    customers = [
        Customer(
            name=plan.row.company,
            name_normalized=plan.row.company_key,
            country=plan.row.country,
            website=plan.row.website,
            industry=plan.row.industry,
            created_by=by,
        )
        for plan in new_customers
    ]
    Customer.objects.bulk_create(customers, batch_size=BATCH)
    for plan, customer in zip(new_customers, customers, strict=True):
        plan.customer.pk = customer.pk

    new_contacts = [plan for plan in plans if plan.new_contact]
    contacts = [
        Contact(
            customer_id=plan.contact.customer.pk,
            name=plan.row.contact or plan.row.email or plan.row.phone or plan.row.wechat or plan.row.whatsapp,
            title=plan.row.title,
            phone=plan.row.phone,
            phone_normalized=plan.row.phone_key,
            email=plan.row.email,
            email_normalized=plan.row.email_key,
            wechat=plan.row.wechat,
            whatsapp=plan.row.whatsapp,
        )
        for plan in new_contacts
    ]
    Contact.objects.bulk_create(contacts, batch_size=BATCH)
    for plan, contact in zip(new_contacts, contacts, strict=True):
        plan.contact.pk = contact.pk

    creating = [plan for plan in plans if plan.action in (Action.CREATE, Action.ATTACH)]
    stage = job.stage
    opportunities = [
        Opportunity(
            title=plan.row.deal_title,
            description=plan.row.description,
            customer_id=plan.customer.pk,
            contact_id=plan.contact.pk if plan.contact else None,
            pipeline_id=job.pipeline_id,
            stage=stage,
            status=Opportunity.Status.OPEN,
            owner=None,
            team_id=job.team_id,
            source_id=job.source_id,
            expected_close_date=plan.row.close_date,
            difficulty=Decimal("1.00"),
            probability=stage.probability,
            probability_is_manual=False,
            stage_entered_at=now,
            created_by=by,
            amount=plan.row.amount,
            currency=plan.row.currency,
            exchange_rate=plan.row.exchange_rate,
            amount_base=plan.row.amount_base,
        )
        for plan in creating
    ]
    Opportunity.objects.bulk_create(opportunities, batch_size=BATCH)
    StageChange.objects.bulk_create(
        (
            StageChange(
                opportunity_id=opportunity.pk,
                by=by,
                at=now,
                from_stage=None,
                to_stage=stage,
                probability_before=None,
                probability_after=opportunity.probability,
            )
            for opportunity in opportunities
        ),
        batch_size=BATCH,
    )
    ImportedRow.objects.bulk_create(
        (
            ImportedRow(
                team_id=job.team_id,
                fingerprint=plan.row.fingerprint,
                job_id=job.pk,
                row_number=plan.row.number,
                opportunity_id=opportunity.pk,
            )
            for plan, opportunity in zip(creating, opportunities, strict=True)
        ),
        batch_size=BATCH,
    )
    ImportRowError.objects.bulk_create(
        (
            ImportRowError(
                job_id=job.pk,
                row_number=plan.row.number,
                reason=plan.reason,
                values=plan.row.cells,
                kind=ImportRowError.Kind.FAILED if plan.action == Action.FAIL else ImportRowError.Kind.SKIPPED,
            )
            for plan in plans
            if plan.action in (Action.FAIL, Action.SKIP)
        ),
        batch_size=BATCH,
    )
    _assign(job=job, by=by, plans=creating, opportunities=opportunities)

    result.created = len(opportunities)
    result.failed = sum(1 for plan in plans if plan.action == Action.FAIL)
    result.skipped = sum(1 for plan in plans if plan.action == Action.SKIP)
    result.customers = len(customers)
    result.contacts = len(contacts)
    result.opportunity_ids = [opportunity.pk for opportunity in opportunities]
    return result


def job_active_reps(job: ImportJob) -> list | None:
    """The chosen reps still active in the team (deactivated ones are skipped); None: the whole team."""
    chosen = job.options.get("reps") or []
    if not chosen:
        return None
    reps = list(get_user_model().objects.filter(pk__in=chosen, is_active=True, teams=job.team_id).order_by("pk"))
    if not reps:
        raise ValidationError(_("None of the chosen reps is an active member of the team any more."))
    return reps


def _assign(*, job: ImportJob, by, plans: list[RowPlan], opportunities: list[Opportunity]) -> None:
    if not opportunities or job.assign == ImportJob.Assign.POOL:
        return
    ids = [opportunity.pk for opportunity in opportunities]
    reason = assignment_reason(job)
    if job.assign == ImportJob.Assign.OWNER:
        opportunity_assign(opportunity_ids=ids, owner=job.owner, by=by, reason=reason)
    elif job.assign in DistributionStrategy.ALL:
        opportunity_distribute(
            opportunity_ids=ids, team=job.team, strategy=job.assign, by=by, reason=reason, reps=job_active_reps(job)
        )
    elif job.assign == ImportJob.Assign.COLUMN:
        by_owner: dict[int, tuple[object, list[int]]] = {}
        for plan, opportunity in zip(plans, opportunities, strict=True):
            if plan.row.owner is not None:
                by_owner.setdefault(plan.row.owner.pk, (plan.row.owner, []))[1].append(opportunity.pk)
        for owner, owner_ids in by_owner.values():
            opportunity_assign(opportunity_ids=owner_ids, owner=owner, by=by, reason=reason)
