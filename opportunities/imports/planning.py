"""What each row becomes: a new customer, an opportunity attached to an existing customer,
a skipped duplicate, or a rejected row. The preview and the import use the same planner, so
the preview shows exactly what the import will do.

Duplicates are found on normalised keys — e-mail, then phone (the same person), then company
name (the same company) — against the customers the importing manager can see and against the
earlier rows of the same file. A row that an earlier import of this team already turned into an
opportunity (same fingerprint, see ``rows.RowReader._fingerprint``) is skipped whatever the
duplicate policy, which is what makes re-running a file create nothing new.
"""

from dataclasses import dataclass

from django.utils.translation import gettext as _

from customers.models import Contact, Customer
from customers.selectors import customers_visible_to
from opportunities.imports.models import ImportedRow, ImportJob
from opportunities.imports.rows import LeadRow


class CustomerRef:
    """A customer, existing (``row`` is None) or to be created from ``row`` (``pk`` set once written)."""

    __slots__ = ("name", "pk", "row")

    def __init__(self, pk: int | None, name: str, row: int | None):
        self.pk, self.name, self.row = pk, name, row


class ContactRef:
    __slots__ = ("customer", "pk", "row")

    def __init__(self, pk: int | None, customer: CustomerRef, row: int | None):
        self.pk, self.customer, self.row = pk, customer, row


class Action:
    CREATE = "create"  # new customer (and contact) and opportunity
    ATTACH = "attach"  # opportunity for an existing customer
    SKIP = "skip"
    FAIL = "fail"


@dataclass(slots=True)
class RowPlan:
    row: LeadRow
    action: str
    reason: str = ""
    duplicate: str = ""
    customer: CustomerRef | None = None
    contact: ContactRef | None = None
    new_customer: bool = False
    new_contact: bool = False


KEY_LABELS = {
    "email": lambda: _("e-mail address"),
    "phone": lambda: _("phone number"),
    "company": lambda: _("company name"),
}


class Planner:
    def __init__(self, *, team_id: int, by, duplicates: str):
        self.team_id = team_id
        self.duplicates = duplicates
        self.by = by
        self.by_company: dict[str, CustomerRef] = {}
        self.by_email: dict[str, ContactRef] = {}
        self.by_phone: dict[str, ContactRef] = {}
        self._existing: dict[int, CustomerRef] = {}

    def plan(self, rows: list[LeadRow]) -> list[RowPlan]:
        valid = [row for row in rows if not row.errors]
        imported = self._already_imported(valid)
        self._load_existing(valid)
        plans = []
        for row in rows:
            if row.errors:
                plans.append(RowPlan(row, Action.FAIL, reason=" ".join(row.errors)))
            elif row.fingerprint in imported:
                job_id, number = imported[row.fingerprint]
                plans.append(
                    RowPlan(
                        row,
                        Action.SKIP,
                        reason=_("Already imported (import #%(job)d, row %(row)d).") % {"job": job_id, "row": number},
                    )
                )
            else:
                plans.append(self._decide(row))
        return plans

    # --- look-ups, one query per kind of key per chunk -----------------------------------

    def _already_imported(self, rows: list[LeadRow]) -> dict[str, tuple[int, int]]:
        if not rows:
            return {}
        found = ImportedRow.objects.filter(team_id=self.team_id, fingerprint__in=[row.fingerprint for row in rows])
        return {fp: (job_id, number) for fp, job_id, number in found.values_list("fingerprint", "job_id", "row_number")}

    def _customer(self, pk: int, name: str) -> CustomerRef:
        if pk not in self._existing:
            self._existing[pk] = CustomerRef(pk, name, None)
        return self._existing[pk]

    def _load_existing(self, rows: list[LeadRow]) -> None:
        """Matches by indexed key first, then the visibility rule for those few customers only
        (the rule as a subquery over every customer grows with the table: O(n²) over a file)."""
        emails = {row.email_key for row in rows if row.email_key} - self.by_email.keys()
        phones = {row.phone_key for row in rows if row.phone_key} - self.by_phone.keys()
        names = {row.company_key for row in rows} - self.by_company.keys()
        found_contacts = []
        for keys, index, field in (
            (emails, self.by_email, "email_normalized"),
            (phones, self.by_phone, "phone_normalized"),
        ):
            if keys:
                matches = Contact.objects.filter(**{f"{field}__in": keys}).order_by("pk")
                found_contacts += [
                    (index, *match) for match in matches.values_list("pk", field, "customer_id", "customer__name")
                ]
        found_customers = []
        if names:
            matches = Customer.objects.filter(name_normalized__in=names).order_by("pk")
            found_customers = list(matches.values_list("pk", "name_normalized", "name"))
        candidates = {customer_id for *_start, customer_id, _name in found_contacts} | {
            pk for pk, _key, _name in found_customers
        }
        if not candidates:
            return
        visible = set(customers_visible_to(user=self.by).filter(pk__in=candidates).values_list("pk", flat=True))
        for index, pk, key, customer_id, customer_name in found_contacts:
            if customer_id in visible:
                index.setdefault(key, ContactRef(pk, self._customer(customer_id, customer_name), None))
        for pk, key, name in found_customers:
            if pk in visible:
                self.by_company.setdefault(key, self._customer(pk, name))

    # --- decisions --------------------------------------------------------------------------

    def _describe(self, customer: CustomerRef, key: str) -> str:
        if customer.row is None:
            return _("same %(key)s as the existing customer “%(customer)s”") % {
                "key": KEY_LABELS[key](),
                "customer": customer.name,
            }
        return _("same %(key)s as row %(row)d of this file") % {"key": KEY_LABELS[key](), "row": customer.row}

    def _new_contact(self, row: LeadRow, customer: CustomerRef) -> ContactRef | None:
        if not row.has_contact:
            return None
        contact = ContactRef(None, customer, row.number)
        if row.email_key:
            self.by_email.setdefault(row.email_key, contact)
        if row.phone_key:
            self.by_phone.setdefault(row.phone_key, contact)
        return contact

    def _create(self, row: LeadRow, duplicate: str = "") -> RowPlan:
        customer = CustomerRef(None, row.company, row.number)
        self.by_company.setdefault(row.company_key, customer)
        contact = self._new_contact(row, customer)
        return RowPlan(
            row,
            Action.CREATE,
            duplicate=duplicate,
            customer=customer,
            contact=contact,
            new_customer=True,
            new_contact=contact is not None,
        )

    def _decide(self, row: LeadRow) -> RowPlan:
        same_person = (row.email_key and self.by_email.get(row.email_key), "email")
        if not same_person[0]:
            same_person = (row.phone_key and self.by_phone.get(row.phone_key), "phone")
        contact = same_person[0] or None
        if contact is not None:
            customer, key = contact.customer, same_person[1]
        else:
            customer, key = self.by_company.get(row.company_key), "company"
        if customer is None:
            return self._create(row)

        duplicate = self._describe(customer, key)
        if self.duplicates == ImportJob.Duplicates.SKIP:
            return RowPlan(
                row, Action.SKIP, reason=_("Duplicate: %(detail)s.") % {"detail": duplicate}, duplicate=duplicate
            )
        if self.duplicates == ImportJob.Duplicates.CREATE:
            return self._create(row, duplicate)
        new_contact = contact is None
        if new_contact:
            contact = self._new_contact(row, customer)
        return RowPlan(
            row,
            Action.ATTACH,
            duplicate=duplicate,
            customer=customer,
            contact=contact,
            new_contact=new_contact and contact is not None,
        )
