"""The home page's repeated HTML — its four short lists of deals and its bars of open deals by
stage — written in Python rather than by an ``{% include %}`` per list and a loop per stage.

Through the template language the lists' two dozen deals (an include each for the link, a
``{% url %}``, a dozen lookups and filters, translations) and the stages' bars were a third of
the page's time. Here the labels and the URL pattern are worked out once per response and each
deal or stage is one string format with its fields escaped (``crm/escaping.py``), the markup
unchanged. The display rules stay where they are: ``money`` and ``person`` are called as the
templates call them, ``timesince`` and the dates as the template filters write them.
"""

from django.template.defaultfilters import timesince_filter
from django.utils import timezone
from django.utils.formats import localize
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from crm.escaping import escape_text
from crm.templatetags.jihui import money, person
from crm.url_patterns import url_for_pk
from opportunities.selectors_dashboard import DashboardDeal

DEAL_HTML = """
  <li>
    <div class="main">
      {link}

      <span class="meta">{customer} · {stage} · {owner}</span>
    </div>
    <div class="side">
      
        {side}
      
    </div>
  </li>
"""  # noqa: W293 (the template's whitespace-only lines, kept: the same HTML, byte for byte)

STAGE_HTML = """
        <li>
          <a href="{link}{pk}">{name}</a>
          <span class="bar" aria-hidden="true"><span style="width: {share}%"></span></span>
          <span class="figures"><strong>{count}</strong> · {amount}</span>
        </li>
        """


def dashboard_deal_lists(dashboard: dict) -> dict[str, SafeString]:
    """Each short list of ``opportunity_dashboard`` (closing, overdue, stale, expired) as its
    ``<ul class="deal-list">``: per deal its link, customer, stage and owner, and what the list
    is about (the close date and amount; the date it expired; how long it has been idle). Make
    it where the request's language and time zone are active."""
    e = escape_text
    detail_url = url_for_pk("opportunities:detail")  # None: the title without a link
    # Each text translated outside the f-strings: xgettext (makemessages) does not read into them.
    expired_label, stale_label, idle, nothing = _("Expired"), _("Stale"), _("idle %(since)s"), _("Nothing here.")
    expired = f'<span class="badge status-expired">{e(expired_label)}</span><br><span class="muted">'
    stale = f'<span class="badge stale">{e(stale_label)}</span><br><span class="muted">'
    sides = {
        "closing": lambda deal: (
            f"<strong>{_date(deal.expected_close_date, '%m-%d')}</strong><br>"
            f'<span class="muted">{e(money(deal.amount_base))}</span>'
        ),
        "overdue": lambda deal: (
            f'<span class="badge overdue">{_date(deal.expected_close_date, "%Y-%m-%d")}</span><br>'
            f'<span class="muted">{e(money(deal.amount_base))}</span>'
        ),
        "stale": lambda deal: f"{stale}{idle % {'since': e(timesince_filter(deal.idle_since))}}</span>",
        "expired": lambda deal: (
            f"{expired}{_date(deal.closed_at and timezone.localtime(deal.closed_at), '%Y-%m-%d')}</span>"
        ),
    }
    empty = f'\n  <li class="empty">{e(nothing)}</li>\n'
    html = {}
    for name, side in sides.items():
        deals: list[DashboardDeal] = dashboard[name]
        items = "".join(
            DEAL_HTML.format(
                link=(
                    f'<a href="{e(detail_url(deal.pk))}">{e(deal.title)}</a>'
                    if detail_url
                    else f"<strong>{e(deal.title)}</strong>"
                ),
                customer=e(deal.customer_name),
                stage=e(deal.stage_name),
                owner=e(person(deal.owner)),
                side=side(deal),
            )
            for deal in deals
        )
        # Every value is escaped, or HTML of ours.
        html[name] = mark_safe(f'<ul class="deal-list">\n{items or empty}\n</ul>\n')  # noqa: S308
    return html


def dashboard_stage_bars(pipelines: list[dict], *, list_url: str) -> SafeString:
    """The open deals by stage of ``opportunity_dashboard`` (its ``pipelines``): per pipeline
    (named when there are several) a bar per stage, with a link to its open deals in the list,
    how many there are and their total."""
    e = escape_text
    link = f"{e(list_url)}?status=open&amp;stage="
    html = []
    for pipeline in pipelines:
        name = f'<p class="pipeline-name">{e(pipeline["name"])}</p>' if len(pipelines) > 1 else ""
        bars = "".join(
            STAGE_HTML.format(
                link=link,
                pk=stage["id"],
                name=e(stage["name"]),
                share=e(localize(stage["share"])),
                count=e(localize(stage["count"])),
                amount=e(money(stage["amount"])),
            )
            for stage in pipeline["stages"]
        )
        html.append(f'\n      {name}\n      <ul class="stage-bars">\n        {bars}\n      </ul>\n    ')
    if not pipelines:
        nothing = _("No open deals.")  # outside the f-string, where makemessages finds it
        html.append(f'\n      <p class="empty">{e(nothing)}</p>\n    ')
    return mark_safe("".join(html))  # noqa: S308 (every value is escaped)


def _date(value, format: str) -> str:
    """A date as the ``date`` filter writes it with this format (no date: nothing)."""
    return value.strftime(format) if value else ""
