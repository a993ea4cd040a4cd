"""The admin's main paths in a real browser (SPEC §8): log in, read the dashboard, open an invoice,
refund part of an order, cancel with the confirmation."""

from decimal import Decimal

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from billing.factories import RefundFactory
from billing.models import Refund
from catalog.factories import ExtraFactory, ProductFactory
from orders.factories import OrderFactory
from orders.models import Order
from orders.status import Status
from tests.browser.pages import messages, overflows, sign_in, visit, wait_for
from tests.utils import stock_of

pytestmark = pytest.mark.django_db(transaction=True)


def test_staff_log_in_and_read_the_dashboard(browser, admin_user):
    OrderFactory.create_batch(3, lines=[(ProductFactory(price=Decimal("10.00"), stock=50), 1)])

    sign_in(browser, admin_user)  # the login lands on the dashboard

    panel = wait_for(browser, "#shop-dashboard-orders").find_element(By.XPATH, "..")
    assert "PLACED\n3\nREVENUE\n30.00 USD" in panel.text
    assert not overflows(browser)


def test_the_order_list_fits_and_an_invoice_opens_from_the_order(staff_browser):
    order = OrderFactory(lines=[(ProductFactory(price=Decimal("12.50")), 2)], status=Status.DELIVERED)

    visit(staff_browser, "/admin/orders/order/")
    wait_for(staff_browser, "#result_list")
    assert not overflows(staff_browser)
    staff_browser.find_element(By.LINK_TEXT, order.number).click()
    wait_for(staff_browser, "#order_form")
    invoice_page = staff_browser.find_element(By.PARTIAL_LINK_TEXT, "Print").get_attribute("href")
    staff_browser.get(invoice_page)

    sheet = wait_for(staff_browser, ".sheet").text
    assert order.invoice.number in sheet and order.number in sheet and "25.00" in sheet


def test_staff_refund_a_returned_unit_back_into_stock(staff_browser):
    product = ProductFactory(price=Decimal("12.50"), stock=10)
    order = OrderFactory(lines=[(product, 2)], status=Status.DELIVERED)

    visit(staff_browser, f"/admin/orders/order/{order.pk}/change/")
    staff_browser.find_element(By.PARTIAL_LINK_TEXT, "Refund or return items").click()
    quantity = wait_for(staff_browser, f"input[name=item_{order.items.get().pk}]")
    quantity.clear()
    quantity.send_keys("1")
    staff_browser.find_element(By.NAME, "restock").click()
    staff_browser.find_element(By.NAME, "reason").send_keys("Returned unopened.")
    staff_browser.find_element(By.CSS_SELECTOR, "input[type=submit][value=Refund]").click()

    wait_for(staff_browser, "ul.messagelist")
    assert "Refunded 12.50 USD (paid out)." in messages(staff_browser)
    refund = Refund.objects.get()
    assert (refund.amount, refund.restock, refund.reason) == (Decimal("12.50"), True, "Returned unopened.")
    assert stock_of(product) == 9


def test_staff_cancel_an_order_after_reading_what_happens(staff_browser):
    product = ProductFactory(stock=10)
    order = OrderFactory(lines=[(product, 3)])

    visit(staff_browser, "/admin/orders/order/")
    wait_for(staff_browser, "#result_list")
    staff_browser.find_element(By.CSS_SELECTOR, f"input.action-select[value='{order.pk}']").click()
    Select(staff_browser.find_element(By.NAME, "action")).select_by_value("cancel_orders")
    staff_browser.find_element(By.NAME, "index").click()

    page = wait_for(staff_browser, "#content").text
    assert "3 units back into stock." in page
    assert "No cash collected yet" in page
    assert Order.objects.get(pk=order.pk).status == Status.CONFIRMED  # nothing happens before the confirmation
    staff_browser.find_element(By.CSS_SELECTOR, "input[type=submit][value='Yes, cancel them']").click()

    wait_for(staff_browser, "ul.messagelist")
    assert "1 order cancelled." in messages(staff_browser)
    assert Order.objects.get(pk=order.pk).status == Status.CANCELLED
    assert stock_of(product) == 10


def test_staff_restock_a_low_product_from_its_variants(staff_browser, settings):
    settings.LOW_STOCK_THRESHOLD = 5
    product = ProductFactory(name="Teapot", sku="TEA-1", stock=2)

    visit(staff_browser, "/admin/catalog/product/?stock_level=low")  # where the dashboard's low-stock link goes
    wait_for(staff_browser, "#result_list")
    assert not overflows(staff_browser)
    staff_browser.find_element(By.CSS_SELECTOR, "td.field-stock a").click()  # the product's variants
    wait_for(staff_browser, "#result_list")
    assert not overflows(staff_browser)
    variant = product.variants.get()
    staff_browser.find_element(By.CSS_SELECTOR, f"input.action-select[value='{variant.pk}']").click()
    Select(staff_browser.find_element(By.NAME, "action")).select_by_value("restock")
    staff_browser.find_element(By.NAME, "index").click()
    units = wait_for(staff_browser, "input[name=units]")
    units.clear()
    units.send_keys("12")
    staff_browser.find_element(By.CSS_SELECTOR, "input[type=submit][value=Restock]").click()

    wait_for(staff_browser, "ul.messagelist")
    assert "Added 12 units to 1 variant." in messages(staff_browser)
    assert stock_of(product) == 14


def test_staff_generate_a_shirts_variants_from_its_page(staff_browser):
    product = ProductFactory(name="Shirt", sku="SHIRT", stock=3)
    product.add_option("Size", ["S", "M", "L"])
    product.add_option("Colour", ["Navy", "White"])

    visit(staff_browser, f"/admin/catalog/product/{product.pk}/change/")
    wait_for(staff_browser, "#product_form")
    staff_browser.find_element(By.XPATH, "//button[normalize-space()='Generate variants']").click()

    wait_for(staff_browser, "ul.messagelist")
    assert messages(staff_browser)[0].startswith("Added 5 variants, with no stock yet")
    assert product.variants.count() == 6
    assert "Size L, Colour White" in staff_browser.find_element(By.CSS_SELECTOR, "#content").text
    assert not overflows(staff_browser)
    assert stock_of(product) == 3


def test_staff_move_an_order_along_with_its_buttons_then_cancel_it(staff_browser):
    product = ProductFactory(stock=10)
    order = OrderFactory(lines=[(product, 2)])  # cash: confirmed at once

    visit(staff_browser, f"/admin/orders/order/{order.pk}/change/")
    wait_for(staff_browser, "button[name=status][value=in_progress]")
    assert not staff_browser.find_elements(By.CSS_SELECTOR, "input[name=_save]")  # nothing to save here
    staff_browser.find_element(By.CSS_SELECTOR, "input[name=note]").send_keys("Packing now.")
    staff_browser.find_element(By.CSS_SELECTOR, "button[name=status][value=in_progress]").click()

    wait_for(staff_browser, "ul.messagelist")
    assert Order.objects.get(pk=order.pk).status == Status.IN_PROGRESS
    assert order.events.get(to_status=Status.IN_PROGRESS).note == "Packing now."
    assert "In progress" in staff_browser.find_element(By.CSS_SELECTOR, "#content").text
    staff_browser.find_element(By.PARTIAL_LINK_TEXT, "Cancel").click()
    page = wait_for(staff_browser, "#content").text
    assert "2 units back into stock." in page
    staff_browser.find_element(By.CSS_SELECTOR, "input[type=submit][value^='Yes']").click()

    wait_for(staff_browser, "ul.messagelist")
    assert Order.objects.get(pk=order.pk).status == Status.CANCELLED
    assert stock_of(product) == 10


@pytest.mark.parametrize(
    "page",
    [
        "/admin/billing/payment/",
        "/admin/billing/invoice/",
        "/admin/billing/creditnote/",
        "/admin/catalog/product/",
        "/admin/catalog/variant/",
        "/admin/customers/customer/",
        "/admin/orders/order/",
        "customer",
        "order",
        "product",
    ],
)
def test_pages_fit_the_screen(staff_browser, page):
    """At 1400 px nothing scrolls sideways: neither the page nor a list inside it."""
    order = OrderFactory(lines=[(ProductFactory(stock=10), 1), (ProductFactory(stock=10), 2)], status=Status.DELIVERED)
    RefundFactory(order=order, units={order.items.first().pk: 1}, restock=True)
    shirt = ProductFactory(name="A shirt with a long name, in organic cotton", sku="SHIRT-ORGANIC-COTTON-CREW", stock=5)
    shirt.add_option("Size", ["XS", "S", "M", "L", "XL"])
    shirt.add_option("Colour", ["Navy", "Off-white", "Forest green"])
    shirt.generate_variants()
    ExtraFactory(product=shirt, name="Gift wrap")
    paths = {
        "customer": f"/admin/customers/customer/{order.customer.pk}/change/",
        "order": f"/admin/orders/order/{order.pk}/change/",
        "product": f"/admin/catalog/product/{shirt.pk}/change/",
    }

    visit(staff_browser, paths.get(page, page))
    wait_for(staff_browser, "#content")

    assert not overflows(staff_browser)
    inner = staff_browser.execute_script(
        "return [...document.querySelectorAll('.results, .tabular')].filter(e => e.scrollWidth > e.clientWidth).length"
    )
    assert inner == 0
