from rest_framework import pagination


class PageNumberPagination(pagination.PageNumberPagination):
    """`?page=` and `?page_size=` (default 20, at most 100)."""

    page_size_query_param = "page_size"
    max_page_size = 100
    page_query_description = "A page number from 1, or `last`; any other value answers 404 `Invalid page.`."
    page_size_query_description = (
        "Results per page: default 20, at most 100 (a larger number gives 100; zero, a negative "
        "number or a non-number gives the default)."
    )
