"""Who may do what with a customer's profile and addresses (SPEC §5): every endpoint, method and actor.

Another customer's object is a 404 (never a 403, never the data); staff act by Django
model permissions; refused writes change nothing.
"""

from dataclasses import dataclass

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from rest_framework.test import APIClient

from conftest import bearer_client
from customers.factories import AddressFactory, CustomerFactory
from customers.models import Address, Customer

pytestmark = pytest.mark.django_db

User = get_user_model()

ME_URL = "/api/v1/customers/me/"
CUSTOMERS_URL = "/api/v1/customers/"
ADDRESSES_URL = "/api/v1/addresses/"

ANONYMOUS, OWNER, OTHER, STAFF, BARE_STAFF = "anonymous", "owner", "other-customer", "staff", "staff-without-perms"
ACTORS = (ANONYMOUS, OWNER, OTHER, STAFF, BARE_STAFF)

# Expected status for each endpoint and method, by actor, in the order of ACTORS. "customer"
# and "address" are the owner's own objects; every customer-owned endpoint and method is here.
# fmt: off
MATRIX = {
    #                         anon owner other staff bare
    ("me", "get"):            (401, 200, 200, 404, 404),  # `other` gets their own profile; staff accounts have none
    ("me", "patch"):          (401, 200, 200, 404, 404),
    ("me", "delete"):         (401, 204, 204, 404, 404),  # closes (anonymises) the caller's own account
    ("customers", "get"):     (401, 403, 403, 200, 403),  # listing customers is a staff action
    ("customers", "post"):    (401, 403, 403, 201, 403),  # so is creating one
    ("customer", "get"):      (401, 200, 404, 200, 403),
    ("customer", "patch"):    (401, 200, 404, 200, 403),
    ("customer", "delete"):   (401, 403, 403, 204, 403),  # a staff action: the same 403 for every id
    ("addresses", "get"):     (401, 200, 200, 200, 403),  # `other` sees only their own
    ("addresses", "post"):    (401, 201, 201, 201, 403),  # `other` adds to their own book, whatever the body says
    ("address", "get"):       (401, 200, 404, 200, 403),
    ("address", "put"):       (401, 200, 404, 200, 403),
    ("address", "patch"):     (401, 200, 404, 200, 403),
    ("address", "delete"):    (401, 204, 404, 204, 403),
}
# fmt: on

LISTS = {"customers", "addresses"}

ERROR_CODES = {401: "not_authenticated", 403: "permission_denied", 404: "not_found"}

CASES = [
    pytest.param(endpoint, method, actor, status, id=f"{method.upper()} {endpoint} as {actor}")
    for (endpoint, method), statuses in MATRIX.items()
    for actor, status in zip(ACTORS, statuses, strict=True)
]


@dataclass
class World:
    owner: Customer
    owner_address: Address
    other: Customer
    other_address: Address
    clients: dict[str, APIClient]

    def url(self, endpoint: str) -> str:
        return {
            "me": ME_URL,
            "customers": CUSTOMERS_URL,
            "customer": f"{CUSTOMERS_URL}{self.owner.pk}/",
            "addresses": ADDRESSES_URL,
            "address": f"{ADDRESSES_URL}{self.owner_address.pk}/",
        }[endpoint]

    def payload(self, endpoint: str, method: str) -> dict | None:
        """Return a valid body for the write; address bodies name the owner (staff need it, customers cannot use it)."""
        address = {"line1": "9 New Street", "city": "Paris", "postal_code": "75001", "country": "FR"}
        return {
            ("me", "patch"): {"first_name": "Changed"},
            ("customers", "post"): {"email": "new@example.com", "first_name": "New", "last_name": "Customer"},
            ("customer", "patch"): {"first_name": "Changed"},
            ("addresses", "post"): {**address, "customer": self.owner.pk},
            ("address", "put"): {**address, "customer": self.owner.pk},
            ("address", "patch"): {"city": "Changed"},
        }.get((endpoint, method))

    def markers(self, name: str) -> tuple[bytes, ...]:
        """Return private values that show a customer's rows are in a response body."""
        customer, address = (self.owner, self.owner_address) if name == OWNER else (self.other, self.other_address)
        return (customer.email.encode(), str(customer.phone).encode(), address.line1.encode())

    def shown(self, response) -> set[str]:
        return {name for name in (OWNER, OTHER) if any(marker in response.content for marker in self.markers(name))}

    def rows(self, name: str) -> tuple:
        """Return everything stored for a customer: their login, profile and addresses."""
        customer = self.owner if name == OWNER else self.other
        return (
            list(User.objects.filter(pk=customer.user_id).values()),
            list(Customer.objects.filter(pk=customer.pk).values()),
            list(Address.objects.filter(customer_id=customer.pk).order_by("pk").values()),
        )


def everything() -> tuple:
    return (
        list(User.objects.order_by("pk").values()),
        list(Customer.objects.order_by("pk").values()),
        list(Address.objects.order_by("pk").values()),
    )


@pytest.fixture
def customers_staff(django_user_model):
    """A staff user holding exactly the customers app's model permissions (view, add, change, delete)."""
    user = django_user_model.objects.create_user(username="customer-service", is_staff=True)
    user.user_permissions.set(Permission.objects.filter(content_type__app_label="customers"))
    return user


def staff_client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def world(customers_staff, staff_without_permissions) -> World:
    owner = CustomerFactory(first_name="Ada", last_name="Lovelace", email="ada@owner.example", phone="+442071838750")
    other = CustomerFactory(first_name="Eve", last_name="Intruder", email="eve@other.example", phone="+14155550123")
    return World(
        owner=owner,
        owner_address=AddressFactory(customer=owner, line1="1 Owner Lane", is_default=True),
        other=other,
        other_address=AddressFactory(customer=other, line1="2 Other Road", is_default=True),
        clients={
            ANONYMOUS: APIClient(),
            OWNER: bearer_client(owner.user),
            OTHER: bearer_client(other.user),
            STAFF: staff_client_for(customers_staff),
            BARE_STAFF: staff_client_for(staff_without_permissions),
        },
    )


@pytest.mark.parametrize(("endpoint", "method", "actor", "expected"), CASES)
def test_access_matrix(world, endpoint, method, actor, expected):
    before = everything()
    before_rows = {name: world.rows(name) for name in (OWNER, OTHER)}

    client = world.clients[actor]
    response = getattr(client, method)(world.url(endpoint), world.payload(endpoint, method), format="json")

    assert response.status_code == expected, response.content
    changed = {name for name in (OWNER, OTHER) if world.rows(name) != before_rows[name]}
    if expected >= 400:
        body = response.json()
        assert (body["code"], bool(body["detail"])) == (ERROR_CODES[expected], True)
        assert everything() == before  # a refused request changes nothing
    if actor not in (OWNER, STAFF):
        assert OWNER not in world.shown(response)  # never the owner's data
        assert OWNER not in changed
    if method == "get" and expected == 200:
        visible = {OWNER: {OWNER}, OTHER: {OTHER}, STAFF: {OWNER, OTHER} if endpoint in LISTS else {OWNER}}
        assert world.shown(response) == visible[actor]
    if method != "get" and expected < 400:
        acted_on = {OWNER: {OWNER}, OTHER: {OTHER}, STAFF: set() if endpoint == "customers" else {OWNER}}
        assert changed == acted_on[actor]


def test_the_matrix_covers_every_method_each_route_allows(world):
    """The routes' own Allow headers list no method the matrix leaves out (nor the reverse)."""
    client = world.clients[STAFF]
    allowed = set()
    for endpoint in ("me", "customers", "customer", "addresses", "address"):
        methods = {method.strip().lower() for method in client.options(world.url(endpoint))["Allow"].split(",")}
        allowed |= {(endpoint, method) for method in methods - {"head", "options"}}

    assert allowed == set(MATRIX)


# --- What a refusal reveals --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "endpoint"),
    [
        ("get", "customer"),
        ("patch", "customer"),
        ("get", "address"),
        ("put", "address"),
        ("patch", "address"),
        ("delete", "address"),
    ],
)
def test_another_customers_object_answers_exactly_like_a_missing_one(world, method, endpoint):
    client = world.clients[OTHER]
    missing = {"customer": f"{CUSTOMERS_URL}999999/", "address": f"{ADDRESSES_URL}999999/"}[endpoint]
    payload = world.payload(endpoint, method)

    theirs = getattr(client, method)(world.url(endpoint), payload, format="json")
    nobodys = getattr(client, method)(missing, payload, format="json")

    assert (theirs.status_code, nobodys.status_code) == (404, 404)
    assert theirs.json() == nobodys.json()
    assert theirs.json()["code"] == "not_found"


@pytest.mark.parametrize("actor", [OWNER, OTHER])
def test_a_customer_is_refused_deleting_any_customer_id_alike(world, actor):
    client = world.clients[actor]

    own = client.delete(f"{CUSTOMERS_URL}{world.owner.pk}/")
    missing = client.delete(f"{CUSTOMERS_URL}999999/")

    assert (own.status_code, own.json()) == (missing.status_code, missing.json())
    assert own.json()["code"] == "permission_denied"
    assert Customer.objects.filter(pk=world.owner.pk).exists()


def test_another_customer_filtering_by_the_owner_sees_nothing(world):
    response = world.clients[OTHER].get(ADDRESSES_URL, {"customer": world.owner.pk})

    assert response.status_code == 200
    assert response.json()["results"] == []


def test_an_account_without_a_customer_profile_owns_nothing(world, plain_user):
    client = bearer_client(plain_user)

    assert client.get(ME_URL).status_code == 404
    assert client.get(world.url("customer")).status_code == 404
    assert client.get(world.url("address")).status_code == 404
    assert client.get(ADDRESSES_URL).json()["results"] == []
    assert client.get(CUSTOMERS_URL).status_code == 403


# --- Staff act by model permission, one action at a time --------------------------------------------


@pytest.fixture
def staff_holding(django_user_model):
    """Return a client for a staff user holding exactly the named customers permissions."""

    def make(*codenames: str) -> APIClient:
        user = django_user_model.objects.create_user(username="-".join(codenames) or "nothing", is_staff=True)
        granted = Permission.objects.filter(content_type__app_label="customers", codename__in=codenames)
        user.user_permissions.set(granted)
        return staff_client_for(user)

    return make


@pytest.mark.parametrize(
    ("codename", "allowed"),
    [
        ("view_address", {"get"}),
        ("change_address", {"put", "patch"}),
        ("delete_address", {"delete"}),
        ("view_customer", set()),  # the customer permissions do not open addresses
    ],
)
def test_staff_address_permissions_open_one_action_each(world, staff_holding, codename, allowed):
    client = staff_holding(codename)

    for method in ("get", "put", "patch", "delete"):
        before = everything()
        response = getattr(client, method)(world.url("address"), world.payload("address", method), format="json")

        expected = {"get": 200, "put": 200, "patch": 200, "delete": 204}[method] if method in allowed else 403
        assert response.status_code == expected, (method, response.content)
        if expected == 403:
            assert everything() == before


@pytest.mark.parametrize(
    ("codename", "allowed"),
    [
        ("view_customer", {"list", "get"}),
        ("add_customer", {"create"}),
        ("change_customer", {"patch"}),
        ("delete_customer", {"delete"}),
        ("view_address", set()),
    ],
)
def test_staff_customer_permissions_open_one_action_each(world, staff_holding, codename, allowed):
    client = staff_holding(codename)
    requests = {
        "list": ("get", CUSTOMERS_URL, 200),
        "create": ("post", CUSTOMERS_URL, 201),
        "get": ("get", world.url("customer"), 200),
        "patch": ("patch", world.url("customer"), 200),
        "delete": ("delete", world.url("customer"), 204),
    }

    for action, (method, url, success) in requests.items():
        endpoint = "customers" if url == CUSTOMERS_URL else "customer"
        response = getattr(client, method)(url, world.payload(endpoint, method), format="json")

        assert response.status_code == (success if action in allowed else 403), (action, response.content)
