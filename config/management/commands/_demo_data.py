"""The places, people and codes the demo shop is made of (used by `seed_demo`); its
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

# When the shop's things happened. Orders come within the last ORDER_DAYS days (today
# included); the catalog opened CATALOG_DAYS before that; some customers signed up since.
ORDER_DAYS = 90
CATALOG_DAYS = 365
NEW_CUSTOMER_SHARE = 0.3

# Where demo orders end up (status: weight): most delivered, as in a shop that has run a while.
ORDER_OUTCOMES = {
    Status.DELIVERED: 45,
    Status.SHIPPED: 10,
    Status.IN_PROGRESS: 8,
    Status.CONFIRMED: 8,
    Status.PENDING: 6,
    Status.PAYMENT_PROCESSING: 4,
    Status.PAYMENT_FAILED: 7,
    Status.CANCELLED: 12,
}
CANCELLED_FROM = {Status.PENDING: 3, Status.CONFIRMED: 4, Status.IN_PROGRESS: 2}  # how far it got first
DELIVERY_METHODS = {DeliveryMethod.HOME_DELIVERY: 60, DeliveryMethod.PICKUP: 25, DeliveryMethod.DRIVE_THRU: 15}
LINES_PER_ORDER = {1: 50, 2: 28, 3: 14, 4: 8}
QUANTITIES = {1: 75, 2: 18, 3: 7}

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
