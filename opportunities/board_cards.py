"""The board's cards as HTML, written in Python rather than by one ``{% include %}`` per card.

A board shows up to eight columns of twenty cards; an include per card (a context push, a
dozen variable lookups and filters, two ``{% url %}`` tags, four translations) was most of the
page's time. Here the labels, the URL patterns and the day are worked out once per response
and each card is one string format with its fields escaped, the markup unchanged. The rules
stay in one place: the display filters of ``opportunity_display`` (people, money, overdue) are
called as they are, and staleness is the selector's (``opportunity_staleness``).
"""

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from crm.escaping import escape_text
from crm.url_patterns import url_for_pk
from opportunities.selectors import opportunity_staleness
from opportunities.selectors_board import BoardCard, BoardColumn
from opportunities.templatetags.opportunity_display import (
    initials,
    is_overdue,
    money,
    money_whole,
    person,
    required_field_label,
)
from stages.models import Stage

HEAD_HTML = """\
<header class="board-col-head" id="col-head-{pk}">
  <div class="board-col-title">
    <h2 id="col-title-{pk}">{name}</h2>
    <span class="board-col-count" title="{count_label}">{count}</span>
  </div>
  <div class="board-col-figures">
    <span title="{total_label}">{total}</span>
    <span class="muted" title="{weighted_label}">{weighted}</span>
  </div>
  <div class="board-col-prob">
    <span>{probability}%</span>
    {gate}
  </div>
</header>
"""


class BoardCards:
    """Renders cards (``BoardCard``, with their column's stage) for one response: make it where
    the request's language is active, as the labels are translated here."""

    def __init__(self, *, today) -> None:
        self.today = today
        self.is_stale = opportunity_staleness(today=today)
        self.move_url = url_for_pk("opportunities:move")
        self.detail_url = url_for_pk("opportunities:detail")
        self.close_date_label = escape(_("Expected close date"))
        # Translated outside the f-strings: makemessages (xgettext) does not read their expressions.
        overdue, stale = escape(_("Overdue")), escape(_("Stale"))
        idle = escape(_("No activity for longer than this stage allows"))
        self.overdue_mark = f'<span class="mark mark-overdue">{overdue}</span>'
        self.stale_mark = f'<span class="mark mark-stale" title="{idle}">{stale}</span>'
        self.gate_labels = {
            "file": escape(_("file")),
            "tracking": escape(_("tracking no.")),
            "title": escape(_("This stage has exit criteria")),
            "to_leave": escape(_("To leave:")),
        }
        self.load_more = escape(_("Load more"))
        self.owners: dict[int | None, tuple[str, str]] = {}
        # A column head's labels and "Load more" URL, for the eight columns of a board.
        self.head_labels = {
            "count_label": escape(_("Open deals")),
            "total_label": escape(_("Total amount in CNY")),
            "weighted_label": escape(_("Amount × probability, in CNY")),
        }
        self.column_url = url_for_pk("opportunities:board_column")

    def column_head(self, *, stage: Stage, count: int, total, weighted) -> SafeString:
        """A column's header: its stage, how many open deals, their total and weighted amount,
        the stage's probability and what it asks before a deal leaves it."""
        gate = ""
        if stage.has_exit_criteria:
            needs = "".join(
                [
                    f" {self.gate_labels['file']}" if stage.requires_attachment else "",
                    f" · {self.gate_labels['tracking']}" if stage.requires_tracking_number else "",
                    *(f" · {escape(required_field_label(name))}" for name in stage.required_fields),
                ]
            )
            gate = (
                f'<span class="gate" title="{self.gate_labels["title"]}">{self.gate_labels["to_leave"]}{needs}</span>'
            )
        html = HEAD_HTML.format(
            **self.head_labels,
            pk=stage.pk,
            name=escape(stage.name),
            count=count,
            total=escape(money_whole(total)),
            weighted=escape(_("%(amount)s weighted") % {"amount": money_whole(weighted)}),
            probability=stage.probability,
            gate=gate,
        )
        return mark_safe(html)  # noqa: S308 (every value above is escaped)

    def more_button(self, *, stage: Stage, has_more: bool, cursor: str, board_query: str, oob=False) -> SafeString:
        """A column's "Load more" (its next cards after ``cursor``); empty when there are none."""
        button = ""
        if has_more:
            url = f"{escape(self.column_url(stage.pk))}?after={escape(cursor)}"
            query = f"&amp;{escape(board_query)}" if board_query else ""
            button = (
                f'<button type="button" class="button-subtle" hx-get="{url}{query}" hx-target="#cards-{stage.pk}" '
                f'hx-swap="beforeend">{self.load_more}</button>'
            )
        swap = ' hx-swap-oob="true"' if oob else ""
        return mark_safe(f'<div class="board-more" id="more-{stage.pk}"{swap}>{button}</div>\n')  # noqa: S308

    def columns(self, columns: list[BoardColumn], *, board_query: str) -> SafeString:
        """Every column with its head, first cards and "Load more", as the page's loop over them
        wrote it (its indentation kept)."""
        html = []
        for column in columns:
            stage = column.stage
            pk = stage.pk
            head = self.column_head(stage=stage, count=column.count, total=column.total, weighted=column.weighted)
            more = self.more_button(
                stage=stage, has_more=column.has_more, cursor=column.cursor, board_query=board_query
            )
            html.append(
                f"""
      <section class="board-column" data-stage="{pk}" aria-labelledby="col-title-{pk}">
        {head}
        <div class="board-cards" id="cards-{pk}" data-stage="{pk}" data-cards>
          {self.cards(column.cards)}
        </div>
        {more}
      </section>
      """
            )
        return mark_safe("".join(html))  # noqa: S308 (heads, cards and buttons are escaped)

    @staticmethod
    def options(items, *, selected: str | None, label=str) -> SafeString:
        """The ``<option>`` of each item (its id, its ``label``) of a filter's ``<select>``; the
        one whose id is ``selected`` (as the query string has it) selected."""
        return mark_safe(  # noqa: S308 (labels are escaped)
            "".join(
                f'<option value="{item.pk}"{" selected" if str(item.pk) == selected else ""}>'
                f"{escape_text(label(item))}</option>"
                for item in items
            )
        )

    def card(self, card: BoardCard) -> SafeString:
        return mark_safe(self._card(card))  # noqa: S308 (every field is escaped in _card)

    def cards(self, cards: list[BoardCard]) -> SafeString:
        return mark_safe("".join(self._card(card) for card in cards))  # noqa: S308 (escaped in _card)

    def _owner(self, owner) -> tuple[str, str]:
        """The owner's initials and name, escaped: once per owner, whose cards fill a rep's board."""
        key = None if owner is None else owner.pk
        names = self.owners.get(key)
        if names is None:
            names = self.owners[key] = (escape_text(initials(owner)), escape_text(person(owner)))
        return names

    def _card(self, card: BoardCard) -> str:
        # An f-string rather than a module template's str.format(**fields), which parses the
        # template again for each of a board's 160 cards.
        overdue = is_overdue(card, self.today)
        pk = str(card.pk)
        close_date = card.expected_close_date
        owner_initials, owner_name = self._owner(card.owner)
        return f"""\
<article class="opp-card{" is-overdue" if overdue else ""}" id="opp-{pk}" data-id="{pk}" data-version="{card.version}" \
data-stage="{card.stage_id}" data-move-url="{escape_text(self.move_url(pk))}">
  <a class="opp-card-title" href="{escape_text(self.detail_url(pk))}">{escape_text(card.title)}</a>
  <div class="opp-card-customer">{escape_text(card.customer_name)}</div>
  <div class="opp-card-meta">
    <span class="opp-card-amount">{escape_text(money(card.amount, card.currency))}</span>
    <span class="opp-card-date" title="{self.close_date_label}">{close_date.isoformat() if close_date else ""}</span>
  </div>
  <div class="opp-card-foot">
    <span class="opp-owner"><span class="avatar" aria-hidden="true">{owner_initials}</span>{owner_name}</span>
    <span class="opp-marks">
      {self.overdue_mark if overdue else ""}
      {self.stale_mark if self.is_stale(card) else ""}
    </span>
  </div>
</article>
"""
