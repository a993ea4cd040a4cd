"""The demo catalog for `seed_demo`: the category tree, and products with names, prices and
descriptions that fit their shelf, with their options, variants and extras, added in bulk inserts.

A product's price is drawn from its noun's range (`_demo_shelves.py`), cheap ones more
likely than dear ones, and ends as shop prices do (.99, .95, .00). Its description is put
together from its department's and shelf's sentences, their slots filled at random: no two
read quite alike, and the same seed gives the same words.

Most products come in one variant. Those of a kind with options (clothes in sizes and
colours, shoes in sizes, pizzas small or large) come in a variant per combination of the
values they offer, each with its own SKU ("CLO-0000042-M-NAVY"), stock, and price (the
product's, plus what a value adds: an XXL, a large pizza). Those of a kind with extras
offer some of them (extra cheese +1.50, up to 3 per line).
"""

import itertools
import math
import string
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cache

from django.conf import settings
from django.db.models import Max
from django.db.models.functions import Substr
from django.utils import timezone
from django.utils.text import slugify

from catalog.factories import CategoryFactory, unsaved_product
from catalog.managers import bulk_load
from catalog.models import Category, Extra, OptionValue, Product, ProductOption, Variant
from config.management.commands._demo_clock import Calendar
from config.management.commands._demo_shelves import DEPARTMENTS, Department, Kind, Option

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


@dataclass
class Draft:
    """An unsaved product and what goes with it: its options' values ({"Size": ["S", "M"]}), its variants'
    values, SKUs, prices and stock, in order, and its extras."""

    product: Product
    options: dict[str, list[str]]
    variants: list[tuple[dict[str, str], str, Decimal, int]]
    extras: list[Extra] = field(default_factory=list)


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
        """Add `count` products spread over the shelves, with their options, variants and extras, in bulk inserts.

        One round of inserts per batch of products: the products, their options, the
        options' values, the variants (whose bulk insert refreshes the batch's price ranges
        at once), the variants' values and the extras.
        They keep the time they were inserted: dating them again afterwards would cost, on
        PostgreSQL, about as much as inserting them (the UPDATE rewrites every index of the row).
        """
        first = self.next_sku_number()
        for start in range(0, count, BATCH_SIZE):
            numbers = range(first + start, first + min(start + BATCH_SIZE, count))
            with bulk_load():  # each batch's price ranges and search vectors: refreshed once, at its end
                self.insert([self.draft(number, self.rng.choice(shelves)) for number in numbers])
            self.stdout.write(f"products: {start + len(numbers):,}/{count:,}")

    def insert(self, drafts: list[Draft]) -> None:
        """Insert a batch of drafts: a handful of bulk inserts, whatever the batch's size."""
        Product.objects.bulk_create([draft.product for draft in drafts], batch_size=BATCH_SIZE)
        options = {}  # (draft index, option name) -> unsaved option
        for index, draft in enumerate(drafts):
            for position, name in enumerate(draft.options, 1):
                options[index, name] = ProductOption(product=draft.product, name=name, position=position)
        ProductOption.objects.bulk_create(options.values(), batch_size=BATCH_SIZE)
        values = {}  # (draft index, option name, value) -> unsaved value
        for index, draft in enumerate(drafts):
            for name, offered in draft.options.items():
                for position, value in enumerate(offered):
                    values[index, name, value] = OptionValue(
                        option=options[index, name], value=value, position=position
                    )
        OptionValue.objects.bulk_create(values.values(), batch_size=BATCH_SIZE)
        variants, chosen = [], []
        for index, draft in enumerate(drafts):
            for position, (named, sku, price, stock) in enumerate(draft.variants):
                picked = [values[index, name, value] for name, value in named.items()]
                combination = ".".join(str(pk) for pk in sorted(value.pk for value in picked))
                variants.append(
                    Variant(
                        product=draft.product, sku=sku, price=price, stock=stock, position=position,
                        combination=combination,
                    )
                )  # fmt: skip
                chosen.append(picked)
        Variant.objects.bulk_create(variants, batch_size=BATCH_SIZE)
        through = Variant.option_values.through
        Variant.option_values.through.objects.bulk_create(
            [
                through(variant_id=variant.pk, optionvalue_id=value.pk)
                for variant, picked in zip(variants, chosen, strict=True)
                for value in picked
            ],
            batch_size=BATCH_SIZE,
        )
        Extra.objects.bulk_create([extra for draft in drafts for extra in draft.extras], batch_size=BATCH_SIZE)

    def draft(self, number: int, shelf: Shelf) -> Draft:
        """Return the unsaved product for this shelf, named, priced and described from its kind, with its
        variants (one for each combination of the option values it offers) and extras."""
        department, kind, rng = shelf.department, shelf.kind, self.rng
        brand, noun = rng.choice(department.brands), rng.choice(shelf.nouns)
        name = department.name_format.format(brand=brand, adjective=rng.choice(department.adjectives), noun=noun)
        sku = f"{department.code}-{number:07d}"
        offered = {option.name: self.offer(option) for option in kind.options}
        price = self.price(*kind.nouns[noun])
        product = unsaved_product(
            sku=sku,
            name=name,
            description=self.describe(shelf, name, brand, offered.get("Colour")),
            category=shelf.category,
            is_active=rng.random() >= INACTIVE_SHARE,
        )
        surcharges = {option.name: option.surcharges for option in kind.options}
        variants = []
        for combination in itertools.product(*offered.values()):
            named = dict(zip(offered, combination, strict=True))
            extra = sum(surcharges[option].get(value, 0) for option, value in named.items())
            suffix = "".join(f"-{slugify(value).upper()}" for value in combination)
            variants.append((named, f"{sku}{suffix}", price + extra, self.stock()))
        draft = Draft(product, offered, variants)
        if kind.extras:
            least = min(kind.least_extras, len(kind.extras))
            picked = sorted(rng.sample(range(len(kind.extras)), rng.randint(least, len(kind.extras))))
            draft.extras = [
                Extra(
                    product=product,
                    name=kind.extras[index].name,
                    price=Decimal(kind.extras[index].price),
                    max_per_line=kind.extras[index].max_per_line,
                    position=position,
                )
                for position, index in enumerate(picked)
            ]
        return draft

    def offer(self, option: Option) -> list[str]:
        """Return the values of `option` one product offers, in the option's order."""
        if option.offered is None:
            return list(option.values)
        how_many = self.rng.randint(*option.offered)
        if option.run:
            first = self.rng.randrange(len(option.values) - how_many + 1)
            return list(option.values[first : first + how_many])
        return sorted(self.rng.sample(option.values, how_many), key=option.values.index)

    def describe(self, shelf: Shelf, name: str, brand: str, colours: list[str] | None = None) -> str:
        """Return a description: an opening about what it is for, two details of its kind, and a closing line.

        A product offered in colours says which ("Comes in navy, olive or stone.").
        """
        rng, department, kind = self.rng, shelf.department, shelf.kind
        known = {"name": name, "brand": brand}
        if colours:
            words = [colour.lower() for colour in colours]
            known["colour"] = words[0] if len(words) == 1 else f"{', '.join(words[:-1])} or {words[-1]}"
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
        """Return the number after the highest demo SKU, so a second run without --flush adds rather than clashes.

        A demo product's variants share its number: "CLO-0000042-M-NAVY", "CLO-0000042-L-NAVY".
        """
        demo_skus = Variant.objects.filter(sku__regex=r"^[A-Z]{3}-[0-9]{7}(-|$)")
        last = demo_skus.aggregate(last=Max(Substr("sku", 5, 7)))["last"]
        return int(last) + 1 if last else 1
