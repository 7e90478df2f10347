from django.contrib import admin
from django.db.models import Count, Q
from django.utils.translation import gettext_lazy as _

from customers.models import Contact, Customer
from customers.normalize import normalize_phone
from opportunities.forms_admin import ProtectedSummaryMixin
from opportunities.models import Opportunity

# A search term with at least this many digits is also matched against normalised phone
# numbers, so "0049 30 1234567" finds "+49-30-123 4567".
PHONE_SEARCH_MIN_DIGITS = 6


def search_with_phone(model_admin, request, queryset, search_term, *, phone_ids):
    """The admin's text search, or-ed with a match on normalised phone numbers."""
    digits = normalize_phone(search_term)
    if len(digits) < PHONE_SEARCH_MIN_DIGITS:
        return admin.ModelAdmin.get_search_results(model_admin, request, queryset, search_term)
    # Search a plain queryset and filter by ids, so joins of the search never touch annotations.
    by_text, _duplicates = admin.ModelAdmin.get_search_results(
        model_admin, request, model_admin.model.objects.all(), search_term
    )
    return queryset.filter(Q(pk__in=by_text.values("pk")) | Q(pk__in=phone_ids(digits))), False


class ContactInline(admin.TabularInline):
    model = Contact
    # Deleting a contact that opportunities name is refused by Django's own inline check (PROTECT).
    fields = ("name", "title", "email", "phone", "whatsapp", "wechat")
    extra = 1


@admin.register(Customer)
class CustomerAdmin(ProtectedSummaryMixin, admin.ModelAdmin):
    inlines = [ContactInline]
    list_display = ("name", "country", "industry", "contact_count", "created_by", "created_at")
    list_filter = ("country", "industry")
    list_select_related = ("created_by",)
    ordering = ("name",)
    search_fields = ("name", "contacts__name", "contacts__email", "contacts__phone", "contacts__whatsapp")
    readonly_fields = ("created_by", "created_at", "updated_at")
    fieldsets = (
        (None, {"fields": ("name", "country", "website", "industry", "notes")}),
        (_("Record"), {"fields": ("created_by", "created_at", "updated_at"), "classes": ("collapse",)}),
    )
    protected_hint = _("A customer with opportunities cannot be deleted; their history must stay complete.")

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if db_field.name == "website":
            kwargs["assume_scheme"] = "https"
        return super().formfield_for_dbfield(db_field, request, **kwargs)

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(contact_total=Count("contacts"))

    @admin.display(description=_("contacts"), ordering="contact_total")
    def contact_count(self, obj):
        return getattr(obj, "contact_total", None)

    def get_search_results(self, request, queryset, search_term):
        return search_with_phone(
            self,
            request,
            queryset,
            search_term,
            phone_ids=lambda digits: Contact.objects.filter(phone_normalized__contains=digits).values("customer_id"),
        )

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)

    def protected_counts(self, objs):
        return [(str(_("Opportunities of this customer")), Opportunity.objects.filter(customer__in=objs).count())]


@admin.register(Contact)
class ContactAdmin(ProtectedSummaryMixin, admin.ModelAdmin):
    list_display = ("name", "customer", "title", "email", "phone", "whatsapp", "wechat")
    list_select_related = ("customer",)
    search_fields = ("name", "email", "phone", "whatsapp", "wechat", "customer__name")
    autocomplete_fields = ("customer",)
    fields = ("customer", "name", "title", "email", "phone", "whatsapp", "wechat")
    protected_hint = _("A contact on opportunities cannot be deleted; their history must stay complete.")

    def get_search_results(self, request, queryset, search_term):
        return search_with_phone(
            self,
            request,
            queryset,
            search_term,
            phone_ids=lambda digits: Contact.objects.filter(phone_normalized__contains=digits).values("pk"),
        )

    def protected_counts(self, objs):
        return [(str(_("Opportunities with this contact")), Opportunity.objects.filter(contact__in=objs).count())]
