"""Customer pages: the list (search, pages) and a customer's page with its contacts and every
deal of it the user may see; plus the create form's customer suggestions and contact list.
Another rep's customer does not exist here (404)."""

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from customers.models import Customer
from customers.selectors import (
    contacts_visible_to,
    customer_from_text,
    customer_get_for_user,
    customers_autocomplete,
    customers_for_list,
)
from opportunities.selectors import opportunities_visible_to

PAGE_SIZE = 50


@require_GET
@login_required
def customer_list(request: HttpRequest) -> HttpResponse:
    search = (request.GET.get("q") or "").strip()[:200]
    page = Paginator(customers_for_list(user=request.user, search=search), PAGE_SIZE).get_page(request.GET.get("page"))
    context = {"page": page, "search": search}
    if request.htmx and not request.htmx.boosted:
        return render(request, "customers/partials/customer_results.html", context)
    return render(request, "customers/customer_list.html", context)


@require_GET
@login_required
def customer_detail(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        customer = customer_get_for_user(user=request.user, pk=pk)
    except Customer.DoesNotExist as exc:
        raise Http404 from exc
    context = {
        "customer": customer,
        "contacts": contacts_visible_to(user=request.user).filter(customer=customer).order_by("name", "pk"),
        "opportunities": opportunities_visible_to(user=request.user)
        .filter(customer=customer)
        .order_by("status", "expected_close_date", "-pk"),
    }
    return render(request, "customers/customer_detail.html", context)


@require_GET
@login_required
def customer_autocomplete(request: HttpRequest) -> HttpResponse:
    """<option>s for the create form's customer field (htmx, as the user types)."""
    text = request.GET.get("customer") or request.GET.get("q") or ""
    customers = customers_autocomplete(user=request.user, text=text[:200])
    return render(request, "customers/partials/customer_options.html", {"customers": customers})


@require_GET
@login_required
def customer_contact_options(request: HttpRequest) -> HttpResponse:
    """<option>s of the contacts of the customer named in the create form (htmx)."""
    customer, _count = customer_from_text(user=request.user, text=(request.GET.get("customer") or "")[:250])
    contacts = contacts_visible_to(user=request.user).filter(customer=customer) if customer else []
    return render(request, "customers/partials/contact_options.html", {"contacts": contacts})
