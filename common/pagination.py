from django.core import paginator
from rest_framework import pagination


class Paginator(paginator.Paginator):
    """Django's paginator, which does not count the rows when the first page tells how many there are.

    A first page with fewer rows than `per_page` holds them all, so the count is its length:
    no `COUNT(*)`. Every other page (and any paginator with `orphans`) counts first, as
    Django's does. Pages, counts and errors are Django's.
    """

    def page(self, number):
        if self.orphans or "count" in self.__dict__ or number not in (1, "1"):
            return super().page(number)
        rows = list(self.object_list[: self.per_page])
        if len(rows) < self.per_page:
            self.count = len(rows)
        return self._get_page(rows, self.validate_number(number), self)


class PageNumberPagination(pagination.PageNumberPagination):
    """`?page=` and `?page_size=` (default 20, at most 100)."""

    django_paginator_class = Paginator
    page_size_query_param = "page_size"
    max_page_size = 100
    page_query_description = "A page number from 1, or `last`; any other value answers 404 `Invalid page.`."
    page_size_query_description = (
        "Results per page: default 20, at most 100 (a larger number gives 100; zero, a negative "
        "number or a non-number gives the default)."
    )
