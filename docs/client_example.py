"""Use the Python client generated from the schema (README, "The API: front door, docs, clients").

`make client-check` type-checks this file (mypy --strict) against the client it generates,
so the names a client relies on (tags, operation ids, models, parameters) cannot change
unnoticed.
"""

from shopkeep_client import AuthenticatedClient, Client
from shopkeep_client.api.api import root_retrieve
from shopkeep_client.api.auth import auth_token_create
from shopkeep_client.api.orders import orders_create
from shopkeep_client.api.products import products_list, products_retrieve
from shopkeep_client.models import (
    ApiRoot,
    DeliveryMethodEnum,
    EmailTokenObtainPairRequest,
    Order,
    OrderLineRequest,
    PaginatedProductList,
    PaymentMethodEnum,
    PlaceOrderRequest,
    ProductDetail,
    TokenPair,
)


def sign_in(base_url: str, email: str, password: str) -> AuthenticatedClient:
    """Exchange an email and password (a customer's, or a staff user's) for a client that sends the token."""
    tokens = auth_token_create.sync(
        client=Client(base_url=base_url), body=EmailTokenObtainPairRequest(email=email, password=password)
    )
    if not isinstance(tokens, TokenPair):
        raise RuntimeError(f"Sign-in refused: {tokens}")
    return AuthenticatedClient(base_url=base_url, token=tokens.access)


def collections(base_url: str) -> dict[str, str]:
    """Return the API's collections by name, from its root."""
    root = root_retrieve.sync(client=Client(base_url=base_url))
    if not isinstance(root, ApiRoot):
        raise RuntimeError(f"No API root: {root}")
    return root.resources.additional_properties


def buy_the_cheapest(client: AuthenticatedClient, idempotency_key: str) -> Order:
    """Place a cash pickup order for one unit of the cheapest product in stock, in its first variant in stock."""
    page = products_list.sync(client=client, in_stock=True, ordering="price", page_size=1)
    if not isinstance(page, PaginatedProductList) or not page.results:
        raise RuntimeError(f"Nothing to buy: {page}")
    product = products_retrieve.sync(page.results[0].id, client=client)
    if not isinstance(product, ProductDetail):
        raise RuntimeError(f"No such product: {product}")
    variant = next(variant for variant in product.variants if variant.in_stock)
    order = orders_create.sync(
        client=client,
        body=PlaceOrderRequest(
            items=[OrderLineRequest(variant=variant.id, quantity=1)],
            delivery_method=DeliveryMethodEnum.PICKUP,
            payment_method=PaymentMethodEnum.CASH,
        ),
        idempotency_key=idempotency_key,
    )
    if not isinstance(order, Order):
        raise RuntimeError(f"Order refused: {order}")
    return order
