"""Product images: what an upload must be, where it is stored, its thumbnails (SPEC §4, Media).

`check_image` is the one check of an upload. `ProductImage.save` runs it on every new file
(so the API, the factories and the shell cannot skip it), and the model field runs it as
its validator (`validate_image`), so a form such as the admin's shows the refusal on the
field. It decodes the whole image before anything is stored.

Thumbnails are django-imagekit specs, rendered when the image is saved and stored beside
it on the same storage (a folder or an S3 bucket). Their names follow from the original's
name and the spec, so their URLs are made without reading the storage or the cache.
"""

import functools
import uuid
import warnings
from pathlib import PurePosixPath

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files import File
from django.db import models
from django.db.models import Max
from django.db.models.fields.files import FieldFile
from imagekit import ImageSpec, hashers
from imagekit.utils import generate
from PIL import Image, UnidentifiedImageError
from pilkit.processors import ResizeToFit, Transpose

from catalog.exceptions import InvalidImage

# Pillow's name of each format accepted, with its content type and file name extensions.
ALLOWED_FORMATS = {
    "JPEG": ("image/jpeg", (".jpg", ".jpeg")),
    "PNG": ("image/png", (".png",)),
    "WEBP": ("image/webp", (".webp",)),
    "GIF": ("image/gif", (".gif",)),
}
ALLOWED_EXTENSIONS = tuple(extension for _, extensions in ALLOWED_FORMATS.values() for extension in extensions)
# Formats Pillow reports under another name: a camera's multi-picture JPEG is a JPEG.
FORMAT_ALIASES = {"MPO": "JPEG"}
# What a client sends when it does not say what the file is: the content decides then.
UNDECLARED_CONTENT_TYPES = {"", "application/octet-stream"}

# The thumbnail sizes every image has: at most this many pixels wide, never enlarged.
THUMBNAIL_WIDTHS = {"small": 160, "medium": 480, "large": 960}

MAX_POSITION = 32767  # the position column is a small integer


def check_image(upload: File) -> None:
    """Refuse (InvalidImage) anything but a whole JPEG, PNG, WebP or GIF within the size and pixel limits.

    The name's extension and the declared content type must agree with what the content
    is. The pixel count is read from the header and refused before any pixel is decoded,
    so a decompression bomb never expands; then the whole image is decoded, so a truncated
    or corrupt file is refused too.
    """
    max_bytes = settings.MEDIA_MAX_UPLOAD_BYTES
    if upload.size > max_bytes:
        raise InvalidImage(f"The file is {upload.size:,} bytes; an image may have at most {max_bytes:,}.")
    extension = PurePosixPath(upload.name or "").suffix.lower()
    if extension not in ALLOWED_EXTENSIONS:
        raise InvalidImage(
            f"Only JPEG, PNG, WebP and GIF images are accepted ({', '.join(ALLOWED_EXTENSIONS)}); "
            f"this file is named {extension or 'without an extension'}."
        )
    try:
        # Pillow warns (below twice its own limit) before it refuses; either is a refusal here.
        # The filter is the process's while this block runs: another thread's such warning raises too.
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            upload.seek(0)
            with Image.open(upload, formats=list(ALLOWED_FORMATS)) as picture:
                check_format(picture, extension, getattr(upload, "content_type", None) or "")
                check_pixels(picture)
                picture.verify()
            upload.seek(0)
            with Image.open(upload, formats=list(ALLOWED_FORMATS)) as picture:
                picture.load()
    except InvalidImage:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as bomb:
        raise InvalidImage(pixels_refused()) from bomb
    except UnidentifiedImageError as unknown:
        raise InvalidImage("The file is not a JPEG, PNG, WebP or GIF image.") from unknown
    except Exception as damage:  # Pillow's decoders raise many kinds (OSError, SyntaxError, ...) for a bad file
        raise InvalidImage("The image is damaged or cut short; it cannot be read.") from damage
    finally:
        upload.seek(0)


def check_format(picture: Image.Image, extension: str, content_type: str) -> None:
    """Refuse an image whose name or declared content type says another format than its content."""
    found = FORMAT_ALIASES.get(picture.format, picture.format)
    expected_type, extensions = ALLOWED_FORMATS[found]
    if extension not in extensions:
        raise InvalidImage(f"The file is a {found} image but is named {extension}.")
    declared = content_type.split(";")[0].strip().lower()
    if declared not in UNDECLARED_CONTENT_TYPES and declared != expected_type:
        raise InvalidImage(f"The file is a {found} image but was sent as {declared}.")


def check_pixels(picture: Image.Image) -> None:
    """Refuse an image larger than MEDIA_MAX_IMAGE_PIXELS, from its header alone."""
    width, height = picture.size
    if width * height > settings.MEDIA_MAX_IMAGE_PIXELS:
        raise InvalidImage(pixels_refused(f"The image is {width:,} x {height:,} pixels; "))


def pixels_refused(prefix: str = "The image has too many pixels; ") -> str:
    return f"{prefix}an image may have at most {settings.MEDIA_MAX_IMAGE_PIXELS:,}."


def validate_image(upload: File) -> None:
    """Run `check_image` as a Django validator, so a form shows its refusal on the field."""
    if isinstance(upload, FieldFile):
        if upload._committed:
            return  # a stored file was checked when it came in; only a new upload is read
        upload = upload.file  # the upload itself, which knows its declared content type
    try:
        check_image(upload)
    except InvalidImage as refusal:
        # Not the code "invalid_image": a model form swaps a message with that code for its
        # image field's generic one ("Upload a valid image..."), which would hide the reason.
        raise ValidationError(refusal.detail, code="image_refused") from refusal


def product_image_path(image, filename: str) -> str:
    """Store each product's images in a folder of its own, under a name no client chose."""
    return f"products/{image.product_id}/{uuid.uuid4().hex}{PurePosixPath(filename).suffix.lower()}"


class Thumbnail(ImageSpec):
    """A copy of a product image at most `width` pixels wide, turned upright, as WebP."""

    format = "WEBP"
    options = {"quality": 80}

    def __init__(self, source, width: int) -> None:
        self.width = width
        self.processors = [Transpose(Transpose.AUTO), ResizeToFit(width=width, upscale=False)]
        super().__init__(source=source)

    @property
    def cachefile_name(self) -> str:
        """Where imagekit's own tools (ImageCacheFile, its template tags) find this thumbnail: `thumbnail_name`."""
        return thumbnail_name(self.source.name, self.width)


def thumbnail_name(original: str, width: int) -> str:
    """Name a thumbnail after its original and its spec: thumbnails/products/7/<original>/160w-<spec>.webp.

    A changed spec gets new names, as with imagekit's own namer; that one hashes the
    original's name and the spec together for every file (a pickle each time, a
    millisecond per thumbnail on a product list), where the spec's part is hashed once here.
    """
    folder = PurePosixPath(original).with_suffix("")
    return f"{settings.IMAGEKIT_CACHEFILE_DIR}/{folder}/{width}w-{spec_digest(width)}.webp"


@functools.cache
def spec_digest(width: int) -> str:
    """Return a short hash of everything that draws a thumbnail of this width but its source."""
    spec = Thumbnail(None, width)
    return hashers.pickle([spec.processors, spec.format, spec.options, spec.autoconvert])[:12]


def thumbnail_names(image: FieldFile) -> dict[str, str]:
    """Return the names of a stored image's thumbnails by size, on the image's own storage; nothing is read."""
    return {size: thumbnail_name(image.name, width) for size, width in THUMBNAIL_WIDTHS.items()}


def render_thumbnails(upload: File) -> dict[str, File]:
    """Render every thumbnail of an upload in memory; refuse (InvalidImage) one that cannot be drawn."""
    rendered = {}
    for size, width in THUMBNAIL_WIDTHS.items():
        try:
            rendered[size] = generate(Thumbnail(upload, width))
        except Exception as failure:  # whatever Pillow raises for an image it could read but not convert
            raise InvalidImage("The image could not be converted into thumbnails.") from failure
    return rendered


def store_thumbnails(image: FieldFile, rendered: dict[str, File]) -> None:
    """Store rendered thumbnails beside a stored image, under the names `thumbnail_names` gives."""
    for size, name in thumbnail_names(image).items():
        image.storage.save(name, rendered[size])


def delete_image_files(image: FieldFile) -> None:
    """Delete a stored image and its thumbnails; a file already gone is no error."""
    for name in thumbnail_names(image).values():
        image.storage.delete(name)
    image.storage.delete(image.name)


class ProductImageQuerySet(models.QuerySet):
    """Product images; `add` is the API's way in (ProductImage.save does the checking and storing)."""

    def add(self, product, image: File, *, alt_text: str, position: int | None = None, variant=None):
        """Check and store an image of `product` (showing `variant`, if given) with its thumbnails; last in
        order unless `position` says.

        Raises InvalidImage, before anything is stored, for a file that is not an image this
        shop accepts (ProductImage.save), and ValidationError for a variant of another product.
        """
        if variant is not None and variant.product_id != product.pk:
            raise ValidationError({"variant": f"Variant {variant.sku} is not one of {product.name}'s."})
        if position is None:
            last = self.filter(product=product).aggregate(last=Max("position"))["last"]
            position = 0 if last is None else min(last + 1, MAX_POSITION)
        return self.create(product=product, variant=variant, image=image, alt_text=alt_text, position=position)

    add.alters_data = True


ProductImageManager = models.Manager.from_queryset(ProductImageQuerySet)
