"""Demo product pictures for `seed_demo`, drawn with Pillow (nothing is downloaded).

Each picture is a studio-style card: a soft background in the colour of the product's
category, a rounded "object" shape, and the product's name. It goes through the real write
path (`ProductImage.objects.add`): checked like an upload, stored, with its thumbnails.
A product sold in colours is pictured in the colour of its first variant, and the picture
is tied to that variant (the navy shirt).
"""

import colorsys
import hashlib
import io
import textwrap

from django.core.files.base import ContentFile
from PIL import Image, ImageDraw, ImageFont

from catalog.models import Product, ProductImage, Variant

SIZE = (800, 600)
# The demo's garment colours (_demo_shelves.GARMENT_COLOURS), as a picture paints them.
PAINTS = {
    "Black": (38, 38, 40),
    "White": (236, 234, 228),
    "Navy": (31, 45, 84),
    "Olive": (102, 107, 52),
    "Stone": (176, 164, 140),
    "Heather Grey": (150, 150, 154),
    "Rust": (160, 72, 38),
    "Burgundy": (110, 24, 44),
}


def hue_of(text: str) -> float:
    """A stable hue in [0, 1) for a text, so every product of a category shares its colour."""
    return int(hashlib.sha256(text.encode()).hexdigest()[:8], 16) / 0xFFFFFFFF


def colour(hue: float, saturation: float, lightness: float) -> tuple[int, int, int]:
    red, green, blue = colorsys.hls_to_rgb(hue, lightness, saturation)
    return round(red * 255), round(green * 255), round(blue * 255)


def draw_picture(name: str, category: str, variant: int, paint: tuple[int, int, int] | None = None) -> ContentFile:
    """Return a PNG picture of a product called `name` in `category`; `variant` varies the shape, `paint` (a colour
    the product comes in) colours it."""
    hue = hue_of(category)
    picture = Image.new("RGB", SIZE, colour(hue, 0.35, 0.93))
    draw = ImageDraw.Draw(picture)
    width, height = SIZE
    draw.ellipse((120, height - 130, width - 120, height - 70), fill=colour(hue, 0.2, 0.82))  # the shadow
    box = (240, 120, width - 240, height - 110)
    body = paint or colour((hue + 0.04 * (variant % 3)) % 1, 0.55, 0.45)
    if variant % 2:
        draw.rounded_rectangle(box, radius=48, fill=body)
    else:
        draw.ellipse(box, fill=body)
    draw.ellipse((box[0] + 60, box[1] + 40, box[0] + 140, box[1] + 120), fill=colour(hue, 0.4, 0.75))  # a highlight
    font = ImageFont.load_default(size=34)
    lines = textwrap.wrap(name, width=30)[:2]
    for number, line in enumerate(lines):
        text_width = draw.textlength(line, font=font)
        draw.text(((width - text_width) / 2, 24 + number * 40), line, font=font, fill=colour(hue, 0.5, 0.25))
    buffer = io.BytesIO()
    picture.save(buffer, format="PNG")
    return ContentFile(buffer.getvalue(), name="picture.png")


def seed_pictures(products: list[Product], stdout) -> int:
    """Give each product without a picture one, of its first variant when it comes in colours; return how many
    were added."""
    coloured = first_colours([product.pk for product in products])
    added = 0
    for number, product in enumerate(products, start=1):
        category = product.category.name if product.category_id else "Shop"
        variant_id, colour_name = coloured.get(product.pk, (None, None))
        picture = draw_picture(product.name, category, product.pk, PAINTS.get(colour_name))
        alt_text = f"{product.name} in {colour_name.lower()}, product photo" if colour_name else None
        image = ProductImage.objects.add(product, picture, alt_text=alt_text or f"{product.name}, product photo")
        if variant_id is not None:
            image.variant_id = variant_id
            image.save(update_fields=["variant"])
        added += 1
        if number % 50 == 0 or number == len(products):
            stdout.write(f"pictures: {number:,}/{len(products):,}")
    return added


def first_colours(product_ids: list[int]) -> dict[int, tuple[int, str]]:
    """Return, for each of these products sold in colours, its first variant and that variant's colour."""
    rows = (
        Variant.objects.filter(product_id__in=product_ids, option_values__option__name="Colour")
        .order_by("product_id", "position", "pk")
        .values_list("product_id", "pk", "option_values__value")
    )
    found: dict[int, tuple[int, str]] = {}
    for product_id, variant_id, colour_name in rows:
        found.setdefault(product_id, (variant_id, colour_name))
    return found
