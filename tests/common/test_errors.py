"""The exception handler turns every expected error into `{detail, code[, errors][, facts]}` (SPEC §5)."""

import json

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError
from django.db.models import ProtectedError
from django.http import Http404
from django.test import RequestFactory
from rest_framework import exceptions, status

from catalog.exceptions import InsufficientStock
from catalog.models import Category, Product
from common.errors import Conflict, DomainError, exception_handler, page_not_found, server_error

CONTEXT = {"view": None, "args": (), "kwargs": {}, "request": None}


class OutOfTea(DomainError):
    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_detail = "The shop has run out of tea."
    default_code = "out_of_tea"


def test_domain_error_answers_its_status_code_and_facts():
    response = exception_handler(OutOfTea(blend="assam", wanted=3), CONTEXT)

    assert response.status_code == 422
    assert response.data == {
        "detail": "The shop has run out of tea.",
        "code": "out_of_tea",
        "blend": "assam",
        "wanted": 3,
    }


def test_domain_error_takes_a_specific_detail_and_code():
    response = exception_handler(OutOfTea("No Assam left.", code="assam_sold_out"), CONTEXT)

    assert response.data == {"detail": "No Assam left.", "code": "assam_sold_out"}


def test_conflict_answers_409():
    response = exception_handler(Conflict(), CONTEXT)

    assert response.status_code == 409
    assert response.data["code"] == "conflict"


def test_insufficient_stock_names_each_short_line():
    lines = [{"variant": 12, "product": 7, "sku": "TEA-001", "requested": 5, "available": 2}]

    response = exception_handler(InsufficientStock(lines), CONTEXT)

    assert response.status_code == 409
    assert response.data["code"] == "insufficient_stock"
    assert response.data["lines"] == lines
    assert "TEA-001 (2 of 5)" in response.data["detail"]


def test_protected_error_is_a_conflict_counting_what_blocks_the_delete():
    blockers = [Product(pk=1), Product(pk=2), Category(pk=3)]

    response = exception_handler(ProtectedError("Cannot delete.", blockers), CONTEXT)

    assert response.status_code == 409
    assert response.data["code"] == "conflict"
    assert response.data["blocked_by"] == {"products": 2, "categories": 1}
    assert "2 products" in response.data["detail"]


def test_django_validation_error_with_a_message_dict_is_a_validation_error():
    exc = DjangoValidationError({"price": ["Too low."], "sku": ["Taken."]})

    response = exception_handler(exc, CONTEXT)

    assert response.status_code == 400
    assert response.data["code"] == "validation_error"
    assert response.data["errors"] == {"price": ["Too low."], "sku": ["Taken."]}
    assert response.data["detail"] == "price: Too low."


def test_django_validation_error_with_a_message_goes_under_non_field_errors():
    response = exception_handler(DjangoValidationError("Nothing to do."), CONTEXT)

    assert response.status_code == 400
    assert response.data["errors"] == {"non_field_errors": ["Nothing to do."]}
    assert response.data["detail"] == "Nothing to do."


def test_drf_validation_error_with_a_list_goes_under_non_field_errors():
    response = exception_handler(exceptions.ValidationError(["Pick one.", "Not both."]), CONTEXT)

    assert response.status_code == 400
    assert response.data == {
        "detail": "Pick one.",
        "code": "validation_error",
        "errors": {"non_field_errors": ["Pick one.", "Not both."]},
    }


def test_drf_validation_error_with_nested_fields_summarises_the_first_message():
    exc = exceptions.ValidationError({"items": [{"quantity": ["Must be at least 1."]}]})

    response = exception_handler(exc, CONTEXT)

    assert response.data["code"] == "validation_error"
    assert response.data["errors"] == {"items": [{"quantity": ["Must be at least 1."]}]}
    assert response.data["detail"] == "items: Must be at least 1."


def test_http404_is_not_found():
    response = exception_handler(Http404("No Product matches the given query."), CONTEXT)

    assert response.status_code == 404
    assert response.data["code"] == "not_found"
    assert response.data["detail"]


def test_django_permission_denied_is_permission_denied():
    response = exception_handler(DjangoPermissionDenied(), CONTEXT)

    assert response.status_code == 403
    assert response.data["code"] == "permission_denied"
    assert response.data["detail"]


def test_throttled_is_rate_limited_with_retry_after():
    response = exception_handler(exceptions.Throttled(wait=30), CONTEXT)

    assert response.status_code == 429
    assert response.data["code"] == "rate_limited"
    assert response.data["detail"]
    assert response["Retry-After"] == "30"


def test_not_authenticated_keeps_its_code():
    response = exception_handler(exceptions.NotAuthenticated(), CONTEXT)

    assert response.status_code == 401
    assert response.data == {"detail": "Authentication credentials were not provided.", "code": "not_authenticated"}


def test_method_not_allowed_keeps_its_code():
    response = exception_handler(exceptions.MethodNotAllowed("PATCH"), CONTEXT)

    assert response.status_code == 405
    assert response.data["code"] == "method_not_allowed"


def test_integrity_error_is_a_conflict():
    exc = IntegrityError('duplicate key value violates unique constraint "catalog_product_sku_key"')

    response = exception_handler(exc, CONTEXT)

    assert response.status_code == 409
    assert response.data["code"] == "conflict"
    # The database's own message may name tables and constraints: it stays in the log.
    assert "catalog_product" not in response.data["detail"]


def test_unexpected_exception_is_left_to_django():
    assert exception_handler(ValueError("boom"), CONTEXT) is None


def test_unknown_api_url_answers_the_json_error_body():
    response = page_not_found(RequestFactory().get("/api/v1/anything/"), Http404())

    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert json.loads(response.content) == {"detail": "Not found.", "code": "not_found"}


def test_api_server_error_answers_the_json_error_body_without_a_traceback():
    response = server_error(RequestFactory().get("/api/v1/anything/"))

    assert response.status_code == 500
    assert response["Content-Type"] == "application/json"
    assert json.loads(response.content) == {"detail": "A server error occurred.", "code": "server_error"}


def test_pages_outside_the_api_keep_django_error_pages():
    response = page_not_found(RequestFactory().get("/shop/nowhere/"), Http404())

    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")
