"""Fill the database with a demo shop (SPEC §9): a category tree, products (in sizes and colours,
with extras, or simple), customers with addresses and logins, their reviews, discount codes,
orders in every status with their payments and invoices, and a staff login.

Everything but the products (inserted in bulk, dated when inserted) is dated as a shop that
has been running a while: its categories a year before the orders began, customers signed
up before they ordered or reviewed, and orders spread over the last 90 days
(`_demo_clock.py`)."""

import argparse
import random
import time
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta

import factory
import factory.random
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.db.models.functions import Lower
from django.urls import reverse
from django.utils import timezone
from faker import Faker

from billing.models import (
    CreditNote,
    CreditNoteSequence,
    Invoice,
    InvoiceSequence,
    Payment,
    PaymentAttempt,
    Refund,
    RefundLine,
)
from billing.tasks import messages_held_back
from catalog import cache
from catalog.factories import ReviewFactory
from catalog.models import Category, Extra, OptionValue, Product, ProductImage, ProductOption, Review, Variant
from config.management.commands import _demo_data as data
from config.management.commands._demo_catalog import DemoCatalog
from config.management.commands._demo_clock import Calendar
from config.management.commands._demo_images import seed_pictures
from config.management.commands._demo_orders import DemoOrders, orders_summary
from customers.factories import PASSWORD as CUSTOMER_PASSWORD
from customers.factories import AddressFactory, CustomerFactory, UserFactory
from customers.models import Address, Customer
from orders.models import DiscountCode, Order, OrderItem, OrderStatusEvent

BATCH_SIZE = 5_000
DATING_BATCH_SIZE = 500  # rows per UPDATE that dates customers, addresses and reviews (a CASE per row)
LINE2_SHARE = 0.15
PEOPLE_POOL = 300  # Faker names and streets per region; combined at random they read as many more
NO_COMMENT_SHARE = 0.2
RATINGS_CHUNK = 900  # products per refresh_ratings call: under SQLite's oldest limit on query parameters
STAFF_USERNAME = "admin"
STAFF_PASSWORD = "admin"

User = get_user_model()

# Dependents first: PROTECT refuses to delete a row something still points at. Of the
# users, only customers' logins go (see `flushed_rows`), never staff; they go just before
# the customers naming them, which the foreign-key checks, deferred to commit, allow.
FLUSH_ORDER = [
    CreditNote,
    CreditNoteSequence,
    RefundLine,
    Refund,
    PaymentAttempt,
    Payment,
    Invoice,
    InvoiceSequence,
    OrderStatusEvent,
    OrderItem,
    Order,
    DiscountCode,
    Review,
    Address,
    User.groups.through,
    User.user_permissions.through,
    User,
    Customer,
    ProductImage,  # the rows; their files stay in the media storage
    Extra,
    Variant.option_values.through,
    Variant,
    OptionValue,
    ProductOption,
    Product,
    Category,
]


@dataclass(frozen=True)
class Neighbours:
    """Names and streets of one region, drawn once: Faker per customer is the slow part of seeding."""

    first_names: list[str]
    last_names: list[str]
    streets: list[str]


class Command(BaseCommand):
    help = (
        "Fill the database with a demo shop: categories, products, customers, reviews, discount codes, "
        "orders with their payments and invoices, and a staff login."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--products", type=int, default=200, help="How many products to add (default 200).")
        parser.add_argument(
            "--customers", type=int, default=50, help="How many customers (with logins) to add (default 50)."
        )
        parser.add_argument(
            "--reviews",
            type=int,
            default=200,
            help="How many reviews the new customers write (default 200; at most one per customer and product).",
        )
        parser.add_argument(
            "--orders",
            type=int,
            default=100,
            help="How many orders the customers place, ending in every status (default 100; each is placed "
            "and moved through the real rules, so thousands take a while).",
        )
        parser.add_argument(
            "--pictures",
            type=int,
            default=60,
            help="How many products without a picture get a generated one (default 60, the first listed; "
            "about 0.1 s each: checked and thumbnailed like an upload).",
        )
        parser.add_argument(
            "--discount-codes",
            action=argparse.BooleanOptionalAction,
            default=True,
            help="Add the demo discount codes (WELCOME10, SPRING5, ...) that do not exist yet (default: yes).",
        )
        parser.add_argument("--seed", type=int, help="Random seed; the same seed gives the same data.")
        emptiness = parser.add_mutually_exclusive_group()
        emptiness.add_argument(
            "--flush",
            action="store_true",
            help="Delete the orders, payments, invoices, discount codes, catalog, customers and their logins first.",
        )
        emptiness.add_argument("--if-empty", action="store_true", help="Do nothing when any product exists.")

    def handle(self, *args, **options) -> None:
        for count in ("products", "customers", "reviews", "orders", "pictures"):
            if options[count] < 0:
                raise CommandError(f"--{count} cannot be negative.")
        # First, so that the demo's staff can be the ones who moved the orders along.
        staff_created = self.seed_staff_login()
        if options["if_empty"] and Product.objects.exists():
            self.stdout.write("The catalog already has products; nothing seeded.")
        else:
            self.seed_shop(options)
        # `make run` prints the login on every start, seeded or not.
        self.print_staff_login(staff_created)

    def seed_shop(self, options) -> None:
        """Seed every part of the demo shop in one transaction."""
        seed = options["seed"] if options["seed"] is not None else random.randrange(2**32)
        self.rng = random.Random(seed)
        factory.random.reseed_random(seed)
        started = time.monotonic()
        self.calendar = Calendar.at(self.shop_time())
        # The factories play the gateway: a queued charge, refund or email would do it again.
        with messages_held_back(), transaction.atomic():
            if options["flush"]:
                self.flush()
            catalog = DemoCatalog(self.rng, self.stdout, self.calendar)
            catalog.seed_products(options["products"], catalog.seed_categories())
            without_pictures = Product.objects.filter(images__isnull=True).select_related("category").order_by("pk")
            seed_pictures(list(without_pictures[: options["pictures"]]), self.stdout)
            customers = self.seed_customers(options["customers"])
            self.seed_reviews(options["reviews"], customers)
            orders = DemoOrders(self.rng, self.stdout, self.calendar)
            if options["discount_codes"]:
                orders.seed_discount_codes()
            staff = User.objects.filter(username=STAFF_USERNAME, is_staff=True).first()
            orders.seed_orders(options["orders"], customers, staff)

        self.stdout.write(
            self.style.SUCCESS(
                f"Catalog: {Category.objects.count():,} categories, {Product.objects.count():,} products "
                f"in {Variant.objects.count():,} variants, {Extra.objects.count():,} extras, "
                f"{Review.objects.count():,} reviews. Customers: {Customer.objects.count():,}, "
                f"with {Address.objects.count():,} addresses ({time.monotonic() - started:.1f} s, seed {seed})."
            )
        )
        self.stdout.write(self.style.SUCCESS(orders_summary()))
        if customers:
            self.stdout.write(
                f"Customer login: {customers[0].email} / {CUSTOMER_PASSWORD} (every seeded customer has this password)"
            )

    def shop_time(self) -> datetime:
        """Return the moment the demo shop is seeded at, to the minute: its orders, reviews and sign-ups come before it.

        The same seed in the same minute gives the same shop.
        """
        return timezone.now().replace(second=0, microsecond=0)

    def flush(self) -> None:
        """Empty the demo's tables with one DELETE each: per-row delete signals would crawl at 100,000 rows."""
        with connection.cursor() as cursor:
            for model in FLUSH_ORDER:
                cursor.execute(*delete_statement(flushed_rows(model)))
        # The DELETEs sent no signals; category data is in every cached catalog read.
        cache.invalidate_categories()
        self.stdout.write("Flushed the orders and billing, the catalog, the customers and their logins.")

    def seed_customers(self, count: int) -> list[Customer]:
        """Add `count` customers, each with a login and one to three addresses, in bulk inserts; return them,
        earliest sign-up first."""
        if not count:
            return []
        # Hashing is slow on purpose (about a third of a second), so every login shares one hash.
        password = make_password(CUSTOMER_PASSWORD)
        neighbours = {code: self.neighbours(region) for code, region in data.REGIONS.items()}
        weights = [region.weight for region in data.REGIONS.values()]
        taken = {username.lower() for username in User.objects.values_list("username", flat=True)}
        taken.update(Customer.objects.values_list(Lower("email"), flat=True))
        joined = self.sign_ups(count)
        customers = []
        for start in range(0, count, BATCH_SIZE):
            batch, addresses = [], []
            for when in joined[start : start + BATCH_SIZE]:
                code = self.rng.choices(list(data.REGIONS), weights)[0]
                customer = self.build_customer(data.REGIONS[code], neighbours[code], password, taken, when)
                batch.append(customer)
                addresses += self.build_addresses(customer, code, data.REGIONS[code], neighbours[code])
            # bulk_create fills in the ids, and each row takes its parent's id when inserted.
            User.objects.bulk_create([customer.user for customer in batch], batch_size=BATCH_SIZE)
            customers += Customer.objects.bulk_create(batch, batch_size=BATCH_SIZE)
            Address.objects.bulk_create(addresses, batch_size=BATCH_SIZE)
            # The inserts stamped them now; a customer and their addresses date from the sign-up.
            for customer in batch:
                customer.created_at = customer.updated_at = customer.user.date_joined
            for address in addresses:
                address.created_at = address.updated_at = address.customer.created_at
            for model, rows in ((Customer, batch), (Address, addresses)):
                model._base_manager.bulk_update(rows, ["created_at", "updated_at"], batch_size=DATING_BATCH_SIZE)
            self.stdout.write(f"customers: {len(customers):,}/{count:,}")
        return customers

    def sign_ups(self, count: int) -> list[datetime]:
        """Return when each new customer signed up, earliest first: most before the orders began, some since."""
        calendar, rng = self.calendar, self.rng
        recently = calendar.now - timedelta(hours=1)
        return sorted(
            calendar.between(rng, calendar.orders_from, recently)
            if rng.random() < data.NEW_CUSTOMER_SHARE
            else calendar.between(rng, calendar.opened, calendar.orders_from)
            for _ in range(count)
        )

    def neighbours(self, region: data.Region) -> Neighbours:
        """Draw a region's pools of names and streets from Faker, seeded from the command's seed."""
        fake = Faker(region.locale)
        fake.seed_instance(self.rng.getrandbits(32))
        return Neighbours(
            first_names=[fake.first_name() for _ in range(PEOPLE_POOL)],
            last_names=[fake.last_name() for _ in range(PEOPLE_POOL)],
            # Some locales put a flat or building on a line of its own; line2 says that here.
            streets=[fake.street_address().splitlines()[-1] for _ in range(PEOPLE_POOL)],
        )

    def build_customer(
        self, region: data.Region, neighbours: Neighbours, password: str, taken: set[str], joined: datetime
    ) -> Customer:
        """Return an unsaved customer of this region with an unsaved login, who signed up at `joined`, whose
        password hash is `password`."""
        first_name, last_name = self.rng.choice(neighbours.first_names), self.rng.choice(neighbours.last_names)
        email = self.email(first_name, last_name, taken)
        user = UserFactory.build(
            username=email,
            email=email,
            first_name=first_name,
            last_name=last_name,
            password=factory.Transformer.Force(password),
            date_joined=joined,
        )
        return CustomerFactory.build(
            user=user,
            first_name=first_name,
            last_name=last_name,
            email=email,
            phone=self.fill(self.rng.choice(region.phones)),
        )

    def email(self, first_name: str, last_name: str, taken: set[str]) -> str:
        """Return an email address made from the name that no user or customer has yet."""
        first, last = ascii_word(first_name), ascii_word(last_name)
        local = self.rng.choice(
            (f"{first}.{last}", f"{first}{last}", f"{first[0]}{last}", f"{first}.{last}{self.rng.randint(1, 99)}")
        )
        domain = self.rng.choice(data.EMAIL_DOMAINS)
        email, number = f"{local}@{domain}", 1
        while email in taken:
            number += 1
            email = f"{local}{number}@{domain}"
        taken.add(email)
        return email

    def build_addresses(self, customer: Customer, code: str, region: data.Region, neighbours: Neighbours) -> list:
        """Return one to three unsaved addresses in the customer's country; the first, Home, is the default."""
        rng = self.rng
        count = rng.choices(list(data.ADDRESSES_PER_CUSTOMER), list(data.ADDRESSES_PER_CUSTOMER.values()))[0]
        labels = ["Home", *rng.sample(data.ADDRESS_LABELS, count - 1)]
        addresses = []
        for label in labels:
            city, postcodes = rng.choice(list(region.cities.items()))
            addresses.append(
                AddressFactory.build(
                    customer=customer,
                    label=label,
                    line1=rng.choice(neighbours.streets),
                    line2=self.fill(rng.choice(region.line2)) if rng.random() < LINE2_SHARE else "",
                    city=city,
                    postal_code=self.fill(rng.choice(postcodes)),
                    country=code,
                    is_default=label == "Home",
                )
            )
        return addresses

    def fill(self, pattern: str) -> str:
        """Return `pattern` with each `#` a digit, each `%` a digit from 2 to 9 and each `?` a letter."""
        rng = self.rng
        draws = {"#": lambda: str(rng.randrange(10)), "%": lambda: str(rng.randint(2, 9))}
        draws["?"] = lambda: rng.choice(data.POSTCODE_LETTERS)
        return "".join(draws[char]() if char in draws else char for char in pattern)

    def seed_reviews(self, count: int, customers: list[Customer]) -> None:
        """Have the new customers review random active products, once per customer and product at most.

        Each is dated after its customer signed up. Bulk inserts send no signals, so the
        reviewed products' ratings are refreshed once at the end.
        """
        products = list(Product.objects.active().order_by("pk").only("pk"))
        possible = len(customers) * len(products)
        if count > possible:
            self.stdout.write(f"reviews: only {possible:,} possible (customers x active products)")
            count = possible
        if not count:
            return
        # Each pick is one (customer, product) pair, so sampling without replacement keeps them unique.
        picks = self.rng.sample(range(possible), count)
        for start in range(0, count, BATCH_SIZE):
            batch = [self.build_review(customers, products, pick) for pick in picks[start : start + BATCH_SIZE]]
            Review.objects.bulk_create(batch, batch_size=BATCH_SIZE)
            for review in batch:
                written = self.calendar.between(self.rng, review.customer.created_at, self.calendar.now)
                review.created_at = review.updated_at = written
            Review._base_manager.bulk_update(batch, ["created_at", "updated_at"], batch_size=DATING_BATCH_SIZE)
            self.stdout.write(f"reviews: {start + len(batch):,}/{count:,}")
        reviewed = sorted({products[pick % len(products)].pk for pick in picks})
        for start in range(0, len(reviewed), RATINGS_CHUNK):
            Product.objects.refresh_ratings(reviewed[start : start + RATINGS_CHUNK])
        self.stdout.write(f"ratings: {len(reviewed):,} products")

    def build_review(self, customers: list[Customer], products: list[Product], pick: int) -> Review:
        """Return the unsaved review of pair number `pick`: rated mostly well, with a short comment or none."""
        rating = self.rng.choices(list(data.RATING_WEIGHTS), list(data.RATING_WEIGHTS.values()))[0]
        return ReviewFactory.build(
            customer=customers[pick // len(products)],
            product=products[pick % len(products)],
            rating=rating,
            comment="" if self.rng.random() < NO_COMMENT_SHARE else self.rng.choice(data.COMMENTS[rating]),
        )

    def print_staff_login(self, created: bool) -> None:
        """Print the staff login: the username for the admin, the email for the API's token endpoint.

        The token endpoint reads an email (`POST /api/v1/auth/token/`, customers' login too),
        and a staff user signs in there with the email of their user.
        """
        email = User.objects.filter(username=STAFF_USERNAME).values_list("email", flat=True).first()
        password = f" / {STAFF_PASSWORD}" if created else " (password unchanged)"
        site = "http://127.0.0.1:8000"
        self.stdout.write(f"Staff login: {STAFF_USERNAME}{password} at {site}/{settings.DJANGO_ADMIN_URL}")
        if email:
            self.stdout.write(f"Staff API token: {email}{password} at POST {site}{reverse('auth-token')}")
        else:
            self.stdout.write(f"Staff API token: give {STAFF_USERNAME} an email first; the token endpoint reads one.")

    def seed_staff_login(self) -> bool:
        """Create the demo superuser unless it exists; return whether it was created."""
        users = get_user_model().objects
        if users.filter(username=STAFF_USERNAME).exists():
            return False
        users.create_superuser(STAFF_USERNAME, f"{STAFF_USERNAME}@example.com", STAFF_PASSWORD)
        return True


def ascii_word(text: str) -> str:
    """Return `text` as lowercase ASCII letters and digits, for an email address ("Jérôme" -> "jerome")."""
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    return "".join(char for char in folded if char.isalnum()) or "customer"


def flushed_rows(model):
    """Return the rows of `model` that --flush deletes: all of them, but of the users only customers' logins."""
    customer_logins = User._base_manager.filter(customer__isnull=False, is_staff=False, is_superuser=False)
    if model is User:
        return customer_logins
    if model in (User.groups.through, User.user_permissions.through):
        return model._base_manager.filter(user__in=customer_logins)
    return model._base_manager.all()


def delete_statement(rows) -> tuple[str, tuple]:
    """Return one DELETE for these rows: no per-row signals, no cascade collection."""
    quote = connection.ops.quote_name
    table = quote(rows.model._meta.db_table)
    if not rows.query.has_filters():
        return f"DELETE FROM {table}", ()
    chosen, params = rows.values("pk").query.sql_with_params()
    return f"DELETE FROM {table} WHERE {quote(rows.model._meta.pk.column)} IN ({chosen})", params
