"""Paging of the opportunity list, with a count that stops at a bound.

Counting every row of a manager's 200,000 deals costs PostgreSQL more than the page itself;
nobody reads the exact figure past a few thousand. So the list counts at most ``bound + 1``
rows (``SELECT COUNT(*) FROM (… LIMIT bound + 1)``, which stops early) and says "10,000+".
Past the bound, pages still go on for as long as they are full.
"""

import math

from django.core.paginator import EmptyPage, Page, PageNotAnInteger, Paginator
from django.utils.functional import cached_property

LIST_COUNT_BOUND = 10_000


class RowSource:
    """What a paginator slices when the rows of one page come from ``fetch(offset, limit)``."""

    def __init__(self, fetch):
        self.fetch = fetch

    def __getitem__(self, window: slice) -> list:
        return self.fetch(window.start, window.stop - window.start)


class BoundedPage(Page):
    def has_next(self) -> bool:
        if self.paginator.is_bounded and self.number >= self.paginator.num_pages:
            return len(self.object_list) == self.paginator.per_page
        return super().has_next()


class BoundedPaginator(Paginator):
    """A Paginator whose ``count`` is at most ``bound``; ``is_bounded`` says there are more."""

    def __init__(self, object_list, per_page, *, count_up_to=None, bound: int = LIST_COUNT_BOUND):
        """``count_up_to(limit)``: how many rows there are, counting no further than ``limit``
        (default: a COUNT over ``object_list[:limit]``)."""
        super().__init__(object_list, per_page)
        self.bound = bound
        self.count_up_to = count_up_to or (lambda limit: self.object_list[:limit].count())

    @cached_property
    def _counted(self) -> int:
        return self.count_up_to(self.bound + 1)

    @cached_property
    def count(self) -> int:
        return min(self._counted, self.bound)

    @property
    def is_bounded(self) -> bool:
        return self._counted > self.bound

    @cached_property
    def num_pages(self) -> int:
        if self.count == 0:
            return 1
        return math.ceil(self.count / self.per_page)

    def validate_number(self, number) -> int:
        try:
            number = int(number)
        except (TypeError, ValueError) as exc:
            raise PageNotAnInteger(self.error_messages["invalid_page"]) from exc
        if number < 1:
            raise EmptyPage(self.error_messages["min_page"])
        if number > self.num_pages and not self.is_bounded:
            raise EmptyPage(self.error_messages["no_results"])
        return number

    def page(self, number) -> BoundedPage:
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        top = bottom + self.per_page
        if not self.is_bounded and top >= self.count:
            top = self.count
        return BoundedPage(self.object_list[bottom:top], number, self)
