"""The places, people, codes and rhythms the demo shop is made of (used by `seed_demo`); its
catalog's words and prices are in `_demo_shelves.py`.

Tables only: how they are combined lives in the command and its helpers.
"""

from dataclasses import dataclass

from orders.status import DeliveryMethod, Status


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

# Reviews lean positive, as in most shops: rating -> weight, and short comments for each.
RATING_WEIGHTS = {5: 44, 4: 30, 3: 12, 2: 6, 1: 8}
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


@dataclass(frozen=True)
class DemoCode:
    """A discount code of the demo shop; its dates are days from today."""

    code: str
    kind: str
    value: str
    max_uses: int | None = None
    starts: int = -90
    ends: int | None = None
    is_active: bool = True


DISCOUNT_CODES = (
    DemoCode("WELCOME10", "percent", "10", max_uses=1000),
    DemoCode("SPRING5", "fixed", "5.00", starts=-30, ends=60),
    DemoCode("LOYAL15", "percent", "15", max_uses=500, starts=-14, ends=30),
    DemoCode("USEDUP", "fixed", "10.00", max_uses=3, starts=-60),  # the demo's orders use it up
    DemoCode("EXPIRED20", "percent", "20", starts=-120, ends=-30),
    DemoCode("PAUSED25", "percent", "25", max_uses=100, starts=-7, ends=30, is_active=False),
)

# When the shop's things happened. Orders are placed over the last ORDER_DAYS days (today
# included); the catalog opened CATALOG_DAYS before that; some customers signed up since.
ORDER_DAYS = 90
CATALOG_DAYS = 365
NEW_CUSTOMER_SHARE = 0.3
# How orders spread over those days: the first day takes this share of today's rate, the
# rate growing evenly in between; each day's rate varies by up to this much either way;
# and weights per weekday (Monday first) and per hour of the day (0 to 23), local time.
FIRST_DAY_SHARE = 0.55
DAILY_NOISE = 0.2
WEEKDAY_WEIGHTS = (0.9, 0.85, 0.9, 0.95, 1.1, 1.35, 1.3)
HOUR_WEIGHTS = (
    0.3, 0.15, 0.1, 0.08, 0.08, 0.12, 0.3, 0.6, 0.9, 1.0, 1.1, 1.2,
    1.5, 1.4, 1.1, 1.0, 1.0, 1.2, 1.5, 1.9, 2.1, 1.8, 1.2, 0.6,
)  # fmt: skip
# The shop is open now: besides the orders above, one order is caught at each of these
# statuses, placed this many minutes ago (from, to): its card payment not picked up by the
# worker yet; its payment met an outage and waits for the retry; confirmed; being prepared;
# on its way (home delivery).
IN_FLIGHT = (
    (Status.PENDING, 1, 15),
    (Status.PAYMENT_PROCESSING, 2, 30),
    (Status.CONFIRMED, 5, 55),
    (Status.IN_PROGRESS, 17 * 60, 30 * 60),
    (Status.SHIPPED, 48 * 60, 70 * 60),
)

# Where demo orders would end up given time (status: weight); how far each has got by now
# follows from when it was placed and how long each step takes (STEP_SECONDS).
ORDER_FATES = {Status.DELIVERED: 81, Status.CANCELLED: 12, Status.PAYMENT_FAILED: 7}
CANCELLED_FROM = {Status.PENDING: 3, Status.CONFIRMED: 4, Status.IN_PROGRESS: 2}  # how far it got first
DELIVERY_METHODS = {DeliveryMethod.HOME_DELIVERY: 60, DeliveryMethod.PICKUP: 25, DeliveryMethod.DRIVE_THRU: 15}
LINES_PER_ORDER = {1: 50, 2: 28, 3: 14, 4: 8}
QUANTITIES = {1: 75, 2: 18, 3: 7}

# How long after the step before it each step of an order comes: (shortest, longest) seconds.
MINUTE, HOUR, DAY = 60, 3600, 86400
STEP_SECONDS = {
    "payment starts": (2, 20),  # the worker picks a card payment up
    "gateway answers": (1, 4),  # a capture or a decline
    "gateway retried": (6, 15),  # an outage's timeout, then the worker's backoff
    Status.IN_PROGRESS: (HOUR, 16 * HOUR),  # staff start on a confirmed order
    Status.SHIPPED: (3 * HOUR, 30 * HOUR),
    "delivered": (21 * HOUR, 4 * DAY),  # after shipping
    "collected": (DAY, 3 * DAY),  # pickup and drive-thru, after it was ready
    f"cancelled when {Status.PENDING}": (MINUTE, 15 * MINUTE),
    f"cancelled when {Status.CONFIRMED}": (10 * MINUTE, 10 * HOUR),
    f"cancelled when {Status.IN_PROGRESS}": (30 * MINUTE, 8 * HOUR),
    "refunded": (DAY, 25 * DAY),  # after delivery
    "paid out": (2, MINUTE),  # a refund, by the worker
}
# Who cancels, and why (the note on the history entry).
CANCEL_NOTES = {
    "customer": ("Changed my mind.", "Ordered the wrong item.", "Found it cheaper elsewhere.", "No longer needed."),
    "staff": (
        "The customer asked us to cancel by phone.",
        "Damaged in the warehouse; the customer was told.",
        "The delivery address could not be verified.",
    ),
}

# Why staff refund a delivered order: some units sent back (returned to stock), or all of it.
RETURN_REASONS = [
    "Returned: the wrong size.",
    "Returned unopened within 30 days.",
    "Returned: not as described.",
    "Returned: ordered twice by mistake.",
]
FULL_REFUND_REASONS = [
    "Arrived damaged; the customer kept nothing.",
    "Lost in delivery.",
    "Goodwill refund after a late delivery.",
]
