"""Fill the database with a demo shop: a category tree, products and a staff login (SPEC §9)."""

import math
import random
import time
from dataclasses import dataclass
from decimal import Decimal

import factory.random
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.db.models import Max
from django.db.models.functions import Substr
from faker import Faker

from catalog import cache
from catalog.factories import CategoryFactory, ProductFactory
from catalog.models import Category, Product

BATCH_SIZE = 5_000
DESCRIPTION_POOL = 300
SOLD_OUT_SHARE = 0.05
LOW_STOCK_SHARE = 0.07
INACTIVE_SHARE = 0.03
CENTS = ("99", "99", "95", "49", "00")  # .99 twice: the ending shops use most
STAFF_USERNAME = "admin"
STAFF_PASSWORD = "admin"

# Dependents first: PROTECT refuses to delete a row something still points at.
FLUSH_ORDER = [Product, Category]


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


class Command(BaseCommand):
    help = "Fill the database with a demo shop: categories, products and a staff login."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--products", type=int, default=200, help="How many products to add (default 200).")
        parser.add_argument("--seed", type=int, help="Random seed; the same seed gives the same data.")
        emptiness = parser.add_mutually_exclusive_group()
        emptiness.add_argument("--flush", action="store_true", help="Delete the catalog first.")
        emptiness.add_argument("--if-empty", action="store_true", help="Do nothing when any product exists.")

    def handle(self, *args, **options) -> None:
        if options["products"] < 0:
            raise CommandError("--products cannot be negative.")
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

        self.stdout.write(
            self.style.SUCCESS(
                f"Catalog: {Category.objects.count():,} categories, {Product.objects.count():,} products "
                f"({time.monotonic() - started:.1f} s, seed {seed})."
            )
        )

    def flush(self) -> None:
        """Empty the demo's tables with one DELETE each: per-row delete signals would crawl at 100,000 rows."""
        with connection.cursor() as cursor:
            for model in FLUSH_ORDER:
                cursor.execute(f"DELETE FROM {connection.ops.quote_name(model._meta.db_table)}")
        # The DELETEs sent no signals; category data is in every cached catalog read.
        cache.invalidate_categories()
        self.stdout.write("Flushed the catalog.")

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

    def seed_staff_login(self) -> bool:
        """Create the demo superuser unless it exists; return whether it was created."""
        users = get_user_model().objects
        if users.filter(username=STAFF_USERNAME).exists():
            return False
        users.create_superuser(STAFF_USERNAME, f"{STAFF_USERNAME}@example.com", STAFF_PASSWORD)
        return True
