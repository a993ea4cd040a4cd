"""The demo catalog for `seed_demo`: the category tree, and products with names, prices and
descriptions that fit their shelf, added in bulk inserts.

A product's price is drawn from its noun's range (`_demo_shelves.py`), cheap ones more
likely than dear ones, and ends as shop prices do (.99, .95, .00). Its description is put
together from its department's and shelf's sentences, their slots filled at random: no two
read quite alike, and the same seed gives the same words.
"""

import math
import string
from dataclasses import dataclass
from decimal import Decimal
from functools import cache

from django.conf import settings
from django.db.models import Max
from django.db.models.functions import Substr
from django.utils import timezone

from catalog.factories import CategoryFactory, unsaved_product
from catalog.models import Category, Product
from config.management.commands._demo_clock import Calendar
from config.management.commands._demo_shelves import DEPARTMENTS, Department, Kind

BATCH_SIZE = 5_000
SOLD_OUT_SHARE = 0.05
LOW_STOCK_SHARE = 0.07
INACTIVE_SHARE = 0.03
CENTS = ("99", "99", "99", "95", "00")  # .99 three times: the ending shops use most
DETAILS_PER_DESCRIPTION = 2


@dataclass(frozen=True)
class Shelf:
    """A leaf category, its department, and the kind of products on it (with its slots' values)."""

    category: Category
    department: Department
    kind: Kind
    nouns: tuple[str, ...]
    fills: dict[str, tuple[str, ...]]


@cache
def slots(template: str) -> tuple[str, ...]:
    """Return the names of the slots in a sentence template."""
    return tuple(name for _, name, _, _ in string.Formatter().parse(template) if name)


class DemoCatalog:
    """Seeds the category tree and products with the command's random generator, reporting to its output."""

    def __init__(self, rng, stdout, calendar: Calendar) -> None:
        self.rng = rng
        self.stdout = stdout
        self.calendar = calendar

    def seed_categories(self) -> list[Shelf]:
        """Create the category tree, reusing categories that exist; return its leaves.

        The new ones are dated the day the catalog opened.
        """
        started = timezone.now()
        shelves = []
        for name, department in DEPARTMENTS.items():
            shelves += self.seed_aisles(CategoryFactory(name=name), department, department.aisles)
        opened = self.calendar.opened
        Category._base_manager.filter(created_at__gte=started).update(created_at=opened, updated_at=opened)
        self.stdout.write(f"categories: {Category.objects.count():,}")
        return shelves

    def seed_aisles(self, parent: Category, department: Department, aisles: dict) -> list[Shelf]:
        """Create the sub-categories under `parent`, depth first; return the leaves."""
        leaves = []
        for name, contents in aisles.items():
            category = CategoryFactory(name=name, parent=parent)
            if isinstance(contents, Kind):
                fills = {**department.fills, **contents.fills}
                leaves.append(Shelf(category, department, contents, tuple(contents.nouns), fills))
            else:
                leaves += self.seed_aisles(category, department, contents)
        return leaves

    def seed_products(self, count: int, shelves: list[Shelf]) -> None:
        """Add `count` products spread over the shelves, in bulk inserts.

        They keep the time they were inserted: dating them again afterwards would cost, on
        PostgreSQL, about as much as inserting them (the UPDATE rewrites every index of the row).
        """
        first = self.next_sku_number()
        for start in range(0, count, BATCH_SIZE):
            numbers = range(first + start, first + min(start + BATCH_SIZE, count))
            batch = [self.build_product(number, self.rng.choice(shelves)) for number in numbers]
            Product.objects.bulk_create(batch, batch_size=BATCH_SIZE)
            self.stdout.write(f"products: {start + len(batch):,}/{count:,}")

    def build_product(self, number: int, shelf: Shelf) -> Product:
        """Return an unsaved product for this shelf, named, priced and described from its kind."""
        department, rng = shelf.department, self.rng
        brand, noun = rng.choice(department.brands), rng.choice(shelf.nouns)
        name = department.name_format.format(brand=brand, adjective=rng.choice(department.adjectives), noun=noun)
        return unsaved_product(
            sku=f"{department.code}-{number:07d}",
            name=name,
            description=self.describe(shelf, name, brand),
            category=shelf.category,
            price=self.price(*shelf.kind.nouns[noun]),
            stock=self.stock(),
            is_active=rng.random() >= INACTIVE_SHARE,
        )

    def describe(self, shelf: Shelf, name: str, brand: str) -> str:
        """Return a description: an opening about what it is for, two details of its kind, and a closing line."""
        rng, department, kind = self.rng, shelf.department, shelf.kind
        known = {"name": name, "brand": brand}
        if kind.uses:
            known["use"] = rng.choice(kind.uses)
        sentences = [
            rng.choice(department.leads),
            *rng.sample(kind.details, min(DETAILS_PER_DESCRIPTION, len(kind.details))),
            rng.choice(department.closings),
        ]
        filled = (
            sentence.format_map(
                {slot: known[slot] if slot in known else rng.choice(shelf.fills[slot]) for slot in slots(sentence)}
            )
            for sentence in sentences
        )
        return " ".join(sentence[0].upper() + sentence[1:] for sentence in filled)

    def price(self, low: int, high: int) -> Decimal:
        """Return a price from `low` to `high` with a shop's ending: 7.99, 24.95, 149.00, 1,249.99.

        Cheap ones are as likely as dear ones in proportion (log-uniform); from 100 up the
        whole part ends in 9, from 1,000 up in 49 or 99.
        """
        units = int(math.exp(self.rng.uniform(math.log(low), math.log(high))))
        if units >= 1000:
            units = units // 50 * 50 + 49
        elif units >= 100:
            units = units // 10 * 10 + 9
        price = Decimal(f"{units}.{self.rng.choice(CENTS)}")
        return min(max(price, Decimal(f"{low}.00")), Decimal(high) - Decimal("0.01"))

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
