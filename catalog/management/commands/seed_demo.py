"""Fill the database with a demo shop (SPEC §9): a category tree, products, customers with
addresses and logins, their reviews, and a staff login."""

import math
import random
import time
import unicodedata
from dataclasses import dataclass
from decimal import Decimal

import factory
import factory.random
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.db.models import Max
from django.db.models.functions import Lower, Substr
from faker import Faker

from catalog import cache
from catalog.factories import CategoryFactory, ProductFactory, ReviewFactory
from catalog.models import Category, Product, Review
from customers.factories import PASSWORD as CUSTOMER_PASSWORD
from customers.factories import AddressFactory, CustomerFactory, UserFactory
from customers.models import Address, Customer

BATCH_SIZE = 5_000
DESCRIPTION_POOL = 300
SOLD_OUT_SHARE = 0.05
LOW_STOCK_SHARE = 0.07
INACTIVE_SHARE = 0.03
CENTS = ("99", "99", "95", "49", "00")  # .99 twice: the ending shops use most
STAFF_USERNAME = "admin"
STAFF_PASSWORD = "admin"

User = get_user_model()

# Dependents first: PROTECT refuses to delete a row something still points at. Of the
# users, only customers' logins go (see `flushed_rows`), never staff; they go just before
# the customers naming them, which the foreign-key checks, deferred to commit, allow.
FLUSH_ORDER = [
    Review,
    Address,
    User.groups.through,
    User.user_permissions.through,
    User,
    Customer,
    Product,
    Category,
]


@dataclass(frozen=True)
class Department:
    """A top-level category: its SKU prefix, price range, the words of its product names, and its tree.

    `aisles` maps a sub-category name to its own sub-categories (a dict) or, for a leaf,
    to the nouns of the products on it.
    """

    code: str
    prices: tuple[int, int]
    brands: tuple[str, ...]
    adjectives: tuple[str, ...]
    aisles: dict
    name_format: str = "{brand} {adjective} {noun}"


@dataclass(frozen=True)
class Shelf:
    """A leaf category and the words its products are named with."""

    category: Category
    department: Department
    nouns: tuple[str, ...]


DEPARTMENTS = {
    "Electronics": Department(
        code="ELE",
        prices=(9, 2500),
        brands=("Voltra", "Nexwave", "Lumio", "Arcton", "Kestrel", "Sonique", "Pixelon", "Zentek"),
        adjectives=("Wireless", "Pro", "Compact", "Smart", "Portable", "Rugged", "Premium", "Lite", "Max"),
        aisles={
            "Phones & Tablets": {
                "Smartphones": ("Smartphone", "5G Smartphone", "Compact Phone", "Foldable Phone"),
                "Tablets": ("Tablet", "10-inch Tablet", "Drawing Tablet", "E-Reader"),
                "Phone Accessories": ("Phone Case", "Screen Protector", "USB-C Charger", "Power Bank", "Car Mount"),
            },
            "Computers": {
                "Laptops": ("Laptop", "Ultrabook", "Gaming Laptop", "Chromebook", "2-in-1 Laptop"),
                "Monitors": ("27-inch Monitor", "4K Monitor", "Curved Monitor", "Portable Monitor"),
                "Keyboards & Mice": ("Mechanical Keyboard", "Wireless Mouse", "Trackball", "Keyboard and Mouse Set"),
            },
            "Audio": {
                "Headphones": ("Over-Ear Headphones", "Earbuds", "Noise-Cancelling Headphones", "Sport Earphones"),
                "Speakers": ("Bluetooth Speaker", "Soundbar", "Bookshelf Speakers", "Smart Speaker"),
            },
        },
    ),
    "Home & Kitchen": Department(
        code="HOM",
        prices=(5, 900),
        brands=("Hearthly", "Copperleaf", "Nordvik", "Casa Bella", "Oakhurst", "Kitchenry"),
        adjectives=("Modern", "Classic", "Minimalist", "Scandinavian", "Rustic", "Everyday", "Deluxe"),
        aisles={
            "Kitchen": {
                "Cookware": ("Frying Pan", "Saucepan", "Dutch Oven", "Wok", "Stockpot"),
                "Small Appliances": ("Blender", "Toaster", "Electric Kettle", "Coffee Maker", "Air Fryer"),
                "Tableware": ("Dinner Plate Set", "Mug Set", "Glass Tumblers", "Cutlery Set", "Serving Bowl"),
            },
            "Furniture": ("Bookshelf", "Side Table", "Desk Chair", "Storage Bench", "Coffee Table"),
            "Bedding & Bath": ("Duvet Cover", "Pillow Set", "Bath Towel Set", "Throw Blanket", "Bath Mat"),
            "Lighting": ("Desk Lamp", "Floor Lamp", "LED Strip", "Pendant Light"),
        },
    ),
    "Books": Department(
        code="BOO",
        prices=(4, 60),
        brands=("Paperback", "Hardcover", "Illustrated Edition"),
        adjectives=("Silent", "Hidden", "Last", "Forgotten", "Golden", "Secret", "Midnight", "Distant", "Winter"),
        aisles={
            "Fiction": ("Garden", "River", "Kingdom", "Lighthouse", "Inheritance", "Orchard", "Voyage"),
            "Mystery & Thriller": ("Alibi", "Witness", "Cipher", "Vanishing", "Verdict", "Stranger"),
            "Science Fiction & Fantasy": ("Starship", "Dragon", "Colony", "Empire", "Signal", "Gate"),
            "Non-Fiction": ("Century", "Revolution", "Kitchen", "Mind", "Journey", "Life"),
            "Children's Books": ("Bear", "Moon", "Adventure", "Treehouse", "Fox", "Balloon"),
        },
        name_format="The {adjective} {noun} ({brand})",
    ),
    "Sports & Outdoors": Department(
        code="SPO",
        prices=(6, 1200),
        brands=("Summitline", "Trailcraft", "Peakform", "Aeroswift", "Northbound", "Riverstone"),
        adjectives=("Lightweight", "Pro", "All-Weather", "Trail", "Performance", "Adjustable", "Compact"),
        aisles={
            "Fitness": {
                "Yoga & Pilates": ("Yoga Mat", "Yoga Block", "Resistance Band", "Foam Roller"),
                "Strength Training": ("Dumbbell Set", "Kettlebell", "Pull-Up Bar", "Weight Bench"),
            },
            "Camping & Hiking": {
                "Tents": ("2-Person Tent", "4-Person Tent", "Ultralight Tent", "Camping Tarp"),
                "Backpacks": ("Hiking Backpack", "Daypack", "Hydration Pack", "Travel Backpack"),
            },
            "Cycling": ("Bike Helmet", "Bike Light Set", "Cycling Gloves", "Bike Lock", "Saddle Bag"),
        },
    ),
    "Clothing": Department(
        code="CLO",
        prices=(8, 300),
        brands=("Threadwell", "Marlowe & Co", "Urbanite", "Fernhill", "Bluecoast", "Kinfolk"),
        adjectives=("Classic", "Relaxed", "Slim", "Essential", "Vintage", "Lightweight", "Everyday", "Organic"),
        aisles={
            "Men's Clothing": ("T-Shirt", "Oxford Shirt", "Chinos", "Hoodie", "Denim Jacket", "Wool Sweater"),
            "Women's Clothing": ("Blouse", "Midi Dress", "Cardigan", "Jeans", "Trench Coat", "Knit Top"),
            "Shoes": ("Running Shoes", "Chelsea Boots", "Canvas Sneakers", "Hiking Boots", "Loafers"),
            "Accessories": ("Leather Belt", "Wool Scarf", "Beanie", "Sunglasses", "Canvas Tote"),
        },
    ),
}


@dataclass(frozen=True)
class Region:
    """Where demo customers live: the Faker locale of their names and streets, real cities
    with postal-code patterns, and mobile-number patterns that are valid E.164 numbers.

    In a pattern, `#` is any digit, `%` a digit from 2 to 9 and `?` a letter.
    """

    locale: str
    weight: int
    cities: dict[str, tuple[str, ...]]
    phones: tuple[str, ...]
    line2: tuple[str, ...]


@dataclass(frozen=True)
class Neighbours:
    """Names and streets of one region, drawn once: Faker per customer is the slow part of seeding."""

    first_names: list[str]
    last_names: list[str]
    streets: list[str]


REGIONS = {
    "US": Region(
        locale="en_US",
        weight=40,
        cities={
            "New York": ("100##", "112##"),
            "Chicago": ("606##",),
            "San Francisco": ("941##",),
            "Austin": ("787##",),
            "Seattle": ("981##",),
            "Boston": ("021##",),
            "Denver": ("802##",),
        },
        phones=("+1212%######", "+1312%######", "+1415%######", "+1512%######", "+1206%######", "+1617%######"),
        line2=("Apt. ###", "Suite ###", "Unit #?"),
    ),
    "GB": Region(
        locale="en_GB",
        weight=20,
        cities={
            "London": ("SW% #??", "E% #??", "NW% #??"),
            "Manchester": ("M% #??",),
            "Birmingham": ("B% #??",),
            "Leeds": ("LS% #??",),
            "Bristol": ("BS% #??",),
            "Edinburgh": ("EH% #??",),
        },
        phones=("+44740#######", "+44790#######"),
        line2=("Flat %", "Flat #?"),
    ),
    "DE": Region(
        locale="de_DE",
        weight=15,
        cities={
            "Berlin": ("10###", "12###", "13###"),
            "Hamburg": ("20###", "22###"),
            "München": ("80###", "81###"),
            "Köln": ("50###", "51###"),
            "Frankfurt am Main": ("60###",),
            "Leipzig": ("04###",),
        },
        phones=("+49151########", "+49160########", "+49170########", "+49176########"),
        line2=("%. OG", "Hinterhaus"),
    ),
    "FR": Region(
        locale="fr_FR",
        weight=15,
        cities={
            "Paris": ("7500%", "7501#"),
            "Lyon": ("6900%",),
            "Marseille": ("1300%",),
            "Toulouse": ("310##",),
            "Bordeaux": ("330##",),
            "Lille": ("590##",),
        },
        phones=("+3361#######", "+3362#######", "+3367#######", "+3375#######", "+3378#######"),
        line2=("Bâtiment ?", "Appartement ##"),
    ),
    "CA": Region(
        locale="en_CA",
        weight=10,
        cities={
            "Toronto": ("M%? #?#",),
            "Vancouver": ("V%? #?#",),
            "Montréal": ("H%? #?#",),
            "Calgary": ("T%? #?#",),
            "Ottawa": ("K%? #?#",),
        },
        phones=("+1416%######", "+1604%######", "+1514%######", "+1403%######", "+1613%######"),
        line2=("Unit ###", "Suite ###"),
    ),
}
POSTCODE_LETTERS = "ABEGHJLNPRSTWXYZ"  # used in both British and Canadian postal codes
EMAIL_DOMAINS = ("example.com", "example.org", "example.net")
ADDRESSES_PER_CUSTOMER = {1: 60, 2: 30, 3: 10}  # how many addresses: weight
ADDRESS_LABELS = ("Work", "Parents", "Holiday home", "Office")
LINE2_SHARE = 0.15
PEOPLE_POOL = 300  # Faker names and streets per region; combined at random they read as many more

# Reviews lean positive, as in most shops: rating -> weight, and short comments for each.
RATING_WEIGHTS = {5: 44, 4: 30, 3: 12, 2: 6, 1: 8}
NO_COMMENT_SHARE = 0.2
COMMENTS = {
    5: (
        "Excellent, exactly as described.",
        "Love it!",
        "Great quality for the price.",
        "Would buy again.",
        "Fast delivery and works perfectly.",
        "Best purchase this year.",
    ),
    4: (
        "Very good, minor quibbles.",
        "Does the job well.",
        "Good value.",
        "Happy with it overall.",
        "Solid, though the packaging could be better.",
    ),
    3: ("It's okay.", "Average quality.", "Does what it says, nothing more.", "Decent, but overpriced."),
    2: ("Disappointing.", "Not as pictured.", "Broke after a few weeks.", "Expected better quality."),
    1: ("Stopped working after two days.", "Would not recommend.", "Poor quality, returned it.", "Arrived damaged."),
}
RATINGS_CHUNK = 900  # products per refresh_ratings call: under SQLite's oldest limit on query parameters


class Command(BaseCommand):
    help = "Fill the database with a demo shop: categories, products, customers, reviews and a staff login."

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
        parser.add_argument("--seed", type=int, help="Random seed; the same seed gives the same data.")
        emptiness = parser.add_mutually_exclusive_group()
        emptiness.add_argument(
            "--flush", action="store_true", help="Delete the catalog, the customers and their logins first."
        )
        emptiness.add_argument("--if-empty", action="store_true", help="Do nothing when any product exists.")

    def handle(self, *args, **options) -> None:
        for count in ("products", "customers", "reviews"):
            if options[count] < 0:
                raise CommandError(f"--{count} cannot be negative.")
        if options["if_empty"] and Product.objects.exists():
            self.stdout.write("The catalog already has products; nothing seeded.")
        else:
            self.seed_shop(options)
        # `make run` prints the login on every start, seeded or not.
        staff_created = self.seed_staff_login()
        login = f"{STAFF_USERNAME} / {STAFF_PASSWORD}" if staff_created else f"{STAFF_USERNAME} (password unchanged)"
        self.stdout.write(f"Staff login: {login} at http://127.0.0.1:8000/{settings.DJANGO_ADMIN_URL}")

    def seed_shop(self, options) -> None:
        """Seed every part of the demo shop in one transaction."""
        seed = options["seed"] if options["seed"] is not None else random.randrange(2**32)
        self.rng = random.Random(seed)
        factory.random.reseed_random(seed)
        started = time.monotonic()
        with transaction.atomic():
            if options["flush"]:
                self.flush()
            shelves = self.seed_categories()
            self.seed_products(options["products"], shelves)
            customers = self.seed_customers(options["customers"])
            self.seed_reviews(options["reviews"], customers)

        self.stdout.write(
            self.style.SUCCESS(
                f"Catalog: {Category.objects.count():,} categories, {Product.objects.count():,} products, "
                f"{Review.objects.count():,} reviews. Customers: {Customer.objects.count():,}, "
                f"with {Address.objects.count():,} addresses ({time.monotonic() - started:.1f} s, seed {seed})."
            )
        )
        if customers:
            self.stdout.write(
                f"Customer login: {customers[0].email} / {CUSTOMER_PASSWORD} (every seeded customer has this password)"
            )

    def flush(self) -> None:
        """Empty the demo's tables with one DELETE each: per-row delete signals would crawl at 100,000 rows."""
        with connection.cursor() as cursor:
            for model in FLUSH_ORDER:
                cursor.execute(*delete_statement(flushed_rows(model)))
        # The DELETEs sent no signals; category data is in every cached catalog read.
        cache.invalidate_categories()
        self.stdout.write("Flushed the catalog, the customers and their logins.")

    def seed_categories(self) -> list[Shelf]:
        """Create the category tree, reusing categories that exist; return its leaves."""
        shelves = []
        for name, department in DEPARTMENTS.items():
            shelves += self.seed_aisles(CategoryFactory(name=name), department, department.aisles)
        self.stdout.write(f"categories: {Category.objects.count():,}")
        return shelves

    def seed_aisles(self, parent: Category, department: Department, aisles: dict) -> list[Shelf]:
        """Create the sub-categories under `parent`, depth first; return the leaves."""
        shelves = []
        for name, contents in aisles.items():
            category = CategoryFactory(name=name, parent=parent)
            if isinstance(contents, dict):
                shelves += self.seed_aisles(category, department, contents)
            else:
                shelves.append(Shelf(category, department, contents))
        return shelves

    def seed_products(self, count: int, shelves: list[Shelf]) -> None:
        """Add `count` products spread over the shelves, in bulk inserts."""
        fake = Faker()
        fake.seed_instance(self.rng.getrandbits(32))
        # Faker per product is the slow part of seeding; a pool of descriptions reads just as well.
        descriptions = [fake.paragraph(nb_sentences=3) for _ in range(DESCRIPTION_POOL)]
        first = self.next_sku_number()
        for start in range(0, count, BATCH_SIZE):
            numbers = range(first + start, first + min(start + BATCH_SIZE, count))
            batch = [self.build_product(number, self.rng.choice(shelves), descriptions) for number in numbers]
            Product.objects.bulk_create(batch, batch_size=BATCH_SIZE)
            self.stdout.write(f"products: {start + len(batch):,}/{count:,}")

    def build_product(self, number: int, shelf: Shelf, descriptions: list[str]) -> Product:
        """Return an unsaved product for this shelf, named from its department's words."""
        department, rng = shelf.department, self.rng
        name = department.name_format.format(
            brand=rng.choice(department.brands),
            adjective=rng.choice(department.adjectives),
            noun=rng.choice(shelf.nouns),
        )
        return ProductFactory.build(
            sku=f"{department.code}-{number:07d}",
            name=name,
            description=rng.choice(descriptions),
            category=shelf.category,
            price=self.price(*department.prices),
            stock=self.stock(),
            is_active=rng.random() >= INACTIVE_SHARE,
        )

    def price(self, low: int, high: int) -> Decimal:
        """Return a shop-like price, cheap items more common than dear ones (log-uniform)."""
        units = int(math.exp(self.rng.uniform(math.log(low), math.log(high))))
        return Decimal(f"{units}.{self.rng.choice(CENTS)}")

    def stock(self) -> int:
        """Return a stock count: mostly plenty, some low, a few sold out."""
        threshold, roll = settings.LOW_STOCK_THRESHOLD, self.rng.random()
        if roll < SOLD_OUT_SHARE:
            return 0
        if roll < SOLD_OUT_SHARE + LOW_STOCK_SHARE:
            return self.rng.randint(1, threshold)
        return self.rng.randint(threshold + 1, 250)

    def next_sku_number(self) -> int:
        """Return the number after the highest demo SKU, so a second run without --flush adds rather than clashes."""
        demo_skus = Product.objects.filter(sku__regex=r"^[A-Z]{3}-[0-9]{7}$")
        last = demo_skus.aggregate(last=Max(Substr("sku", 5)))["last"]
        return int(last) + 1 if last else 1

    def seed_customers(self, count: int) -> list[Customer]:
        """Add `count` customers, each with a login and one to three addresses, in bulk inserts."""
        if not count:
            return []
        # Hashing is slow on purpose (about a third of a second), so every login shares one hash.
        password = make_password(CUSTOMER_PASSWORD)
        neighbours = {code: self.neighbours(region) for code, region in REGIONS.items()}
        weights = [region.weight for region in REGIONS.values()]
        taken = {username.lower() for username in User.objects.values_list("username", flat=True)}
        taken.update(Customer.objects.values_list(Lower("email"), flat=True))
        customers = []
        for start in range(0, count, BATCH_SIZE):
            batch, addresses = [], []
            for _ in range(min(BATCH_SIZE, count - start)):
                code = self.rng.choices(list(REGIONS), weights)[0]
                customer = self.build_customer(REGIONS[code], neighbours[code], password, taken)
                batch.append(customer)
                addresses += self.build_addresses(customer, code, REGIONS[code], neighbours[code])
            # bulk_create fills in the ids, and each row takes its parent's id when inserted.
            User.objects.bulk_create([customer.user for customer in batch], batch_size=BATCH_SIZE)
            customers += Customer.objects.bulk_create(batch, batch_size=BATCH_SIZE)
            Address.objects.bulk_create(addresses, batch_size=BATCH_SIZE)
            self.stdout.write(f"customers: {len(customers):,}/{count:,}")
        return customers

    def neighbours(self, region: Region) -> Neighbours:
        """Draw a region's pools of names and streets from Faker, seeded from the command's seed."""
        fake = Faker(region.locale)
        fake.seed_instance(self.rng.getrandbits(32))
        return Neighbours(
            first_names=[fake.first_name() for _ in range(PEOPLE_POOL)],
            last_names=[fake.last_name() for _ in range(PEOPLE_POOL)],
            # Some locales put a flat or building on a line of its own; line2 says that here.
            streets=[fake.street_address().splitlines()[-1] for _ in range(PEOPLE_POOL)],
        )

    def build_customer(self, region: Region, neighbours: Neighbours, password: str, taken: set[str]) -> Customer:
        """Return an unsaved customer of this region with an unsaved login whose password hash is `password`."""
        first_name, last_name = self.rng.choice(neighbours.first_names), self.rng.choice(neighbours.last_names)
        email = self.email(first_name, last_name, taken)
        user = UserFactory.build(
            username=email,
            email=email,
            first_name=first_name,
            last_name=last_name,
            password=factory.Transformer.Force(password),
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
        domain = self.rng.choice(EMAIL_DOMAINS)
        email, number = f"{local}@{domain}", 1
        while email in taken:
            number += 1
            email = f"{local}{number}@{domain}"
        taken.add(email)
        return email

    def build_addresses(self, customer: Customer, code: str, region: Region, neighbours: Neighbours) -> list:
        """Return one to three unsaved addresses in the customer's country; the first, Home, is the default."""
        rng = self.rng
        count = rng.choices(list(ADDRESSES_PER_CUSTOMER), list(ADDRESSES_PER_CUSTOMER.values()))[0]
        labels = ["Home", *rng.sample(ADDRESS_LABELS, count - 1)]
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
        draws["?"] = lambda: rng.choice(POSTCODE_LETTERS)
        return "".join(draws[char]() if char in draws else char for char in pattern)

    def seed_reviews(self, count: int, customers: list[Customer]) -> None:
        """Have the new customers review random active products, once per customer and product at most.

        Bulk inserts send no signals, so the reviewed products' ratings are refreshed once at the end.
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
            self.stdout.write(f"reviews: {start + len(batch):,}/{count:,}")
        reviewed = sorted({products[pick % len(products)].pk for pick in picks})
        for start in range(0, len(reviewed), RATINGS_CHUNK):
            Product.objects.refresh_ratings(reviewed[start : start + RATINGS_CHUNK])
        self.stdout.write(f"ratings: {len(reviewed):,} products")

    def build_review(self, customers: list[Customer], products: list[Product], pick: int) -> Review:
        """Return the unsaved review of pair number `pick`: rated mostly well, with a short comment or none."""
        rating = self.rng.choices(list(RATING_WEIGHTS), list(RATING_WEIGHTS.values()))[0]
        return ReviewFactory.build(
            customer=customers[pick // len(products)],
            product=products[pick % len(products)],
            rating=rating,
            comment="" if self.rng.random() < NO_COMMENT_SHARE else self.rng.choice(COMMENTS[rating]),
        )

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
