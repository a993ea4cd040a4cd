import pytest
from django.core import paginator as django_paginator

from catalog.factories import CategoryFactory
from catalog.models import Category
from common.pagination import Paginator

pytestmark = pytest.mark.django_db


def categories(count: int):
    CategoryFactory.create_batch(count)
    return Category.objects.order_by("pk")


def described(page) -> tuple:
    return (
        page.paginator.count,
        page.paginator.num_pages,
        [row.pk for row in page],
        page.has_next(),
        page.has_previous(),
        page.start_index(),
        page.end_index(),
    )


@pytest.mark.parametrize("rows", [0, 1, 4, 5, 6, 11])
@pytest.mark.parametrize("number", [1, "1", 2, "3"])
def test_pages_and_counts_are_djangos(rows, number):
    rows_in_order = categories(rows)

    def answer(paginator_class):
        try:
            return described(paginator_class(rows_in_order, 5).page(number))
        except django_paginator.InvalidPage as error:
            return type(error), str(error)

    assert answer(Paginator) == answer(django_paginator.Paginator)


@pytest.mark.parametrize("rows", [0, 3])
def test_a_first_page_that_is_not_full_runs_no_count(django_assert_num_queries, rows):
    rows_in_order = categories(rows)

    with django_assert_num_queries(1):  # the page only
        page = Paginator(rows_in_order, 5).page(1)
        assert (page.paginator.count, page.has_next()) == (rows, False)


def test_a_full_first_page_counts(django_assert_num_queries):
    rows_in_order = categories(7)

    with django_assert_num_queries(2):  # the page, then COUNT(*)
        page = Paginator(rows_in_order, 5).page(1)
        assert (page.paginator.count, page.has_next()) == (7, True)


def test_other_pages_count_first(django_assert_num_queries):
    rows_in_order = categories(7)

    with django_assert_num_queries(2):  # COUNT(*), then the page
        shown = [row.pk for row in Paginator(rows_in_order, 5).page(2)]

    assert shown == [row.pk for row in rows_in_order[5:]]


@pytest.mark.parametrize("number", ["abc", "0", -1, "1.5", None])
def test_a_number_that_is_no_page_raises_djangos_error(number):
    rows_in_order = categories(3)

    with pytest.raises(django_paginator.InvalidPage) as ours:
        Paginator(rows_in_order, 5).page(number)
    with pytest.raises(django_paginator.InvalidPage) as djangos:
        django_paginator.Paginator(rows_in_order, 5).page(number)
    assert (type(ours.value), str(ours.value)) == (type(djangos.value), str(djangos.value))


def test_an_empty_first_page_is_refused_when_django_refuses_it():
    with pytest.raises(django_paginator.EmptyPage):
        Paginator(categories(0), 5, allow_empty_first_page=False).page(1)


def test_orphans_are_djangos():
    rows_in_order = categories(6)

    page = Paginator(rows_in_order, 5, orphans=2).page(1)

    assert (page.paginator.count, len(page), page.has_next()) == (6, 6, False)


def test_an_api_list_with_one_short_page_answers_its_count_and_no_links(api_client):
    CategoryFactory.create_batch(3)

    body = api_client.get("/api/v1/categories/").json()

    assert (body["count"], body["next"], body["previous"], len(body["results"])) == (3, None, None, 3)
