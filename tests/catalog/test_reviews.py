"""Reviews (SPEC §4, §5, §6): one per customer and product, ratings kept on the product, the API, the cache."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone
from rest_framework.test import APIClient

from catalog.exceptions import AlreadyReviewed
from catalog.factories import ProductFactory, ReviewFactory
from catalog.models import Product, Review
from conftest import bearer_client
from customers.factories import CustomerFactory
from tests.utils import assert_error, race_n, requires_postgresql, result_ids

pytestmark = pytest.mark.django_db

PRODUCTS = "/api/v1/products/"
REVIEWS = "/api/v1/reviews/"


def product_url(product) -> str:
    return f"{PRODUCTS}{product.pk}/"


def product_reviews_url(product) -> str:
    return f"{PRODUCTS}{product.pk}/reviews/"


def review_url(review) -> str:
    return f"{REVIEWS}{review.pk}/"


def rating_of(product) -> tuple[Decimal, int]:
    """Return the product's stored (rating_average, rating_count), read fresh from the database."""
    return Product.objects.values_list("rating_average", "rating_count").get(pk=product.pk)


def warm(client, *urls) -> None:
    """Read each URL until it is cached, and check that it is."""
    for url in urls:
        client.get(url)
        assert client.get(url)["X-Cache"] == "HIT", url


def review_by_each(product, ratings) -> list[Review]:
    """Have a new customer review `product` for each rating."""
    return [ReviewFactory(product=product, rating=rating) for rating in ratings]


@pytest.fixture
def review(customer, product):
    return ReviewFactory(product=product, customer=customer, rating=4, comment="Bright enough to read by.")


# --- The model and its manager ---------------------------------------------------------------


class TestReviewRules:
    @pytest.mark.parametrize("rating", [0, 6])
    def test_the_database_refuses_to_create_a_rating_outside_1_to_5(self, customer, product, rating):
        with pytest.raises(IntegrityError, match="review_rating_1_to_5"), transaction.atomic():
            Review.objects.create(product=product, customer=customer, rating=rating)
        assert not Review.objects.exists()

    @pytest.mark.parametrize("rating", [0, 6])
    def test_the_database_refuses_to_update_a_rating_outside_1_to_5(self, review, rating):
        with pytest.raises(IntegrityError, match="review_rating_1_to_5"), transaction.atomic():
            Review.objects.filter(pk=review.pk).update(rating=rating)
        assert Review.objects.get(pk=review.pk).rating == 4

    def test_the_database_refuses_a_second_review_by_the_same_customer(self, review):
        with pytest.raises(IntegrityError), transaction.atomic():
            Review.objects.create(product=review.product, customer=review.customer, rating=5)
        assert Review.objects.count() == 1

    def test_a_customer_reviews_many_products_and_a_product_has_many_reviewers(self, review, other_customer):
        ReviewFactory(product=review.product, customer=other_customer)
        ReviewFactory(product=ProductFactory(), customer=review.customer)
        assert Review.objects.count() == 3

    def test_post_publishes_an_unverified_review(self, customer, product):
        posted = Review.objects.post(product=product, customer=customer, rating=5, comment="Lovely.")

        posted.refresh_from_db()
        assert (posted.product, posted.customer, posted.rating, posted.comment) == (product, customer, 5, "Lovely.")
        assert posted.verified_purchase is False  # no orders yet

    def test_post_refuses_a_second_review_as_already_reviewed(self, review):
        with pytest.raises(AlreadyReviewed) as refused:
            Review.objects.post(product=review.product, customer=review.customer, rating=1, comment="Changed my mind.")

        assert refused.value.status_code == 409
        assert refused.value.code == "already_reviewed"
        assert list(Review.objects.values_list("rating", "comment")) == [(4, "Bright enough to read by.")]
        assert rating_of(review.product) == (Decimal("4.00"), 1)

    def test_post_lets_other_integrity_errors_through(self, customer, product):
        with pytest.raises(IntegrityError, match="review_rating_1_to_5"):
            Review.objects.post(product=product, customer=customer, rating=6)
        assert not Review.objects.exists()


class TestRatings:
    def test_refresh_ratings_computes_the_rounded_average_and_the_count(self):
        thirds_down, thirds_up, unreviewed = ProductFactory(), ProductFactory(), ProductFactory()
        customers = CustomerFactory.create_batch(3)
        # bulk_create sends no signals: the ratings move only when refresh_ratings runs.
        Review.objects.bulk_create(
            [Review(product=thirds_down, customer=c, rating=r) for c, r in zip(customers, [5, 4, 4], strict=True)]
            + [Review(product=thirds_up, customer=c, rating=r) for c, r in zip(customers, [5, 5, 4], strict=True)]
        )
        assert rating_of(thirds_down) == (Decimal("0.00"), 0)

        Product.objects.refresh_ratings([thirds_down.pk, thirds_up.pk, unreviewed.pk])

        assert rating_of(thirds_down) == (Decimal("4.33"), 3)  # 13 / 3
        assert rating_of(thirds_up) == (Decimal("4.67"), 3)  # 14 / 3: rounded, not truncated
        assert rating_of(unreviewed) == (Decimal("0.00"), 0)

    def test_the_database_holds_the_rounded_average(self, product):
        review_by_each(product, [5, 4, 4])

        # Filtering and `ordering=rating` run on the stored value, so it must be the 2-place one.
        assert Product.objects.filter(pk=product.pk, rating_average=Decimal("4.33")).exists()

    def test_ratings_follow_a_create_an_edit_and_a_delete(self, product):
        first = ReviewFactory(product=product, rating=5)
        assert rating_of(product) == (Decimal("5.00"), 1)

        second = ReviewFactory(product=product, rating=4)
        assert rating_of(product) == (Decimal("4.50"), 2)

        first.rating = 3
        first.save()
        assert rating_of(product) == (Decimal("3.50"), 2)

        second.delete()
        assert rating_of(product) == (Decimal("3.00"), 1)

    def test_ratings_reset_to_zero_when_the_last_review_goes(self, review):
        review.delete()
        assert rating_of(review.product) == (Decimal("0.00"), 0)

    def test_a_bulk_delete_of_reviews_refreshes_the_ratings(self, product):
        kept = ProductFactory()
        review_by_each(product, [5, 1])
        review_by_each(kept, [2])

        Review.objects.filter(product=product).delete()

        assert rating_of(product) == (Decimal("0.00"), 0)
        assert rating_of(kept) == (Decimal("2.00"), 1)

    def test_closing_a_customer_account_refreshes_the_ratings_of_their_reviews(self, customer, other_customer):
        shared, only_theirs = ProductFactory(), ProductFactory()
        ReviewFactory(product=shared, customer=customer, rating=1)
        ReviewFactory(product=shared, customer=other_customer, rating=5)
        ReviewFactory(product=only_theirs, customer=customer, rating=2)
        assert rating_of(shared) == (Decimal("3.00"), 2)

        customer.close_account()

        assert list(Review.objects.values_list("customer", flat=True)) == [other_customer.pk]
        assert rating_of(shared) == (Decimal("5.00"), 1)
        assert rating_of(only_theirs) == (Decimal("0.00"), 0)

    def test_deleting_a_product_takes_its_reviews_and_leaves_other_ratings_alone(self, product, customer):
        other = ProductFactory()
        ReviewFactory(product=product, customer=customer, rating=1)
        ReviewFactory(product=other, customer=customer, rating=5)

        product.delete()

        assert list(Review.objects.values_list("product", flat=True)) == [other.pk]
        assert rating_of(other) == (Decimal("5.00"), 1)

    def test_saving_a_stale_product_never_writes_its_rating_back(self, product):
        stale = Product.objects.get(pk=product.pk)
        review_by_each(product, [5, 4])

        stale.name = "Reading lamp"
        stale.rating_count = 99  # even a tampered instance cannot write these columns
        stale.save()

        assert Product.objects.get(pk=product.pk).name == "Reading lamp"
        assert rating_of(product) == (Decimal("4.50"), 2)


@requires_postgresql
@pytest.mark.django_db(transaction=True)
class TestReviewsUnderConcurrency:
    def test_customers_reviewing_at_the_same_instant_lose_no_update(self, product):
        customers = CustomerFactory.create_batch(12)
        ratings = [i % 5 + 1 for i in range(12)]  # 1..5, 1..5, 1, 2: mean 33 / 12 = 2.75

        def post(i):
            with transaction.atomic():
                Review.objects.post(product=product, customer=customers[i], rating=ratings[i])
            return "posted"

        assert race_n(12, post) == ["posted"] * 12
        assert Review.objects.filter(product=product).count() == 12
        assert rating_of(product) == (Decimal("2.75"), 12)

    def test_one_customer_racing_posts_gets_exactly_one_review(self, product, customer):
        def post(i):
            try:
                with transaction.atomic():
                    Review.objects.post(product=product, customer=customer, rating=i + 1)
                return "posted"
            except AlreadyReviewed:
                return "already_reviewed"

        outcomes = race_n(5, post)

        assert sorted(outcomes) == ["already_reviewed"] * 4 + ["posted"]
        kept = Review.objects.get(product=product, customer=customer)
        assert rating_of(product) == (Decimal(kept.rating), 1)


# --- The API: a product's reviews ---------------------------------------------------------------


class TestProductReviewsApi:
    def test_anyone_lists_a_products_reviews_newest_first_without_emails(self, api_client, product):
        ada = CustomerFactory(first_name="Ada", last_name="Lovelace", email="ada@example.com")
        grace = CustomerFactory(first_name="Grace", last_name="Hopper", email="grace@example.com")
        older = ReviewFactory(product=product, customer=ada, rating=5, comment="Perfect.")
        newer = ReviewFactory(product=product, customer=grace, rating=3, comment="Fine.")
        Review.objects.filter(pk=older.pk).update(created_at=timezone.now() - timedelta(days=1))
        ReviewFactory(customer=ada)  # another product's review

        response = api_client.get(product_reviews_url(product))

        assert response.status_code == 200
        body = response.json()
        assert (body["count"], body["next"], body["previous"]) == (2, None, None)
        assert result_ids(response) == [newer.pk, older.pk]
        assert [row["author"] for row in body["results"]] == ["Grace H.", "Ada L."]
        assert body["results"][1] == {
            "id": older.pk,
            "product": product.pk,
            "author": "Ada L.",
            "rating": 5,
            "comment": "Perfect.",
            "verified_purchase": False,
            "created_at": body["results"][1]["created_at"],
            "updated_at": body["results"][1]["updated_at"],
        }
        assert b"@" not in response.content
        assert b"Lovelace" not in response.content

    def test_the_reviews_are_paginated(self, api_client, product):
        reviews = review_by_each(product, [5, 4, 3])

        first = api_client.get(product_reviews_url(product), {"page_size": 2}).json()
        second = api_client.get(first["next"]).json()

        assert first["count"] == 3
        assert len(first["results"]) == 2
        assert [row["id"] for row in first["results"] + second["results"]] == [r.pk for r in reversed(reviews)]
        assert second["next"] is None

    def test_the_author_is_the_first_name_alone_without_a_last_name(self, api_client, product):
        ReviewFactory(product=product, customer=CustomerFactory(first_name="Cher", last_name=""))
        assert api_client.get(product_reviews_url(product)).json()["results"][0]["author"] == "Cher"

    @pytest.mark.parametrize("which", ["inactive", "unknown"])
    def test_reviews_of_an_inactive_or_unknown_product_are_not_found(self, api_client, customer_client, which):
        hidden = ProductFactory(is_active=False)
        if which == "inactive":
            ReviewFactory(product=hidden)
            url = product_reviews_url(hidden)
        else:
            url = f"{PRODUCTS}424242/reviews/"

        assert_error(api_client.get(url), 404, "not_found")
        assert_error(customer_client.post(url, {"rating": 5}, format="json"), 404, "not_found")
        assert Review.objects.filter(product__is_active=False).count() == (1 if which == "inactive" else 0)

    def test_a_customer_posts_a_review(self, customer_client, customer, product):
        customer.first_name, customer.last_name = "Ada", "Lovelace"
        customer.save()

        response = customer_client.post(
            product_reviews_url(product), {"rating": 5, "comment": "Lights the whole desk."}, format="json"
        )

        assert response.status_code == 201, response.content
        body = response.json()
        posted = Review.objects.get()
        assert body["id"] == posted.pk
        assert (body["product"], body["author"], body["rating"]) == (product.pk, "Ada L.", 5)
        assert (body["comment"], body["verified_purchase"]) == ("Lights the whole desk.", False)
        assert (posted.customer, posted.product) == (customer, product)
        assert rating_of(product) == (Decimal("5.00"), 1)

    def test_the_product_and_verified_purchase_are_not_taken_from_a_posted_body(self, customer_client, product):
        elsewhere = ProductFactory()

        response = customer_client.post(
            product_reviews_url(product),
            {"rating": 4, "product": elsewhere.pk, "verified_purchase": True},
            format="json",
        )

        assert response.status_code == 201, response.content
        assert (response.json()["product"], response.json()["verified_purchase"]) == (product.pk, False)
        assert Review.objects.get().product == product

    def test_a_second_review_of_the_same_product_is_already_reviewed(self, customer_client, review):
        response = customer_client.post(product_reviews_url(review.product), {"rating": 1}, format="json")

        assert_error(response, 409, "already_reviewed")
        assert list(Review.objects.values_list("pk", "rating")) == [(review.pk, 4)]

    @pytest.mark.parametrize("rating", [0, 6, "abc", None])
    def test_a_rating_outside_1_to_5_is_a_validation_error(self, customer_client, product, rating):
        response = customer_client.post(product_reviews_url(product), {"rating": rating}, format="json")

        body = assert_error(response, 400, "validation_error")
        assert body["errors"]["rating"]
        assert not Review.objects.exists()

    def test_a_review_needs_a_rating(self, customer_client, product):
        response = customer_client.post(product_reviews_url(product), {"comment": "No stars."}, format="json")
        assert assert_error(response, 400, "validation_error")["errors"]["rating"]

    def test_anonymous_cannot_post_a_review(self, api_client, product):
        response = api_client.post(product_reviews_url(product), {"rating": 5}, format="json")

        assert_error(response, 401, "not_authenticated")
        assert not Review.objects.exists()

    def test_staff_without_a_customer_profile_cannot_post_a_review(self, staff_client, staff_user, product):
        for client in (staff_client, bearer_client(staff_user)):
            response = client.post(product_reviews_url(product), {"rating": 5}, format="json")
            assert_error(response, 403, "permission_denied")
        assert not Review.objects.exists()


# --- The API: one review -----------------------------------------------------------------------


class TestReviewApi:
    def test_anyone_reads_one_review(self, api_client, review):
        response = api_client.get(review_url(review))

        assert response.status_code == 200
        assert response.json()["id"] == review.pk
        assert (response.json()["rating"], response.json()["product"]) == (4, review.product_id)
        assert b"@" not in response.content

    def test_a_review_of_an_inactive_product_is_not_found(self, api_client, review):
        Product.objects.filter(pk=review.product_id).set_active(False)
        assert_error(api_client.get(review_url(review)), 404, "not_found")

    def test_the_author_edits_the_rating_and_the_product_follows(self, customer_client, review):
        ReviewFactory(product=review.product, rating=2)
        assert rating_of(review.product) == (Decimal("3.00"), 2)

        response = customer_client.patch(review_url(review), {"rating": 5, "comment": "Even better."}, format="json")

        assert response.status_code == 200, response.content
        assert (response.json()["rating"], response.json()["comment"]) == (5, "Even better.")
        assert rating_of(review.product) == (Decimal("3.50"), 2)

    def test_the_product_and_verified_purchase_are_read_only_in_a_patch(self, customer_client, review):
        elsewhere = ProductFactory()

        body = {"product": elsewhere.pk, "verified_purchase": True, "comment": "Edited."}
        response = customer_client.patch(review_url(review), body, format="json")

        assert response.status_code == 200, response.content
        review.refresh_from_db()
        assert (review.product_id, review.verified_purchase, review.comment) == (
            response.json()["product"],
            False,
            "Edited.",
        )
        assert review.product_id != elsewhere.pk
        assert rating_of(elsewhere) == (Decimal("0.00"), 0)

    def test_an_edit_to_a_rating_outside_1_to_5_is_a_validation_error(self, customer_client, review):
        response = customer_client.patch(review_url(review), {"rating": 6}, format="json")

        assert assert_error(response, 400, "validation_error")["errors"]["rating"]
        assert Review.objects.get(pk=review.pk).rating == 4

    def test_another_customer_can_neither_edit_nor_delete_a_review(self, other_customer_client, review):
        assert_error(other_customer_client.patch(review_url(review), {"rating": 1}, format="json"), 404, "not_found")
        assert_error(other_customer_client.delete(review_url(review)), 404, "not_found")

        review.refresh_from_db()
        assert review.rating == 4
        assert rating_of(review.product) == (Decimal("4.00"), 1)

    def test_anonymous_can_neither_edit_nor_delete_a_review(self, api_client, review):
        assert_error(api_client.patch(review_url(review), {"rating": 1}, format="json"), 401, "not_authenticated")
        assert_error(api_client.delete(review_url(review)), 401, "not_authenticated")
        assert Review.objects.get(pk=review.pk).rating == 4

    def test_the_author_deletes_their_review(self, customer_client, review):
        response = customer_client.delete(review_url(review))

        assert response.status_code == 204
        assert not Review.objects.exists()
        assert rating_of(review.product) == (Decimal("0.00"), 0)

    def test_staff_with_the_delete_permission_delete_anyones_review(self, staff_user, review):
        session_staff = APIClient()
        session_staff.force_authenticate(staff_user)
        other = ReviewFactory(product=review.product)

        assert session_staff.delete(review_url(review)).status_code == 204
        assert bearer_client(staff_user).delete(review_url(other)).status_code == 204

        assert not Review.objects.exists()
        assert rating_of(review.product) == (Decimal("0.00"), 0)

    def test_staff_without_the_delete_permission_get_not_found(self, staff_without_permissions, review):
        client = APIClient()
        client.force_authenticate(staff_without_permissions)

        assert_error(client.delete(review_url(review)), 404, "not_found")
        assert Review.objects.filter(pk=review.pk).exists()

    def test_staff_cannot_edit_someone_elses_review(self, staff_client, review):
        assert_error(staff_client.patch(review_url(review), {"rating": 1}, format="json"), 404, "not_found")
        assert Review.objects.get(pk=review.pk).rating == 4

    def test_put_is_not_allowed(self, customer_client, review):
        response = customer_client.put(review_url(review), {"rating": 1, "comment": ""}, format="json")

        assert_error(response, 405, "method_not_allowed")
        assert Review.objects.get(pk=review.pk).rating == 4


# --- The rating in the catalog -------------------------------------------------------------------


class TestRatingInTheCatalog:
    def test_a_product_shows_no_average_until_its_first_review(
        self, api_client, product, django_capture_on_commit_callbacks
    ):
        assert api_client.get(product_url(product)).json()["rating"] == {"average": None, "count": 0}

        with django_capture_on_commit_callbacks(execute=True):  # the cache moves on commit
            review_by_each(product, [5, 4])

        assert api_client.get(product_url(product)).json()["rating"] == {"average": "4.50", "count": 2}
        assert api_client.get(PRODUCTS).json()["results"][0]["rating"] == {"average": "4.50", "count": 2}

    def test_ordering_by_rating_puts_the_best_rated_first_and_breaks_ties_by_id(self, api_client):
        unrated = ProductFactory()
        three = ProductFactory()
        tie_low_id = ProductFactory()
        best = ProductFactory()
        tie_high_id = ProductFactory()
        unrated_later = ProductFactory()
        review_by_each(three, [3])
        review_by_each(tie_low_id, [4, 4])
        review_by_each(best, [5])
        review_by_each(tie_high_id, [5, 3])

        best_first = api_client.get(PRODUCTS, {"ordering": "-rating"})
        worst_first = api_client.get(PRODUCTS, {"ordering": "rating"})

        rated_best_first = [best.pk, tie_low_id.pk, tie_high_id.pk, three.pk]
        assert result_ids(best_first) == [*rated_best_first, unrated.pk, unrated_later.pk]
        # Where unrated products fall in ascending order is not specified; the rated ones climb.
        rated_ascending = [pk for pk in result_ids(worst_first) if pk in rated_best_first]
        assert rated_ascending == [three.pk, tie_low_id.pk, tie_high_id.pk, best.pk]

    def test_products_showing_the_same_average_tie_by_id(self, api_client):
        # 14 / 13 = 1.0769 and 13 / 12 = 1.0833: both are shown as "1.08", so they tie.
        shown_first, shown_second = ProductFactory(), ProductFactory()
        review_by_each(shown_first, [1] * 12 + [2])
        review_by_each(shown_second, [1] * 11 + [2])

        response = api_client.get(PRODUCTS, {"ordering": "-rating"})

        assert [row["rating"]["average"] for row in response.json()["results"]] == ["1.08", "1.08"]
        assert result_ids(response) == [shown_first.pk, shown_second.pk]

    @pytest.mark.parametrize("reviews", [0, 30])
    def test_the_product_list_runs_a_fixed_number_of_queries_whatever_the_reviews(
        self, api_client, staff_client, django_assert_num_queries, reviews
    ):
        products = ProductFactory.create_batch(3)
        for index in range(reviews):
            ReviewFactory(product=products[index % 3])

        # 1-2. the staff member's own and group permissions (inactive rows or not); 3. the page of
        # products JOIN category (the rating is read off the row); 4. their variants; 5. their images.
        # No COUNT(*): the first page is not full.
        with django_assert_num_queries(5):
            staff = staff_client.get(PRODUCTS, {"ordering": "-rating"})
        # The last three on a cache miss, for anyone.
        with django_assert_num_queries(3):
            public = api_client.get(PRODUCTS)

        assert (staff["X-Cache"], public["X-Cache"]) == ("BYPASS", "MISS")
        assert sum(row["rating"]["count"] for row in public.json()["results"]) == reviews

    @pytest.mark.parametrize("reviews", [2, 25])
    def test_the_review_list_runs_a_fixed_number_of_queries(
        self, api_client, product, django_assert_num_queries, reviews
    ):
        review_by_each(product, [index % 5 + 1 for index in range(reviews)])

        # 1. the active product; 2. the page of reviews JOIN customer; 3. COUNT(*) of its reviews,
        # only when the first page (20) is full.
        with django_assert_num_queries(2 + (reviews >= 20)):
            response = api_client.get(product_reviews_url(product))

        assert response.json()["count"] == reviews
        assert len(response.json()["results"]) == min(reviews, 20)

    def test_reading_one_review_runs_one_query(self, api_client, review, django_assert_num_queries):
        # The review JOIN product (to check it is active) JOIN customer (for the author).
        with django_assert_num_queries(1):
            assert api_client.get(review_url(review)).status_code == 200


# --- The cache ---------------------------------------------------------------------------------


class TestCachedCatalogFollowsReviews:
    def test_posting_a_review_invalidates_the_products_cached_reads(
        self, api_client, customer_client, product, django_capture_on_commit_callbacks
    ):
        runner_up = ProductFactory()
        review_by_each(runner_up, [3])
        best_first = f"{PRODUCTS}?ordering=-rating"
        warm(api_client, PRODUCTS, best_first, product_url(product))

        with django_capture_on_commit_callbacks(execute=True):
            posted = customer_client.post(product_reviews_url(product), {"rating": 5}, format="json")
        assert posted.status_code == 201, posted.content

        shown = api_client.get(product_url(product))
        listed = api_client.get(PRODUCTS)
        ordered = api_client.get(best_first)
        assert (shown["X-Cache"], listed["X-Cache"], ordered["X-Cache"]) == ("MISS", "MISS", "MISS")
        assert shown.json()["rating"] == {"average": "5.00", "count": 1}
        assert {row["id"]: row["rating"]["count"] for row in listed.json()["results"]} == {
            product.pk: 1,
            runner_up.pk: 1,
        }
        assert result_ids(ordered) == [product.pk, runner_up.pk]

    @pytest.mark.parametrize(
        ("write", "rating"),
        [("edit", {"average": "2.00", "count": 1}), ("delete", {"average": None, "count": 0})],
        ids=["edit", "delete"],
    )
    def test_editing_or_deleting_a_review_invalidates_the_products_cached_reads(
        self, api_client, customer_client, review, django_capture_on_commit_callbacks, write, rating
    ):
        product = review.product
        warm(api_client, PRODUCTS, product_url(product))

        with django_capture_on_commit_callbacks(execute=True):
            if write == "edit":
                response = customer_client.patch(review_url(review), {"rating": 2}, format="json")
            else:
                response = customer_client.delete(review_url(review))
        assert response.status_code in (200, 204), response.content

        shown = api_client.get(product_url(product))
        listed = api_client.get(PRODUCTS)
        assert (shown["X-Cache"], listed["X-Cache"]) == ("MISS", "MISS")
        assert shown.json()["rating"] == listed.json()["results"][0]["rating"] == rating

    def test_a_review_keeps_other_products_details_cached(
        self, api_client, customer_client, product, django_capture_on_commit_callbacks
    ):
        other = ProductFactory()
        warm(api_client, product_url(other))

        with django_capture_on_commit_callbacks(execute=True):
            assert customer_client.post(product_reviews_url(product), {"rating": 5}, format="json").status_code == 201

        assert api_client.get(product_url(other))["X-Cache"] == "HIT"

    def test_a_refused_review_keeps_the_cache(
        self, api_client, customer_client, review, django_capture_on_commit_callbacks
    ):
        warm(api_client, PRODUCTS, product_url(review.product))

        with django_capture_on_commit_callbacks(execute=True):
            response = customer_client.post(product_reviews_url(review.product), {"rating": 1}, format="json")
        assert response.status_code == 409

        assert api_client.get(product_url(review.product))["X-Cache"] == "HIT"
        assert api_client.get(PRODUCTS)["X-Cache"] == "HIT"
