"""The OpenAPI schema tells the truth about every operation (common/schema.py): errors, pages, access, search."""

import jsonschema
import pytest
from rest_framework import exceptions
from rest_framework.test import APIClient

from common.errors import error_body
from customers.api.serializers import token_for
from customers.factories import PASSWORD
from orders.factories import OrderFactory
from tests.utils import component_validator, openapi_schema, operations


@pytest.fixture(scope="module")
def schema() -> dict:
    return openapi_schema()


def query_parameters(operation: dict) -> list[str]:
    return [parameter["name"] for parameter in operation.get("parameters", []) if parameter["in"] == "query"]


def test_every_paginated_list_documents_the_invalid_page_404(schema):
    paginated = [
        (path, operation) for path, method, operation in operations(schema) if "page" in query_parameters(operation)
    ]

    assert len(paginated) >= 8
    for path, operation in paginated:
        not_found = operation["responses"].get("404")
        assert not_found is not None, path
        examples = not_found["content"]["application/json"]["examples"]
        assert any(example["value"]["detail"] == "Invalid page." for example in examples.values()), path


@pytest.mark.parametrize(
    "exc",
    [
        exceptions.ParseError("JSON parse error - Expecting value: line 1 column 1 (char 0)"),
        exceptions.ValidationError({"price": ["Ensure this value is greater than or equal to 0."]}),
        exceptions.ValidationError(["The request as a whole is wrong."]),
        exceptions.ValidationError({"items": [{}, {"quantity": ["Ensure this value is greater than or equal to 1."]}]}),
        exceptions.ValidationError({"shipping_address": {"country": ["Not a valid choice."]}}),
        exceptions.ValidationError({"extras": {"0": ["A valid integer is required."]}}),
    ],
    ids=["parse_error", "field", "non_field", "list_item", "nested_object", "list_index"],
)
def test_the_400_body_in_the_schema_matches_what_the_handler_sends(schema, exc):
    body = error_body(exc)

    component_validator(schema, "ValidationError").validate(body)


def test_a_body_with_an_unexpected_errors_shape_fails_the_schema(schema):
    with pytest.raises(jsonschema.ValidationError):
        component_validator(schema, "ValidationError").validate({"detail": "x", "code": "x", "errors": {"a": 3}})


def test_a_400_is_documented_without_requiring_errors(schema):
    assert "errors" not in schema["components"]["schemas"]["ValidationError"]["required"]


@pytest.mark.parametrize(
    ("path", "method"),
    [
        ("/api/v1/products/", "get"),
        ("/api/v1/products/{id}/", "get"),
        ("/api/v1/categories/", "get"),
        ("/api/v1/categories/{id}/", "get"),
        ("/api/v1/products/{product_pk}/reviews/", "get"),
        ("/api/v1/reviews/{id}/", "get"),
        ("/api/v1/auth/register/", "post"),
        ("/api/v1/auth/token/", "post"),
    ],
)
def test_operations_anyone_may_call_declare_the_empty_security_requirement(schema, path, method):
    operation = schema["paths"][path][method]

    assert {} in operation.get("security", [{}])  # no `security` at all: no credentials are read
    assert "403" not in operation["responses"]


@pytest.mark.parametrize(
    "path", ["/api/v1/", "/api/v1/auth/register/", "/api/v1/auth/token/", "/api/v1/auth/token/refresh/"]
)
def test_operations_that_read_no_credentials_declare_no_security(schema, path):
    (operation,) = schema["paths"][path].values()

    assert "security" not in operation


def test_public_reads_that_take_a_token_declare_it_and_anonymous_access(schema):
    security = schema["paths"]["/api/v1/products/"]["get"]["security"]

    assert {"jwtAuth": []} in security and {} in security


@pytest.mark.parametrize(
    ("path", "method"),
    [
        ("/api/v1/products/", "post"),
        ("/api/v1/products/{product_pk}/reviews/", "post"),
        ("/api/v1/orders/", "get"),
        ("/api/v1/customers/me/", "get"),
        ("/api/v1/discount-codes/", "get"),
        ("/api/v1/invoices/{id}/", "get"),
    ],
)
def test_operations_that_need_credentials_do_not_declare_anonymous_access(schema, path, method):
    operation = schema["paths"][path][method]

    assert {} not in operation["security"]
    assert {"401", "403"} <= set(operation["responses"])


def test_public_reads_document_the_401_of_a_bad_bearer_token(schema):
    assert "401" in schema["paths"]["/api/v1/products/"]["get"]["responses"]


def test_search_is_documented_exactly_where_a_view_searches(schema):
    searched = {path for path, method, operation in operations(schema) if "search" in query_parameters(operation)}

    assert {"/api/v1/products/", "/api/v1/categories/", "/api/v1/discount-codes/", "/api/v1/customers/"} <= searched
    assert not {"/api/v1/orders/", "/api/v1/invoices/", "/api/v1/addresses/"} & searched


def test_no_operation_documents_a_query_parameter_twice(schema):
    for path, method, operation in operations(schema):
        names = query_parameters(operation)
        assert len(names) == len(set(names)), (method, path)


def test_the_discount_code_conflicts_are_documented(schema):
    collection = schema["paths"]["/api/v1/discount-codes/"]
    detail = schema["paths"]["/api/v1/discount-codes/{id}/"]

    assert "409" in collection["post"]["responses"]
    assert "409" in detail["patch"]["responses"]
    deleted = detail["delete"]["responses"]["409"]["content"]["application/json"]["examples"]
    assert any("blocked_by" in example["value"] for example in deleted.values())


@pytest.mark.django_db
@pytest.mark.parametrize("page", ["99999", "abc"])
def test_a_page_past_the_last_answers_the_documented_404(api_client, schema, page):
    response = api_client.get("/api/v1/categories/", {"page": page})

    assert response.status_code == 404
    assert "404" in schema["paths"]["/api/v1/categories/"]["get"]["responses"]
    component_validator(schema, "Error").validate(response.json())
    assert response.json() == {"detail": "Invalid page.", "code": "not_found"}


def test_the_page_parameters_say_what_the_paginator_does(schema):
    parameters = {p["name"]: p for p in schema["paths"]["/api/v1/products/"]["get"]["parameters"]}

    assert "404" in parameters["page"]["description"]
    assert "at most 100" in parameters["page_size"]["description"]


@pytest.mark.django_db
def test_a_second_review_answers_the_documented_already_reviewed_409(schema, customer_client, product):
    url = f"/api/v1/products/{product.pk}/reviews/"
    customer_client.post(url, {"rating": 5, "comment": "Lovely."}, format="json")

    response = customer_client.post(url, {"rating": 1}, format="json")

    assert response.status_code == 409
    documented = schema["paths"]["/api/v1/products/{product_pk}/reviews/"]["post"]["responses"]["409"]
    example = documented["content"]["application/json"]["examples"]["AlreadyReviewed"]["value"]
    assert response.json() == example
    assert example["code"] == "already_reviewed"
    component_validator(schema, "Error").validate(response.json())


# --- Tags: one per resource ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "method", "tag"),
    [
        ("/api/v1/", "get", "api"),
        ("/api/v1/products/", "get", "products"),
        ("/api/v1/products/{id}/adjust-stock/", "post", "products"),
        ("/api/v1/categories/{id}/", "patch", "categories"),
        ("/api/v1/products/{product_pk}/reviews/", "post", "reviews"),
        ("/api/v1/reviews/{id}/", "get", "reviews"),
        ("/api/v1/customers/me/", "get", "customers"),
        ("/api/v1/addresses/", "post", "addresses"),
        ("/api/v1/auth/token/refresh/", "post", "auth"),
        ("/api/v1/orders/{id}/cancel/", "post", "orders"),
        ("/api/v1/orders/{id}/history/", "get", "orders"),
        ("/api/v1/orders/{id}/payments/", "get", "payments"),
        ("/api/v1/invoices/{id}/print/", "get", "invoices"),
        ("/api/v1/discount-codes/", "get", "discount-codes"),
        ("/health/ready/", "get", "health"),
    ],
)
def test_each_operation_is_tagged_with_its_resource(schema, path, method, tag):
    assert schema["paths"][path][method]["tags"] == [tag]


def test_every_operation_has_one_described_tag_and_every_described_tag_is_used(schema):
    described = [tag["name"] for tag in schema["tags"]]
    used = {operation["tags"][0] for _, _, operation in operations(schema)}

    assert all(len(operation["tags"]) == 1 for _, _, operation in operations(schema))
    assert "v1" not in used
    assert used == set(described), "describe each tag in SPECTACULAR_SETTINGS['TAGS']"
    assert all(tag["description"] for tag in schema["tags"])


def test_operation_ids_are_unique_and_start_after_the_version(schema):
    ids = [operation["operationId"] for _, _, operation in operations(schema)]

    assert len(ids) == len(set(ids))
    assert schema["paths"]["/api/v1/products/"]["get"]["operationId"] == "products_list"


# The one body that is a file: an image upload, which only multipart can carry.
MULTIPART_BODIES = {("/api/v1/products/{product_pk}/images/", "post")}


def test_request_bodies_are_documented_as_json_only_but_file_uploads(schema):
    bodies = [
        (path, method, operation["requestBody"])
        for path, method, operation in operations(schema)
        if "requestBody" in operation
    ]

    assert len(bodies) >= 20
    for path, method, body in bodies:
        expected = "multipart/form-data" if (path, method) in MULTIPART_BODIES else "application/json"
        assert list(body["content"]) == [expected], (method, path)


def test_an_image_upload_documents_its_file_as_binary(schema):
    body = schema["paths"]["/api/v1/products/{product_pk}/images/"]["post"]["requestBody"]
    component = body["content"]["multipart/form-data"]["schema"]["$ref"].rsplit("/", 1)[-1]
    properties = schema["components"]["schemas"][component]["properties"]

    assert properties["image"] == {**properties["image"], "type": "string", "format": "binary"}
    assert set(schema["components"]["schemas"][component]["required"]) == {"image", "alt_text"}


# --- Health probes: answered by a middleware, documented by a hook ---------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(("path", "component"), [("/health/live/", "Liveness"), ("/health/ready/", "Readiness")])
def test_the_health_probes_answer_what_the_schema_documents(schema, client, path, component):
    response = client.get(path)

    assert str(response.status_code) in schema["paths"][path]["get"]["responses"]
    component_validator(schema, component).validate(response.json())


@pytest.mark.django_db
def test_the_refreshed_token_answer_does_not_promise_a_refresh_token(schema, customer):
    refresh = str(token_for(customer.user))
    answer = APIClient().post("/api/v1/auth/token/refresh/", {"refresh": refresh}, format="json").json()
    reference = schema["paths"]["/api/v1/auth/token/refresh/"]["post"]["responses"]["200"]["content"]
    component = reference["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]

    component_validator(schema, component).validate(answer)
    assert set(answer) == {"access"}


@pytest.mark.django_db
def test_the_token_answer_matches_its_schema(schema, customer):
    body = {"email": customer.user.email, "password": PASSWORD}
    answer = APIClient().post("/api/v1/auth/token/", body, format="json").json()
    reference = schema["paths"]["/api/v1/auth/token/"]["post"]["responses"]["200"]["content"]
    component = reference["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]

    component_validator(schema, component).validate(answer)
    assert set(answer) == {"access", "refresh"}
    assert set(schema["components"]["schemas"][component]["required"]) == {"access", "refresh"}


def test_the_own_profile_documents_the_404_of_a_staff_only_account(schema):
    me = schema["paths"]["/api/v1/customers/me/"]

    assert {"404"} <= set(me["get"]["responses"]) & set(me["patch"]["responses"])


@pytest.mark.django_db
def test_an_order_without_a_discount_code_matches_its_schema(schema, customer_client, customer):
    order = OrderFactory(customer=customer)
    answer = customer_client.get(f"/api/v1/orders/{order.pk}/").json()

    assert answer["discount_code"] is None
    assert schema["components"]["schemas"]["Order"]["properties"]["discount_code"]["nullable"] is True
