"""The demo catalog's departments and shelves: what products are called, what they cost and
what their descriptions say (used by `seed_demo`).

Tables only: how they are combined lives in `_demo_catalog.py`. In a sentence, `{name}`,
`{brand}` and `{use}` are the product's own; any other slot is filled with one of the
values of that name, from the shelf's `fills` or else the department's. A sentence may
start with a slot: its first letter is made a capital.
"""

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Option:
    """A way the products of a kind vary (Size, Colour): its values in order, and how many a product offers.

    A product offers `offered` of the values (all when None): a run of neighbours for sizes
    (`run=True`), any few for colours, in the values' order. `surcharges` adds to the price
    of a variant with that value (whole units: an XL costs 2.00 more).
    """

    name: str
    values: tuple[str, ...]
    offered: tuple[int, int] | None = None  # fewest and most values a product offers
    run: bool = False
    surcharges: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class ExtraChoice:
    """An add-on a product of the kind may offer per order line: extra cheese, +1.50, up to 3 times."""

    name: str
    price: str
    max_per_line: int = 1


@dataclass(frozen=True)
class Kind:
    """The products of one leaf category: each noun with its price range, what they are for, sentences about them.

    With `options`, each product comes in a variant per combination of the values it offers
    (each its own SKU, price and stock); without, in one. With `extras`, each product offers
    at least `least_extras` of them (all of them at most), in their order.
    """

    nouns: dict[str, tuple[int, int]]
    details: tuple[str, ...]
    uses: tuple[str, ...] = ()
    fills: dict[str, tuple[str, ...]] = field(default_factory=dict)
    options: tuple[Option, ...] = ()
    extras: tuple[ExtraChoice, ...] = ()
    least_extras: int = 1


@dataclass(frozen=True)
class Department:
    """A top-level category: its SKU prefix, the words of its product names, its descriptions' opening and
    closing sentences, and its tree.

    `aisles` maps a sub-category name to its own sub-categories (a dict) or, for a leaf, to a Kind.
    """

    code: str
    brands: tuple[str, ...]
    adjectives: tuple[str, ...]
    closings: tuple[str, ...]
    aisles: dict
    leads: tuple[str, ...] = (
        "{brand} made the {name} for {use}.",
        "Made for {use}.",
        "A {praise} choice for {use}.",
        "Designed with {use} in mind.",
        "Customers pick the {name} for {use}.",
    )
    fills: dict[str, tuple[str, ...]] = field(default_factory=dict)
    name_format: str = "{brand} {adjective} {noun}"


def priced(nouns: tuple[str, ...], low: int, high: int) -> dict[str, tuple[int, int]]:
    """Return the nouns that share one price range, as a Kind's `nouns`."""
    return dict.fromkeys(nouns, (low, high))


PRAISE = ("dependable", "well-made", "practical", "great-value", "thoughtful")
COLOURS = ("white", "charcoal", "sage green", "navy", "sand", "terracotta")
# Clothes come in a few of these; each is a variant with its own SKU and stock (and picture colour).
GARMENT_COLOURS = ("Black", "White", "Navy", "Olive", "Stone", "Heather Grey", "Rust", "Burgundy")
GARMENT_SIZES = Option("Size", ("XS", "S", "M", "L", "XL", "XXL"), offered=(4, 4), run=True, surcharges={"XXL": 3})
GARMENT_COLOUR = Option("Colour", GARMENT_COLOURS, offered=(2, 3))
SHOE_SIZES = Option("Size", tuple(f"EU {size}" for size in range(36, 47)), offered=(6, 6), run=True)

DEPARTMENTS = {
    "Electronics": Department(
        code="ELE",
        brands=("Voltra", "Nexwave", "Lumio", "Arcton", "Kestrel", "Sonique", "Pixelon", "Zentek"),
        adjectives=("Pro", "Air", "Lite", "Max", "Plus", "Ultra", "Neo", "Go", "One"),
        closings=(
            "Covered by a two-year {brand} warranty.",
            "Free returns within 30 days if it is not right for you.",
            "Ships in recyclable cardboard packaging, with no plastic.",
            "Our support team answers questions about it seven days a week.",
        ),
        fills={"praise": PRAISE},
        aisles={
            "Phones & Tablets": {
                "Smartphones": Kind(
                    nouns={
                        "Smartphone": (199, 1099),
                        "5G Smartphone": (299, 1299),
                        "Compact Phone": (249, 799),
                        "Foldable Phone": (899, 1899),
                    },
                    uses=(
                        "everyday calls, photos and messages",
                        "long days away from a charger",
                        "people who live on their phone",
                    ),
                    details=(
                        "A {screen}-inch {display} display and {storage} of storage.",
                        "The {camera} MP main camera copes well in low light.",
                        "Its {battery} mAh battery lasts a full day and charges over USB-C.",
                        "Dual SIM, 5G and Wi-Fi 6.",
                        "Water resistant to IP{ip}.",
                    ),
                    fills={
                        "screen": ("5.8", "6.1", "6.4", "6.7"),
                        "display": ("OLED", "AMOLED", "LCD"),
                        "storage": ("128 GB", "256 GB", "512 GB"),
                        "camera": ("48", "50", "64", "108"),
                        "battery": ("4,000", "4,500", "5,000"),
                        "ip": ("67", "68"),
                    },
                ),
                "Tablets": Kind(
                    nouns={
                        "Tablet": (129, 699),
                        "10-inch Tablet": (149, 599),
                        "Drawing Tablet": (249, 1199),
                        "E-Reader": (89, 279),
                    },
                    uses=(
                        "reading, streaming and video calls",
                        "sketching and note-taking",
                        "reading in bed and on the train",
                    ),
                    details=(
                        "A {screen}-inch screen, bright enough to read outdoors.",
                        "Up to {hours} hours of reading or video on one charge.",
                        "{storage} of storage, with room for a microSD card.",
                        "Works with the {brand} stylus and keyboard cover (sold separately).",
                        "Weighs just {grams} g.",
                    ),
                    fills={
                        "screen": ("7", "8", "10.1", "11", "12.4"),
                        "hours": ("10", "12", "15"),
                        "storage": ("32 GB", "64 GB", "128 GB"),
                        "grams": ("180", "310", "460", "520"),
                    },
                ),
                "Phone Accessories": Kind(
                    nouns={
                        "Phone Case": (9, 39),
                        "Screen Protector": (6, 24),
                        "USB-C Charger": (12, 49),
                        "Power Bank": (19, 79),
                        "Car Mount": (12, 39),
                    },
                    uses=("keeping your phone safe and charged", "commutes and road trips", "everyday carry"),
                    details=(
                        "Works with most current phones; check the compatibility list before you order.",
                        "Sold in plastic-free packaging.",
                        "Tested against the knocks and drops of everyday life.",
                        "Comes with a one-year replacement promise.",
                    ),
                ),
            },
            "Computers": {
                "Laptops": Kind(
                    nouns={
                        "Laptop": (599, 1499),
                        "Ultrabook": (899, 2299),
                        "Gaming Laptop": (1099, 2499),
                        "Business Laptop": (749, 1999),
                        "2-in-1 Laptop": (649, 1599),
                    },
                    uses=(
                        "work, study and streaming",
                        "working on the move",
                        "gaming and creative work",
                        "students and home offices",
                    ),
                    details=(
                        "A {screen}-inch {panel} display.",
                        "{cpu} processor, {ram} GB of memory and a {ssd} SSD.",
                        "Up to {hours} hours of battery life.",
                        "Weighs {kg} kg.",
                        "A backlit keyboard, a 1080p webcam and {ports}.",
                    ),
                    fills={
                        "screen": ("13.3", "14", "15.6", "16"),
                        "panel": ("Full HD IPS", "2.8K OLED", "QHD 165 Hz", "2K anti-glare"),
                        "cpu": ("An 8-core", "A 10-core", "A 12-core", "A 16-core"),
                        "ram": ("8", "16", "32"),
                        "ssd": ("512 GB", "1 TB", "2 TB"),
                        "hours": ("8", "10", "12", "16", "20"),
                        "kg": ("1.1", "1.3", "1.6", "1.9", "2.4"),
                        "ports": ("two USB-C ports", "Thunderbolt 4 and HDMI", "USB-A, USB-C and HDMI"),
                    },
                ),
                "Monitors": Kind(
                    nouns={
                        "27-inch Monitor": (149, 499),
                        "4K Monitor": (279, 899),
                        "Curved Monitor": (229, 899),
                        "Portable Monitor": (129, 349),
                    },
                    uses=("home offices and spreadsheets", "gaming and photo editing", "a second screen on the road"),
                    details=(
                        "An {panel} panel at {hz} Hz.",
                        "Connects over {ports}.",
                        "{stand}.",
                        "Flicker-free, with a low blue light mode for late evenings.",
                    ),
                    fills={
                        "panel": ("IPS", "OLED", "anti-glare IPS"),
                        "hz": ("60", "75", "144", "165"),
                        "ports": ("HDMI and DisplayPort", "USB-C with 65 W charging", "HDMI and USB-C"),
                        "stand": (
                            "A height-adjustable stand",
                            "A fold-out kickstand",
                            "A tilting stand, or any VESA mount",
                        ),
                    },
                ),
                "Keyboards & Mice": Kind(
                    nouns={
                        "Mechanical Keyboard": (59, 199),
                        "Wireless Mouse": (19, 89),
                        "Trackball": (39, 119),
                        "Keyboard and Mouse Set": (39, 129),
                    },
                    uses=("long days at the desk", "gaming and typing", "home offices"),
                    details=(
                        "Connects by Bluetooth or the included USB receiver.",
                        "Pairs with up to {devices} devices and switches between them at a button.",
                        "{battery}.",
                        "Quiet, comfortable and built for {clicks} million clicks.",
                    ),
                    fills={
                        "devices": ("2", "3"),
                        "clicks": ("20", "50", "80"),
                        "battery": (
                            "A rechargeable battery that lasts for weeks",
                            "Runs for months on two AA batteries",
                        ),
                    },
                ),
            },
            "Audio": {
                "Headphones": Kind(
                    nouns={
                        "Over-Ear Headphones": (49, 399),
                        "Earbuds": (29, 279),
                        "Noise-Cancelling Headphones": (99, 399),
                        "Sport Earphones": (29, 149),
                    },
                    uses=("commutes and flights", "workouts and runs", "music at home and calls at work"),
                    details=(
                        "Up to {hours} hours of playback; {quick} minutes of charging gives another hour.",
                        "Bluetooth {bt} with multipoint pairing.",
                        "{drivers} mm drivers tuned for clear vocals and deep bass.",
                        "Sweat and splash resistant (IPX{ipx}).",
                        "Built-in microphones keep calls clear in a busy street.",
                    ),
                    fills={
                        "hours": ("20", "30", "40", "60"),
                        "quick": ("5", "10", "15"),
                        "bt": ("5.2", "5.3", "5.4"),
                        "drivers": ("10", "12", "40", "50"),
                        "ipx": ("4", "5"),
                    },
                ),
                "Speakers": Kind(
                    nouns={
                        "Bluetooth Speaker": (29, 249),
                        "Soundbar": (129, 799),
                        "Bookshelf Speakers": (149, 599),
                        "Smart Speaker": (49, 299),
                    },
                    uses=("parties and picnics", "films and music at home", "kitchens and living rooms"),
                    details=(
                        "{watts} W of room-filling sound.",
                        "Pair two for stereo.",
                        "Streams over Bluetooth and Wi-Fi.",
                        "Bass that stays clean at high volume.",
                    ),
                    fills={"watts": ("20", "40", "60", "120", "200")},
                ),
            },
        },
    ),
    "Home & Kitchen": Department(
        code="HOM",
        brands=("Hearthly", "Copperleaf", "Nordvik", "Casa Bella", "Oakhurst", "Kitchenry"),
        adjectives=("Modern", "Classic", "Minimalist", "Scandinavian", "Rustic", "Everyday", "Deluxe"),
        closings=(
            "Free returns within 30 days.",
            "Made to last, with a {years}-year guarantee.",
            "Arrives gift-boxed.",
            "Designed by the {brand} studio and made in small batches.",
        ),
        fills={"praise": PRAISE, "years": ("2", "5", "10"), "colour": COLOURS},
        aisles={
            "Kitchen": {
                "Cookware": Kind(
                    nouns={
                        "Frying Pan": (19, 129),
                        "Saucepan": (19, 119),
                        "Dutch Oven": (49, 299),
                        "Wok": (24, 119),
                        "Stockpot": (29, 149),
                    },
                    uses=("everyday cooking", "weekend stews and slow braises", "searing, sautéing and stir-fries"),
                    details=(
                        "Made of {material}.",
                        "Works on every hob, induction included.",
                        "Oven safe up to {degrees} °C.",
                        "{size} cm across.",
                        "Dishwasher safe, though a quick hand wash keeps it at its best.",
                    ),
                    fills={
                        "material": (
                            "tri-ply stainless steel",
                            "enamelled cast iron",
                            "carbon steel",
                            "hard-anodised aluminium with a non-stick coating",
                        ),
                        "degrees": ("220", "250", "260"),
                        "size": ("20", "24", "28", "30"),
                    },
                ),
                "Small Appliances": Kind(
                    nouns={
                        "Blender": (39, 299),
                        "Toaster": (24, 149),
                        "Electric Kettle": (24, 129),
                        "Coffee Maker": (49, 499),
                        "Air Fryer": (59, 249),
                    },
                    uses=("busy mornings", "quick weeknight meals", "small kitchens"),
                    details=(
                        "Rated at {watts} W.",
                        "Brushed steel in a {colour} finish.",
                        "The removable parts go in the dishwasher.",
                        "Switches itself off when it is done.",
                        "The cord tucks into the base to keep the counter tidy.",
                    ),
                    fills={"watts": ("800", "1,200", "1,500", "1,800", "2,200")},
                ),
                "Tableware": Kind(
                    nouns={
                        "Mug": (6, 25),
                        "Mug Set": (19, 59),
                        "Dinner Plate Set": (29, 129),
                        "Glass Tumblers": (14, 49),
                        "Cutlery Set": (29, 159),
                        "Serving Bowl": (12, 59),
                    },
                    uses=("everyday meals", "dinner parties", "slow weekend breakfasts"),
                    details=(
                        "Part of the {brand} {collection} collection.",
                        "Dishwasher safe.",
                        "Stacks neatly to save cupboard space.",
                        "Comes in {colour}.",
                        "Tough enough for everyday use.",
                    ),
                    fills={"collection": ("Harbour", "Meadow", "Linea", "Fjord")},
                ),
            },
            "Furniture": Kind(
                nouns={
                    "Bookshelf": (79, 399),
                    "Side Table": (39, 199),
                    "Desk Chair": (89, 499),
                    "Storage Bench": (69, 299),
                    "Coffee Table": (79, 449),
                },
                uses=("living rooms", "home offices", "small flats"),
                details=(
                    "Made of {wood} with a {finish} finish.",
                    "{width} cm wide.",
                    "Arrives flat-packed; assembly takes about {minutes} minutes.",
                    "Holds up to {kg} kg.",
                    "Wipe clean with a damp cloth.",
                ),
                fills={
                    "wood": ("solid oak", "FSC-certified beech", "walnut veneer", "powder-coated steel and pine"),
                    "finish": ("natural oil", "matte lacquer", "white-wash"),
                    "width": ("45", "60", "80", "100"),
                    "minutes": ("15", "20", "30", "45"),
                    "kg": ("15", "25", "50", "120"),
                },
            ),
            "Bedding & Bath": Kind(
                nouns={
                    "Duvet Cover": (29, 129),
                    "Pillow Set": (24, 89),
                    "Bath Towel Set": (19, 79),
                    "Throw Blanket": (24, 119),
                    "Bath Mat": (9, 39),
                },
                uses=("cosy evenings", "guest rooms", "everyday comfort"),
                details=(
                    "{material}.",
                    "Machine washable at {degrees} °C.",
                    "OEKO-TEX certified: tested for harmful substances.",
                    "Comes in {colour}.",
                    "Soft from the first wash, and softer after every one.",
                ),
                fills={
                    "material": (
                        "100% organic cotton",
                        "Stonewashed linen",
                        "Cotton percale, 200 thread count",
                        "A soft bamboo and cotton blend",
                    ),
                    "degrees": ("30", "40", "60"),
                },
            ),
            "Lighting": Kind(
                nouns={
                    "Desk Lamp": (19, 129),
                    "Floor Lamp": (49, 299),
                    "LED Strip": (14, 69),
                    "Pendant Light": (39, 249),
                },
                uses=("reading corners", "home offices", "warm evening light"),
                details=(
                    "Dims from a soft glow to {lumens} lumens.",
                    "Colour temperature from {kelvin} K.",
                    "Switches on with a touch, or from the {brand} app.",
                    "Rated for {hours} hours of light.",
                ),
                fills={
                    "lumens": ("400", "800", "1,200"),
                    "kelvin": ("2,700 to 6,500", "2,200 to 4,000"),
                    "hours": ("15,000", "25,000", "50,000"),
                },
            ),
        },
    ),
    "Books": Department(
        code="BOO",
        brands=("Paperback", "Hardcover", "Illustrated Edition"),
        adjectives=("Silent", "Hidden", "Last", "Forgotten", "Golden", "Secret", "Midnight", "Distant", "Winter"),
        leads=("{tone} {genre} about {subject}.", "{name}: {tone} {genre} about {subject}."),
        closings=(
            "{pages} pages.",
            "Printed on FSC-certified paper.",
            "Also available as an e-book.",
            "By {author}, {accolade}.",
        ),
        fills={
            "pages": ("224", "288", "320", "416", "512"),
            "author": (
                "Mara Ellison",
                "J. T. Okafor",
                "Ines Castell",
                "Tomasz Wren",
                "Helen Achterberg",
                "Rafael Moreau",
                "Priya Natarajan",
            ),
            "accolade": (
                "shortlisted for the Harwood Prize",
                "a bestseller in twelve countries",
                "whose last book is now a television series",
                "writing at the top of their form",
            ),
        },
        name_format="The {adjective} {noun} ({brand})",
        aisles={
            "Fiction": Kind(
                nouns=priced(("Garden", "River", "Kingdom", "Lighthouse", "Inheritance", "Orchard", "Voyage"), 9, 26),
                details=("Set in {place} over {span}.", "“{blurb}” ({paper})"),
                fills={
                    "genre": ("novel", "family saga", "debut novel"),
                    "tone": ("a tender", "a sharp, funny", "a sweeping"),
                    "subject": (
                        "three sisters and the house none of them will sell",
                        "a summer that changes a small town for good",
                        "an unlikely friendship that lasts sixty years",
                    ),
                    "place": ("Lisbon", "a Yorkshire village", "1970s Berlin", "the Scottish islands"),
                    "span": ("a single summer", "three generations", "one long winter"),
                    "blurb": ("Impossible to put down.", "A quiet triumph.", "I cried on the train."),
                    "paper": ("The Northern Review", "Bookish Weekly", "The Literary Post"),
                },
            ),
            "Mystery & Thriller": Kind(
                nouns=priced(("Alibi", "Witness", "Cipher", "Vanishing", "Verdict", "Stranger"), 9, 24),
                details=("The first in the {series} series.", "“{blurb}” ({paper})"),
                fills={
                    "genre": ("thriller", "crime novel", "mystery"),
                    "tone": ("a gripping", "a twisty", "a tense"),
                    "subject": (
                        "a detective who trusts no one",
                        "a disappearance on a remote island",
                        "a code hidden in a dead man's letters",
                    ),
                    "series": ("Inspector Hale", "Harbour Street", "Nightwatch"),
                    "blurb": ("I read it in one sitting.", "The twist floored me.", "Tense from the first page."),
                    "paper": ("The Northern Review", "Crime Times", "The Literary Post"),
                },
            ),
            "Science Fiction & Fantasy": Kind(
                nouns=priced(("Starship", "Dragon", "Colony", "Empire", "Signal", "Gate"), 9, 28),
                details=("Book {number} of the {series} saga.", "“{blurb}” ({paper})"),
                fills={
                    "genre": ("space opera", "fantasy epic", "science-fiction novel"),
                    "tone": ("an epic", "an inventive", "a mind-bending"),
                    "subject": (
                        "the last crew of a generation ship",
                        "a young mapmaker and a dying empire",
                        "first contact on a frozen moon",
                    ),
                    "number": ("one", "two", "three"),
                    "series": ("Farlight", "Ember Crown", "Outer Reach"),
                    "blurb": ("World-building at its finest.", "Big ideas, bigger heart.", "Pure wonder."),
                    "paper": ("Nebula Monthly", "Bookish Weekly", "The Literary Post"),
                },
            ),
            "Non-Fiction": Kind(
                nouns=priced(("Century", "Revolution", "Kitchen", "Mind", "Journey", "Life"), 12, 35),
                details=("With {extras}.", "“{blurb}” ({paper})"),
                fills={
                    "genre": ("history", "account", "introduction"),
                    "tone": ("a lively", "a deeply researched", "an accessible"),
                    "subject": (
                        "how cities learned to feed themselves",
                        "the science of sleep",
                        "the voyages that mapped the Pacific",
                    ),
                    "extras": ("maps and a full index", "32 pages of photographs", "notes and further reading"),
                    "blurb": ("Wears its learning lightly.", "Changed how I see the world.", "Fascinating."),
                    "paper": ("The Northern Review", "Science Today", "The Literary Post"),
                },
            ),
            "Children's Books": Kind(
                nouns=priced(("Bear", "Moon", "Adventure", "Treehouse", "Fox", "Balloon"), 6, 18),
                details=("For ages {ages}.", "{pictures}."),
                fills={
                    "genre": ("picture book", "bedtime story", "first chapter book"),
                    "tone": ("a funny", "a gentle", "a joyful"),
                    "subject": (
                        "a bear who cannot get to sleep",
                        "a balloon that floats around the world",
                        "building a treehouse with Grandad",
                    ),
                    "ages": ("3 to 5", "4 to 7", "6 to 9"),
                    "pages": ("32", "48", "96"),
                    "pictures": (
                        "Full-colour pictures on every page",
                        "Illustrated throughout",
                        "Sturdy pages for small hands",
                    ),
                },
            ),
        },
    ),
    "Sports & Outdoors": Department(
        code="SPO",
        brands=("Summitline", "Trailcraft", "Peakform", "Aeroswift", "Northbound", "Riverstone"),
        adjectives=("Lightweight", "Pro", "All-Weather", "Trail", "Performance", "Adjustable", "Compact"),
        closings=(
            "Free returns within 30 days, even if you have tried it out.",
            "Backed by a {years}-year guarantee.",
            "Tested by our team on real trails and in real gyms.",
        ),
        fills={"praise": PRAISE, "years": ("2", "3", "5"), "colour": COLOURS},
        aisles={
            "Fitness": {
                "Yoga & Pilates": Kind(
                    nouns={
                        "Yoga Mat": (19, 99),
                        "Yoga Block": (8, 24),
                        "Resistance Band": (9, 34),
                        "Foam Roller": (14, 49),
                    },
                    uses=("home workouts", "yoga and pilates classes", "stretching and recovery"),
                    details=(
                        "Free of latex and PVC.",
                        "Grips well, even in a hot class.",
                        "Light enough to carry to class.",
                        "Wipes clean with mild soap and water.",
                    ),
                ),
                "Strength Training": Kind(
                    nouns={
                        "Dumbbell Set": (39, 299),
                        "Kettlebell": (24, 119),
                        "Pull-Up Bar": (24, 79),
                        "Weight Bench": (99, 399),
                    },
                    uses=("home gyms", "strength training", "full-body workouts"),
                    details=(
                        "Coated in {coating} to protect your floors.",
                        "Takes loads up to {kg} kg.",
                        "Knurled grips for a secure hold.",
                        "Tucks into a corner when you are done.",
                    ),
                    fills={"coating": ("rubber", "neoprene", "vinyl"), "kg": ("100", "150", "250")},
                ),
            },
            "Camping & Hiking": {
                "Tents": Kind(
                    nouns={
                        "2-Person Tent": (79, 349),
                        "4-Person Tent": (129, 549),
                        "Ultralight Tent": (249, 699),
                        "Camping Tarp": (29, 119),
                    },
                    uses=("weekend camping", "backpacking trips", "festival season"),
                    details=(
                        "Packs down to {kg} kg.",
                        "A {hh} mm hydrostatic head keeps the rain out.",
                        "Pitches in under {minutes} minutes.",
                        "Taped seams and reflective guy lines.",
                    ),
                    fills={
                        "kg": ("0.9", "1.4", "2.2", "3.8"),
                        "hh": ("2,000", "3,000", "5,000"),
                        "minutes": ("5", "10", "15"),
                    },
                ),
                "Backpacks": Kind(
                    nouns={
                        "Hiking Backpack": (59, 249),
                        "Daypack": (29, 99),
                        "Hydration Pack": (34, 129),
                        "Travel Backpack": (59, 199),
                    },
                    uses=("day hikes", "multi-day treks", "city-to-trail travel"),
                    details=(
                        "{litres} litres.",
                        "A padded hip belt and a ventilated back panel.",
                        "Made of {fabric}.",
                        "A rain cover tucks into the base.",
                    ),
                    fills={
                        "litres": ("18", "25", "35", "50", "65"),
                        "fabric": ("recycled ripstop nylon", "waxed canvas", "water-repellent polyester"),
                    },
                ),
            },
            "Cycling": Kind(
                nouns={
                    "Bike Helmet": (39, 199),
                    "Bike Light Set": (19, 89),
                    "Cycling Gloves": (14, 49),
                    "Bike Lock": (24, 119),
                    "Saddle Bag": (14, 59),
                },
                uses=("commuting by bike", "weekend rides", "riding after dark"),
                details=(
                    "Reflective details keep you seen after dark.",
                    "Weatherproof to IPX{ipx}.",
                    "Weighs {grams} g.",
                    "Fits most bikes and riders; see the size guide.",
                ),
                fills={"ipx": ("4", "5", "6"), "grams": ("90", "180", "260", "420")},
            ),
        },
    ),
    "Clothing": Department(
        code="CLO",
        brands=("Threadwell", "Marlowe & Co", "Urbanite", "Fernhill", "Bluecoast", "Kinfolk"),
        adjectives=("Classic", "Relaxed", "Slim", "Essential", "Vintage", "Lightweight", "Everyday", "Organic"),
        closings=(
            "Machine wash at {degrees} °C, inside out.",
            "Free size exchanges within 30 days.",
            "Made in {country} in a fair-wage factory.",
        ),
        fills={
            "praise": PRAISE,
            "degrees": ("30", "40"),
            "country": ("Portugal", "Turkey", "India", "Italy"),
            "colour": ("navy", "olive", "stone", "black", "heather grey", "rust"),
        },
        aisles={
            "Men's Clothing": Kind(
                nouns={
                    "T-Shirt": (12, 39),
                    "Oxford Shirt": (29, 89),
                    "Chinos": (34, 99),
                    "Hoodie": (34, 99),
                    "Denim Jacket": (59, 169),
                    "Wool Sweater": (49, 179),
                },
                uses=("everyday wear", "the office and the weekend", "layering in cooler months"),
                details=(
                    "Made of {fabric}.",
                    "{fit} fit; the model is {height} cm tall and wears a size M.",
                    "Pre-washed, so it will not shrink.",
                    "Comes in {colour}.",
                ),
                fills={
                    "fabric": ("organic cotton", "brushed cotton twill", "merino wool", "heavyweight cotton jersey"),
                    "fit": ("Regular", "Slim", "Relaxed"),
                    "height": ("180", "185", "188"),
                },
                options=(GARMENT_SIZES, GARMENT_COLOUR),
            ),
            "Women's Clothing": Kind(
                nouns={
                    "Blouse": (24, 89),
                    "Midi Dress": (39, 149),
                    "Cardigan": (34, 129),
                    "Jeans": (39, 129),
                    "Trench Coat": (89, 299),
                    "Knit Top": (19, 69),
                },
                uses=("everyday wear", "the office and the weekend", "layering in cooler months"),
                details=(
                    "Made of {fabric}.",
                    "{fit} fit; the model is {height} cm tall and wears a size S.",
                    "Pre-washed, so it will not shrink.",
                    "Comes in {colour}.",
                ),
                fills={
                    "fabric": ("organic cotton", "Tencel lyocell", "merino wool", "stretch denim", "viscose crepe"),
                    "fit": ("Regular", "Slim", "Relaxed"),
                    "height": ("170", "175", "178"),
                },
                options=(GARMENT_SIZES, GARMENT_COLOUR),
            ),
            "Shoes": Kind(
                nouns={
                    "Running Shoes": (49, 179),
                    "Chelsea Boots": (79, 229),
                    "Canvas Sneakers": (34, 89),
                    "Hiking Boots": (79, 249),
                    "Loafers": (59, 179),
                },
                uses=("long walks and city days", "running and the gym", "the office and the weekend"),
                details=(
                    "Uppers of {upper}.",
                    "A cushioned insole and a {sole} sole.",
                    "True to size; between sizes, go half a size up.",
                    "Comes in {colour}.",
                ),
                fills={
                    "upper": ("full-grain leather", "suede", "recycled knit", "organic canvas"),
                    "sole": ("rubber", "grippy lugged", "lightweight foam"),
                },
                options=(SHOE_SIZES,),
            ),
            "Accessories": Kind(
                nouns={
                    "Leather Belt": (24, 79),
                    "Wool Scarf": (19, 79),
                    "Beanie": (12, 39),
                    "Sunglasses": (24, 159),
                    "Canvas Tote": (14, 49),
                },
                uses=("finishing an outfit", "everyday use", "gifts"),
                details=(
                    "Made to be worn for years.",
                    "Comes in {colour}.",
                    "One size fits most.",
                    "Arrives in a recycled gift box.",
                ),
                options=(GARMENT_COLOUR,),
            ),
        },
    ),
    "Food & Drink": Department(
        code="FOO",
        brands=("Forno Verde", "Bella Napoli", "Roast & Co", "Hillside Farm", "Little Bakehouse"),
        adjectives=("Classic", "Organic", "Artisan", "Stone-Baked", "Small-Batch"),
        closings=(
            "Ingredients and allergens are listed on the pack.",
            "Packed in recyclable materials.",
            "Made by a family business that has been at it for {years} years.",
        ),
        fills={"praise": PRAISE, "years": ("12", "25", "40")},
        aisles={
            "Pizzas": Kind(
                nouns={
                    "Margherita Pizza": (8, 14),
                    "Pepperoni Pizza": (9, 16),
                    "Four Cheese Pizza": (10, 17),
                    "Vegetable Pizza": (9, 16),
                    "Truffle Pizza": (12, 18),
                },
                uses=("a quick dinner", "film nights", "sharing with friends"),
                details=(
                    "Stone-baked on a dough left to rise for {hours} hours.",
                    "Topped with {tomato} tomatoes and fresh mozzarella.",
                    "Serves {serves}.",
                    "Ready in {minutes} minutes at 220 °C.",
                ),
                fills={
                    "hours": ("24", "48", "72"),
                    "tomato": ("San Marzano", "sun-ripened", "organic"),
                    "serves": ("one", "two", "two to three"),
                    "minutes": ("8", "10", "12"),
                },
                options=(Option("Size", ("Regular", "Large"), surcharges={"Large": 4}),),
                extras=(
                    ExtraChoice("Extra cheese", "1.50", max_per_line=3),
                    ExtraChoice("Olives", "0.80", max_per_line=2),
                    ExtraChoice("Mushrooms", "0.90", max_per_line=2),
                    ExtraChoice("Jalapeños", "0.70", max_per_line=2),
                    ExtraChoice("Rocket", "1.00"),
                    ExtraChoice("Chilli oil", "0.50"),
                    ExtraChoice("Stuffed crust", "2.50"),
                ),
                least_extras=3,
            ),
            "Coffee & Tea": Kind(
                nouns={
                    "Espresso Beans": (8, 24),
                    "Ground Coffee": (6, 18),
                    "Loose Leaf Tea": (6, 22),
                    "Tea Bags": (3, 9),
                },
                uses=("the first cup of the day", "a slow afternoon", "the office kitchen"),
                details=(
                    "Notes of {notes}.",
                    "{origin}.",
                    "{grams} g, in a resealable pouch.",
                    "Roasted or packed within a week of shipping.",
                ),
                fills={
                    "notes": ("dark chocolate and cherry", "caramel and hazelnut", "citrus and jasmine"),
                    "origin": (
                        "Fairtrade certified",
                        "Rainforest Alliance certified",
                        "Sourced directly from small farms",
                        "Organic and fairly traded",
                    ),
                    "grams": ("100", "250", "500", "1,000"),
                },
                extras=(ExtraChoice("Gift wrapping", "2.50"), ExtraChoice("Handwritten card", "1.00")),
            ),
            "Snacks & Sweets": Kind(
                nouns={
                    "Dark Chocolate Bar": (2, 6),
                    "Salted Caramels": (4, 12),
                    "Granola": (4, 10),
                    "Mixed Nuts": (5, 14),
                },
                uses=("the afternoon slump", "picnics and long walks", "sharing, or not"),
                details=(
                    "Made in small batches.",
                    "{grams} g.",
                    "No palm oil, no artificial flavours.",
                    "Vegetarian.",
                ),
                fills={
                    "grams": ("100", "150", "250", "400"),
                },
            ),
        },
    ),
}
