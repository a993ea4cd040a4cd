"""Product images (SPEC §4 Media, §5): checked uploads, thumbnails, the API, the cache, storages."""

import io
import json
import os
import struct
import subprocess
import sys
import urllib.request
import zlib
from pathlib import Path
from types import SimpleNamespace
from unittest import mock

import boto3
import pytest
from django.contrib.auth.models import Permission
from django.core.files.base import ContentFile
from django.forms import modelform_factory
from imagekit.cachefiles import ImageCacheFile
from moto.server import ThreadedMotoServer
from PIL import Image, ImageFile

from catalog import images
from catalog.exceptions import InvalidImage
from catalog.factories import ProductFactory, ProductImageFactory
from catalog.models import ProductImage
from conftest import bearer_client
from tests.utils import assert_error, free_port, image_bytes, image_upload

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parent.parent.parent
PRODUCTS = "/api/v1/products/"


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path) -> Path:
    """A MEDIA_ROOT of the test's own, so that "nothing was stored" can be checked by listing it."""
    root = tmp_path / "media"
    settings.MEDIA_ROOT = str(root)
    return root


def stored_files(root: Path) -> list[str]:
    return sorted(str(path.relative_to(root)) for path in root.rglob("*") if path.is_file())


def images_url(product) -> str:
    return f"{PRODUCTS}{product.pk}/images/"


def image_url(image) -> str:
    return f"{PRODUCTS}{image.product_id}/images/{image.pk}/"


def upload(client, product, file=None, **fields):
    body = {"image": image_upload() if file is None else file, "alt_text": "A teapot on a table", **fields}
    return client.post(images_url(product), body, format="multipart")


def local_path(media_root: Path, url: str) -> Path:
    """Return where a filesystem-stored file's URL (http://testserver/media/...) lives under MEDIA_ROOT."""
    prefix = "http://testserver/media/"
    assert url.startswith(prefix), url
    return media_root / url.removeprefix(prefix)


def png_claiming(width: int, height: int) -> bytes:
    """Return a 1 x 1 PNG whose header claims `width` x `height` pixels (with a valid CRC: only the size lies)."""
    data = bytearray(image_bytes((1, 1)))
    # The 8-byte signature, then the IHDR chunk: length, b"IHDR", width, height, ... and its CRC.
    struct.pack_into(">II", data, 16, width, height)
    struct.pack_into(">I", data, 29, zlib.crc32(bytes(data[12:29])))
    return bytes(data)


def rotated_jpeg() -> bytes:
    """Return a 1200 x 800 JPEG whose EXIF says to turn it a quarter (a phone held upright)."""
    exif = Image.Exif()
    exif[0x0112] = 6  # Orientation: rotate 90 degrees clockwise to display
    buffer = io.BytesIO()
    Image.new("RGB", (1200, 800), "teal").save(buffer, "JPEG", exif=exif)
    return buffer.getvalue()


# --- Uploading through the API ------------------------------------------------------------------


def test_staff_upload_a_png_and_get_it_back_with_thumbnails(staff_client, product, media_root):
    response = upload(staff_client, product, position=3)

    assert response.status_code == 201, response.content
    body = response.json()
    image = ProductImage.objects.get()
    assert body["id"] == image.pk
    assert (body["alt_text"], body["position"]) == ("A teapot on a table", 3)
    assert response["Location"] == f"http://testserver{image_url(image)}"
    original = local_path(media_root, body["url"])
    assert original.is_file()
    assert original.parent == media_root / "products" / str(product.pk)
    assert original.suffix == ".png"
    assert set(body["thumbnails"]) == {"small", "medium", "large"}
    for size, width in images.THUMBNAIL_WIDTHS.items():
        with Image.open(local_path(media_root, body["thumbnails"][size])) as thumbnail:
            assert thumbnail.format == "WEBP"
            assert thumbnail.size == (width, round(width * 2 / 3)), size  # the original's 3:2 kept
    assert len(stored_files(media_root)) == 4


@pytest.mark.parametrize(
    ("name", "image_format", "mode"),
    [
        ("photo.jpg", "JPEG", "RGB"),
        ("photo.jpeg", "JPEG", "CMYK"),
        ("cutout.webp", "WEBP", "RGBA"),
        ("drawing.gif", "GIF", "P"),
        ("cutout.png", "PNG", "RGBA"),
        ("scan.png", "PNG", "L"),
    ],
)
def test_every_accepted_format_is_stored_with_webp_thumbnails(
    staff_client, product, media_root, name, image_format, mode
):
    response = upload(staff_client, product, image_upload(name, image_bytes((1000, 500), image_format, mode)))

    assert response.status_code == 201, response.content
    with Image.open(local_path(media_root, response.json()["thumbnails"]["medium"])) as thumbnail:
        assert (thumbnail.format, thumbnail.size) == ("WEBP", (480, 240))


def test_a_small_image_is_not_enlarged(staff_client, product, media_root):
    response = upload(staff_client, product, image_upload(content=image_bytes((100, 50))))

    for url in response.json()["thumbnails"].values():
        with Image.open(local_path(media_root, url)) as thumbnail:
            assert thumbnail.size == (100, 50)


def test_thumbnails_are_turned_upright_as_the_photo_says(staff_client, product, media_root):
    response = upload(staff_client, product, image_upload("phone.jpg", rotated_jpeg()))

    with Image.open(local_path(media_root, response.json()["thumbnails"]["small"])) as thumbnail:
        assert thumbnail.size == (160, 240)


def test_imagekit_names_the_thumbnails_as_the_shop_does(product):
    image = ProductImageFactory(product=product)

    for size, width in images.THUMBNAIL_WIDTHS.items():
        cachefile = ImageCacheFile(images.Thumbnail(image.image, width))
        assert cachefile.url == image.thumbnail_urls()[size]
        assert cachefile.storage.exists(cachefile.name)


def test_images_without_a_position_go_after_the_last(staff_client, product):
    first = upload(staff_client, product).json()
    second = upload(staff_client, product).json()
    front = upload(staff_client, product, position=0).json()

    assert (first["position"], second["position"], front["position"]) == (0, 1, 0)
    detail = staff_client.get(f"{PRODUCTS}{product.pk}/").json()
    assert [image["id"] for image in detail["images"]] == [first["id"], front["id"], second["id"]]


def test_an_image_may_show_one_of_the_products_variants(staff_client, product, media_root):
    product.add_option("Colour", ["White", "Navy"])
    navy = product.add_variant(sku="TEA-POT-NAVY", price="21.00", options={"Colour": "Navy"})
    elsewhere = ProductFactory().variants.get()

    shown = upload(staff_client, product, variant=navy.pk)
    refused = upload(staff_client, product, variant=elsewhere.pk)

    assert shown.status_code == 201, shown.content
    assert shown.json()["variant"] == navy.pk
    assert staff_client.get(f"{PRODUCTS}{product.pk}/").json()["images"][0]["variant"] == navy.pk
    assert "variant" in assert_error(refused, 400, "validation_error")["errors"]
    assert ProductImage.objects.count() == 1
    assert len(stored_files(media_root)) == 4  # the one image and its three thumbnails


def test_alt_text_is_required(staff_client, product, media_root):
    response = staff_client.post(images_url(product), {"image": image_upload()}, format="multipart")

    body = assert_error(response, 400, "validation_error")
    assert "alt_text" in body["errors"]
    assert stored_files(media_root) == []


def test_an_upload_to_a_missing_product_is_a_404(staff_client, media_root):
    response = staff_client.post(f"{PRODUCTS}999999/images/", {"image": image_upload(), "alt_text": "x"})

    assert_error(response, 404, "not_found")
    assert stored_files(media_root) == []


# --- Refused uploads: 400 invalid_image, nothing stored -----------------------------------------


def png_with_a_broken_chunk() -> bytes:
    data = bytearray(image_bytes())
    data[60] ^= 0xFF  # inside the image data: its checksum no longer matches
    return bytes(data)


REFUSED = {
    "text named .png": lambda: image_upload("notes.png", b"Dear shop, this is not a picture.\n"),
    "empty file": lambda: image_upload("empty.png", b""),
    "truncated png": lambda: image_upload("cut.png", image_bytes()[:300]),
    "truncated jpeg": lambda: image_upload("cut.jpg", image_bytes(image_format="JPEG")[:400]),
    "corrupt png": lambda: image_upload("broken.png", png_with_a_broken_chunk()),
    "bmp named .png": lambda: image_upload("old.png", image_bytes(image_format="BMP"), "image/png"),
    "bmp": lambda: image_upload("old.bmp", image_bytes(image_format="BMP")),
    "no extension": lambda: image_upload("picture", image_bytes()),
    "png named .jpg": lambda: image_upload("picture.jpg", image_bytes()),
    "png sent as jpeg": lambda: image_upload("picture.png", image_bytes(), "image/jpeg"),
    "header claims 30000 x 30000 (Pillow's error)": lambda: image_upload("bomb.png", png_claiming(30000, 30000)),
    "header claims 10000 x 10000 (Pillow's warning)": lambda: image_upload("bomb.png", png_claiming(10000, 10000)),
    "header claims 6000 x 5000 (the shop's limit)": lambda: image_upload("big.png", png_claiming(6000, 5000)),
}


@pytest.mark.parametrize("refused", list(REFUSED))
def test_a_file_that_is_not_an_acceptable_image_is_refused_and_nothing_is_stored(
    staff_client, product, media_root, refused
):
    response = upload(staff_client, product, REFUSED[refused]())

    body = assert_error(response, 400, "invalid_image")
    assert body["errors"] == {"image": [body["detail"]]}
    assert not ProductImage.objects.exists()
    assert stored_files(media_root) == []


def test_a_real_image_past_the_pixel_limit_is_refused_before_it_is_decoded(staff_client, product, media_root):
    # 30 megapixels of one-bit white: a few kilobytes on the wire.
    bomb = image_bytes((6000, 5000), "PNG", mode="1")
    assert len(bomb) < 50_000

    with mock.patch.object(ImageFile.ImageFile, "load", side_effect=AssertionError("decoded")):
        response = upload(staff_client, product, image_upload("bomb.png", bomb))

    body = assert_error(response, 400, "invalid_image")
    assert body["detail"] == "The image is 6,000 x 5,000 pixels; an image may have at most 25,000,000."
    assert stored_files(media_root) == []


def test_a_file_past_the_size_limit_is_refused(settings, staff_client, product, media_root):
    picture = image_bytes()
    settings.MEDIA_MAX_UPLOAD_BYTES = len(picture) - 1

    response = upload(staff_client, product, image_upload(content=picture))

    body = assert_error(response, 400, "invalid_image")
    assert body["detail"] == f"The file is {len(picture):,} bytes; an image may have at most {len(picture) - 1:,}."
    assert stored_files(media_root) == []


def test_the_limits_come_from_settings(settings, staff_client, product):
    settings.MEDIA_MAX_IMAGE_PIXELS = 1200 * 800 - 1

    assert_error(upload(staff_client, product), 400, "invalid_image")

    settings.MEDIA_MAX_IMAGE_PIXELS = 1200 * 800
    assert upload(staff_client, product).status_code == 201


# --- Who may upload and delete ----------------------------------------------------------------


@pytest.fixture
def staff_who_may_only_view(django_user_model):
    user = django_user_model.objects.create_user(username="viewer", password="viewer-pass-123", is_staff=True)
    user.user_permissions.set(Permission.objects.filter(codename__in=["view_product", "add_productimage"]))
    return bearer_client(user)


@pytest.mark.parametrize(
    ("who", "status_code", "code"),
    [
        ("api_client", 401, "not_authenticated"),
        ("customer_client", 403, "permission_denied"),
        ("staff_who_may_only_view", 403, "permission_denied"),
    ],
)
def test_only_staff_who_may_change_products_upload_and_delete(request, product, media_root, who, status_code, code):
    client = request.getfixturevalue(who)
    image = ProductImageFactory(product=product)
    files = stored_files(media_root)

    assert_error(upload(client, product), status_code, code)
    assert_error(client.delete(image_url(image)), status_code, code)

    assert list(ProductImage.objects.all()) == [image]
    assert stored_files(media_root) == files


# --- Reading and deleting -------------------------------------------------------------------------


def test_anyone_reads_the_images_of_an_active_product(api_client, product):
    image = ProductImageFactory(product=product)

    listed = api_client.get(images_url(product))
    shown = api_client.get(image_url(image))

    assert listed.status_code == shown.status_code == 200
    assert listed.json()["results"] == [shown.json()]
    assert shown.json()["url"].startswith("http://testserver/media/products/")


def test_an_inactive_products_images_are_for_staff_only(api_client, staff_client):
    image = ProductImageFactory(product=ProductFactory(is_active=False))

    assert_error(api_client.get(image_url(image)), 404, "not_found")
    assert staff_client.get(image_url(image)).status_code == 200


def test_deleting_an_image_removes_the_row_and_its_files(
    staff_client, product, media_root, django_capture_on_commit_callbacks
):
    kept, deleted = ProductImageFactory.create_batch(2, product=product)
    kept_files = [kept.image.name, *images.thumbnail_names(kept.image).values()]

    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.delete(image_url(deleted))

    assert response.status_code == 204
    assert list(ProductImage.objects.all()) == [kept]
    assert stored_files(media_root) == sorted(kept_files)


def test_an_image_is_deleted_only_under_its_own_product(staff_client, product):
    image = ProductImageFactory()

    assert_error(staff_client.delete(f"{PRODUCTS}{product.pk}/images/{image.pk}/"), 404, "not_found")
    assert ProductImage.objects.filter(pk=image.pk).exists()


def test_deleting_a_product_deletes_its_image_files(product, media_root, django_capture_on_commit_callbacks):
    ProductImageFactory.create_batch(2, product=product)
    assert len(stored_files(media_root)) == 8

    with django_capture_on_commit_callbacks(execute=True):
        product.delete()

    assert stored_files(media_root) == []


def test_files_stay_when_the_deletion_rolls_back(product, media_root, django_capture_on_commit_callbacks):
    image = ProductImageFactory(product=product)

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        image.delete()

    assert callbacks  # the deletion of the files waits for the commit
    assert len(stored_files(media_root)) == 4


# --- The model: the one write path and the form validator ------------------------------------------------


def test_the_model_refuses_an_unchecked_file_from_any_path(product, media_root):
    with pytest.raises(InvalidImage):
        ProductImage.objects.create(product=product, image=ContentFile(b"GIF89a?", name="x.gif"), alt_text="x")

    assert stored_files(media_root) == []


def test_a_failure_while_storing_deletes_what_was_stored(product, media_root):
    with (
        mock.patch.object(images, "store_thumbnails", side_effect=OSError("disk full")),
        pytest.raises(OSError, match="disk full"),
    ):
        ProductImageFactory(product=product)

    assert not ProductImage.objects.exists()
    assert stored_files(media_root) == []


def test_replacing_the_file_makes_new_thumbnails_and_deletes_the_old_files(
    product, media_root, django_capture_on_commit_callbacks
):
    image = ProductImage.objects.get(pk=ProductImageFactory(product=product).pk)
    old_files = stored_files(media_root)

    image.image = ContentFile(image_bytes((800, 800)), name="square.png")
    with django_capture_on_commit_callbacks(execute=True):
        image.save()

    new_files = stored_files(media_root)
    assert len(new_files) == 4
    assert not set(new_files) & set(old_files)
    with Image.open(image.image.storage.path(images.thumbnail_names(image.image)["small"])) as small:
        assert small.size == (160, 160)


def test_a_form_shows_the_same_refusal_on_the_image_field(product, media_root):
    form_class = modelform_factory(ProductImage, fields=["product", "image", "alt_text", "position"])
    bomb = image_upload("bomb.png", image_bytes((6000, 5000), "PNG", mode="1"))

    form = form_class({"product": product.pk, "alt_text": "Huge", "position": 0}, {"image": bomb})

    assert not form.is_valid()
    assert form.errors["image"] == ["The image is 6,000 x 5,000 pixels; an image may have at most 25,000,000."]
    assert form.errors.as_data()["image"][0].code == "image_refused"
    assert stored_files(media_root) == []


def test_a_form_with_a_good_image_saves_it_with_thumbnails(product, media_root):
    form_class = modelform_factory(ProductImage, fields=["product", "image", "alt_text", "position"])
    form = form_class({"product": product.pk, "alt_text": "Side", "position": 0}, {"image": image_upload()})

    assert form.is_valid(), form.errors
    form.save()

    assert len(stored_files(media_root)) == 4


# --- The product shows its images, in a fixed number of queries ------------------------------------------


def test_the_product_detail_and_list_show_the_images_in_order(api_client, product):
    second = ProductImageFactory(product=product, position=5)
    first = ProductImageFactory(product=product, position=1)

    detail = api_client.get(f"{PRODUCTS}{product.pk}/").json()
    [listed] = api_client.get(PRODUCTS).json()["results"]

    assert [image["id"] for image in detail["images"]] == [first.pk, second.pk]
    assert listed["images"] == detail["images"]
    shown = detail["images"][0]
    assert set(shown) == {"id", "alt_text", "position", "variant", "url", "thumbnails"}
    assert shown["url"] == f"http://testserver/media/{first.image.name}"
    assert all(url.startswith("http://testserver/media/thumbnails/") for url in shown["thumbnails"].values())


@pytest.mark.parametrize("products", [2, 12])
def test_the_product_list_reads_images_in_one_query(api_client, staff_client, django_assert_num_queries, products):
    for product in ProductFactory.create_batch(products):
        ProductImageFactory.create_batch(2, product=product)

    # 1. the page JOIN category; 2. its variants; 3. the page's images (not full: no COUNT(*)).
    with django_assert_num_queries(3):
        response = api_client.get(PRODUCTS, {"page_size": 100})
    # 1-2. the staff member's permissions; 3. the page JOIN category; 4. variants; 5. images.
    with django_assert_num_queries(5):
        staff_client.get(PRODUCTS, {"page_size": 100})

    assert sum(len(row["images"]) for row in response.json()["results"]) == 2 * products


@pytest.mark.parametrize("count", [1, 6])
def test_the_product_detail_reads_images_in_one_query(api_client, product, django_assert_num_queries, count):
    ProductImageFactory.create_batch(count, product=product)

    # 1. the product JOIN category; 2. its variants; 3. their option values; 4. its images;
    # 5. its options (none: no query for their values); 6. its extras.
    with django_assert_num_queries(6):
        response = api_client.get(f"{PRODUCTS}{product.pk}/")

    assert len(response.json()["images"]) == count


# --- The cache ------------------------------------------------------------------------------------


def test_an_upload_and_a_delete_refresh_the_cached_detail_and_list(
    api_client, staff_client, product, django_capture_on_commit_callbacks
):
    detail = f"{PRODUCTS}{product.pk}/"
    for url in (detail, PRODUCTS):
        api_client.get(url)
        assert api_client.get(url)["X-Cache"] == "HIT"

    with django_capture_on_commit_callbacks(execute=True):
        image_id = upload(staff_client, product).json()["id"]

    shown, listed = api_client.get(detail), api_client.get(PRODUCTS)
    assert (shown["X-Cache"], listed["X-Cache"]) == ("MISS", "MISS")
    assert [image["id"] for image in shown.json()["images"]] == [image_id]
    assert [image["id"] for image in listed.json()["results"][0]["images"]] == [image_id]

    with django_capture_on_commit_callbacks(execute=True):
        staff_client.delete(f"{images_url(product)}{image_id}/")

    shown, listed = api_client.get(detail), api_client.get(PRODUCTS)
    assert (shown["X-Cache"], listed["X-Cache"]) == ("MISS", "MISS")
    assert shown.json()["images"] == listed.json()["results"][0]["images"] == []


# --- S3-compatible storage, end to end against a local S3 server ------------------------------------------

BUCKET = "shopkeep-media"
PUBLIC_READ = {
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{BUCKET}/*"}
    ],
}


def s3_storage_setting(endpoint: str) -> dict:
    """Return STORAGES["default"] as the settings build it with MEDIA_STORAGE=s3 (read in a fresh interpreter)."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(("AWS_", "MEDIA_"))}
    env.update(
        MEDIA_STORAGE="s3",
        AWS_STORAGE_BUCKET_NAME=BUCKET,
        AWS_S3_ENDPOINT_URL=endpoint,
        AWS_ACCESS_KEY_ID="shopkeep-test",
        AWS_SECRET_ACCESS_KEY="shopkeep-test-secret",
        AWS_S3_REGION_NAME="us-east-1",
    )
    code = (
        "import environ, json; environ.Env.read_env = staticmethod(lambda *args, **kwargs: None); "
        "from config.settings import base; print(json.dumps(base.STORAGES['default']))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, check=True
    )
    return json.loads(result.stdout)


@pytest.fixture
def s3(settings):
    """A local S3 server (moto) with an empty bucket, and the media storage pointed at it; stopped after."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=free_port(), verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    try:
        storage = s3_storage_setting(endpoint)
        client = boto3.client(
            "s3",
            endpoint_url=endpoint,
            aws_access_key_id=storage["OPTIONS"]["access_key"],
            aws_secret_access_key=storage["OPTIONS"]["secret_key"],
            region_name="us-east-1",
        )
        client.create_bucket(Bucket=BUCKET)
        client.put_bucket_policy(Bucket=BUCKET, Policy=json.dumps(PUBLIC_READ))  # as the README asks
        settings.STORAGES = {**settings.STORAGES, "default": storage}
        yield SimpleNamespace(client=client, endpoint=endpoint)
    finally:
        try:  # the server keeps its buckets in this process's memory: forget them
            urllib.request.urlopen(urllib.request.Request(f"{endpoint}/moto-api/reset", method="POST"), timeout=10)
        finally:
            server.stop()


def bucket_keys(client) -> list[str]:
    return sorted(item["Key"] for item in client.list_objects_v2(Bucket=BUCKET).get("Contents", []))


def test_on_s3_an_upload_stores_the_image_and_thumbnails_in_the_bucket(
    s3, staff_client, product, media_root, django_capture_on_commit_callbacks
):
    response = upload(staff_client, product)

    assert response.status_code == 201, response.content
    body = response.json()
    prefix = f"{s3.endpoint}/{BUCKET}/"
    urls = [body["url"], *body["thumbnails"].values()]
    assert all(url.startswith(prefix) and "?" not in url for url in urls), urls
    keys = [url.removeprefix(prefix) for url in urls]
    assert bucket_keys(s3.client) == sorted(keys)
    assert keys[0].startswith(f"products/{product.pk}/")
    head = s3.client.head_object(Bucket=BUCKET, Key=keys[1])
    assert head["ContentType"] == "image/webp"
    assert head["CacheControl"] == "public, max-age=31536000, immutable"
    with urllib.request.urlopen(body["thumbnails"]["small"], timeout=10) as served:
        assert Image.open(io.BytesIO(served.read())).size == (160, 107)
    assert stored_files(media_root) == []  # nothing went to the filesystem

    with django_capture_on_commit_callbacks(execute=True):
        assert staff_client.delete(f"{images_url(product)}{body['id']}/").status_code == 204

    assert bucket_keys(s3.client) == []


def test_on_s3_a_refused_upload_stores_nothing(s3, staff_client, product):
    response = upload(staff_client, product, image_upload("bomb.png", png_claiming(30000, 30000)))

    assert_error(response, 400, "invalid_image")
    assert bucket_keys(s3.client) == []
