from rest_framework import pagination


class PageNumberPagination(pagination.PageNumberPagination):
    """`?page=` and `?page_size=` (default 20, at most 100)."""

    page_size_query_param = "page_size"
    max_page_size = 100
