"""Staff admin for billing (SPEC §8): payments with their attempts, invoices with the print link."""

import csv
import io
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from billing.admin import PAYMENT_STATUS_TONES
from billing.factories import OUTAGE_ERROR, CardOrderFactory, RefundFactory
from billing.models import CreditNote, CreditNoteSequence, Invoice, InvoiceSequence, Payment, PaymentAttempt, Refund
from catalog.factories import ProductFactory
from common.admin import badge
from common.formats import short_datetime
from orders.factories import OrderFactory
from orders.models import Order
from orders.status import Status
from tests.utils import change_url, changelist_url, listed, messages_of, stock_of

pytestmark = pytest.mark.django_db

PRODUCT = {"price": Decimal("12.50")}  # the conftest's product at this price: two cost 25.00


class TestPaymentAdmin:
    @pytest.mark.parametrize("count", [3, 30])
    def test_changelist_query_count_does_not_grow_with_rows(self, admin_client, django_assert_num_queries, count):
        for _ in range(count):
            CardOrderFactory(status=Status.CONFIRMED, outages=1)

        # 1 session, 2 user, 3 count of the filtered rows (no second, unfiltered count),
        # 4 the page of payments JOIN order. The method filter's choices are fixed and the
        # badges read the rows: no query.
        with django_assert_num_queries(4):
            response = admin_client.get(changelist_url(Payment))

        assert response.status_code == 200
        assert [payment.attempt_count for payment in listed(response)] == [2] * count

    def test_search_finds_payments_by_order_number_customer_email_and_gateway_reference(self, admin_client):
        wanted = CardOrderFactory(status=Status.CONFIRMED, customer__email="ada@example.com")
        CardOrderFactory(status=Status.CONFIRMED)
        payment = wanted.payment

        for query in (wanted.number, "ada@example", payment.gateway_reference):
            response = admin_client.get(changelist_url(Payment), {"q": query})
            assert listed(response) == [payment], query

    def test_method_filter(self, admin_client):
        paid = CardOrderFactory(status=Status.CONFIRMED)

        by_card = admin_client.get(changelist_url(Payment), {"method": "card"})
        by_cash = admin_client.get(changelist_url(Payment), {"method": "cash"})

        assert listed(by_card) == [paid.payment]
        assert listed(by_cash) == []

    def test_status_filter(self, admin_client):
        waiting, paid = CardOrderFactory(), CardOrderFactory(status=Status.CONFIRMED)

        response = admin_client.get(changelist_url(Payment), {"status__exact": Payment.Status.PENDING})

        assert listed(response) == [waiting.payment]
        assert paid.payment.status == Payment.Status.SUCCEEDED  # listed under its own status instead

    def test_payment_page_shows_its_attempts_read_only(self, admin_client):
        order = CardOrderFactory(status=Status.CONFIRMED, outages=1)

        response = admin_client.get(change_url(order.payment))

        assert response.status_code == 200
        inline = response.context["inline_admin_formsets"][0]
        assert [(form.instance.number, form.instance.outcome) for form in inline.formset.forms] == [
            (1, PaymentAttempt.Outcome.OUTAGE),
            (2, PaymentAttempt.Outcome.SUCCEEDED),
        ]
        assert not (inline.has_add_permission or inline.has_change_permission or inline.has_delete_permission)
        page = response.content.decode()
        assert OUTAGE_ERROR in page
        assert order.payment.gateway_reference in page
        assert reverse("admin:orders_order_change", args=[order.pk]) in page  # the order is a link

    def test_payments_cannot_be_added_changed_or_deleted(self, admin_client, product):
        payment = CardOrderFactory(status=Status.CONFIRMED, lines=[(product, 2)]).payment

        response = admin_client.post(change_url(payment), {"status": Payment.Status.REFUNDED, "amount": "0.00"})

        assert response.status_code == 403
        payment.refresh_from_db()
        assert (payment.status, payment.amount) == (Payment.Status.SUCCEEDED, Decimal("25.00"))
        assert admin_client.get(reverse("admin:billing_payment_add")).status_code == 403
        assert admin_client.get(reverse("admin:billing_payment_delete", args=[payment.pk])).status_code == 403
        assert not admin_client.get(change_url(payment)).context["has_change_permission"]

    def test_attempts_are_listed_with_a_fixed_number_of_queries(self, admin_client, django_assert_num_queries):
        for _ in range(5):
            CardOrderFactory(status=Status.CONFIRMED, outages=1)

        # 1 session, 2 user, 3 count, 4 the page of attempts JOIN payment JOIN order.
        with django_assert_num_queries(4):
            response = admin_client.get(changelist_url(PaymentAttempt))

        assert len(listed(response)) == 10
        assert admin_client.get(change_url(listed(response)[0])).status_code == 200


class TestInvoiceAdmin:
    @pytest.mark.parametrize("count", [3, 30])
    def test_changelist_query_count_does_not_grow_with_rows(self, admin_client, django_assert_num_queries, count):
        for _ in range(count):
            OrderFactory()  # confirmed at once: the invoice is issued

        # 1 session, 2 user, 3 count of the filtered rows, 4 the page of invoices JOIN order.
        with django_assert_num_queries(4):
            response = admin_client.get(changelist_url(Invoice))

        assert response.status_code == 200
        assert len(listed(response)) == count

    def test_search_finds_invoices_by_number_order_number_and_customer_email(self, admin_client):
        order = OrderFactory(customer__email="grace@example.com")
        OrderFactory()
        invoice = order.invoice

        for query in (invoice.number, order.number, "grace@example"):
            response = admin_client.get(changelist_url(Invoice), {"q": query})
            assert listed(response) == [invoice], query

    def test_payment_method_filter(self, admin_client):
        cash, card = OrderFactory().invoice, CardOrderFactory(status=Status.CONFIRMED).invoice

        assert listed(admin_client.get(changelist_url(Invoice), {"payment_method": "cash"})) == [cash]
        assert listed(admin_client.get(changelist_url(Invoice), {"payment_method": "card"})) == [card]

    def test_each_row_links_the_printable_page_in_a_new_tab(self, admin_client):
        invoice = OrderFactory().invoice

        page = admin_client.get(changelist_url(Invoice)).content.decode()

        url = reverse("invoice-print", args=[invoice.pk])
        assert f'<a href="{url}" target="_blank" rel="noopener">' in page

    def test_the_change_page_links_the_printable_page_which_renders_for_the_admin_session(self, admin_client):
        invoice = OrderFactory().invoice
        url = reverse("invoice-print", args=[invoice.pk])

        page = admin_client.get(change_url(invoice))

        assert page.status_code == 200
        assert f'<a href="{url}" target="_blank" rel="noopener">' in page.content.decode()
        printed = admin_client.get(url)
        assert printed.status_code == 200
        assert printed["Content-Type"].startswith("text/html")
        assert invoice.number in printed.content.decode()

    def test_the_invoice_and_order_pages_link_the_pdf_which_renders_for_the_admin_session(self, admin_client):
        invoice = OrderFactory().invoice
        url = reverse("invoice-pdf", args=[invoice.pk])

        for page in (admin_client.get(change_url(invoice)), admin_client.get(change_url(invoice.order))):
            assert f'<a href="{url}" target="_blank" rel="noopener">PDF ↗</a>' in page.content.decode()
        pdf = admin_client.get(url)
        assert pdf.status_code == 200
        assert pdf["Content-Type"] == "application/pdf"
        assert pdf.content.startswith(b"%PDF")

    def test_invoices_are_read_only(self, admin_client, product):
        invoice = OrderFactory(lines=[(product, 2)]).invoice

        response = admin_client.post(change_url(invoice), {"total": "0.00"})

        assert response.status_code == 403
        assert Invoice.objects.get(pk=invoice.pk).total == Decimal("25.00")
        assert admin_client.get(reverse("admin:billing_invoice_add")).status_code == 403
        assert admin_client.get(reverse("admin:billing_invoice_delete", args=[invoice.pk])).status_code == 403

    def test_export_csv_lists_the_selected_invoices(self, admin_client, product):
        invoice = OrderFactory(customer__email="ada@example.com", lines=[(product, 2)]).invoice

        response = admin_client.post(
            changelist_url(Invoice), {"action": "export_csv", "_selected_action": [invoice.pk]}
        )

        rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
        assert rows[0][:3] == ["number", "order_number", "customer_email"]
        assert rows[1][:3] == [invoice.number, invoice.order.number, "ada@example.com"]
        assert rows[1][-1] == "25.00"

    def test_the_invoice_sequence_is_listed_read_only(self, admin_client):
        OrderFactory()
        sequence = InvoiceSequence.objects.get()

        response = admin_client.get(changelist_url(InvoiceSequence))

        assert listed(response) == [sequence]
        assert admin_client.post(change_url(sequence), {"last_number": 0}).status_code == 403
        assert InvoiceSequence.objects.get().last_number == 1


def test_every_billing_model_is_registered(admin_client):
    for model in (Payment, PaymentAttempt, Invoice, InvoiceSequence, Refund, CreditNote, CreditNoteSequence):
        assert admin_client.get(changelist_url(model)).status_code == 200, model


# --- Refunds and cancellations from the order pages ------------------------------------------------

ORDERS = reverse("admin:orders_order_changelist")


def run_action(client, action: str, orders, **extra):
    body = {"action": action, "_selected_action": [order.pk for order in orders], **extra}
    return client.post(ORDERS, body, follow=True)


def refund_page(order) -> str:
    return reverse("admin:orders_order_refund", args=[order.pk])


class TestCancelAction:
    def test_it_asks_first_saying_what_happens_to_stock_and_money(self, admin_client, product):
        card = CardOrderFactory(lines=[(product, 2)], status=Status.CONFIRMED)
        cash = OrderFactory(lines=[(product, 1)])

        page = run_action(admin_client, "cancel_orders", [card, cash])

        text = page.content.decode()
        assert "Cancel these orders?" in text
        assert "2 units back into stock." in text and "1 unit back into stock." in text
        assert "25.00 USD refunded to the card, through the gateway, with a credit note." in text
        assert "No cash collected yet: nothing to refund; the invoice is credited in full." in text
        assert {order.status for order in Order.objects.all()} == {Status.CONFIRMED}  # nothing changed yet

    def test_confirming_cancels_gives_the_stock_back_and_refunds(self, admin_client, product):
        card = CardOrderFactory(lines=[(product, 2)], status=Status.CONFIRMED)

        page = run_action(admin_client, "cancel_orders", [card], confirmed="yes", note="Customer called.")

        assert "1 order cancelled." in messages_of(page)
        card.refresh_from_db()
        assert card.status == Status.CANCELLED
        assert card.events.get(to_status=Status.CANCELLED, from_status=Status.CONFIRMED).note == "Customer called."
        assert stock_of(product) == 10
        refund = Refund.objects.get(payment__order=card)
        assert (refund.amount, refund.credit_note.amount) == (Decimal("25.00"), Decimal("25.00"))

    def test_an_order_past_cancelling_is_named_with_the_reason(self, admin_client, product):
        delivered = OrderFactory(lines=[(product, 1)], status=Status.DELIVERED)

        page = run_action(admin_client, "cancel_orders", [delivered], confirmed="yes")

        assert f"{delivered.number} is Delivered: it is final." in messages_of(page)
        assert Order.objects.get(pk=delivered.pk).status == Status.DELIVERED


class TestRefundAction:
    def test_it_asks_first_then_refunds_each_order_in_full(self, admin_client, product):
        delivered = OrderFactory(lines=[(product, 2)], status=Status.DELIVERED)
        unpaid = OrderFactory(lines=[(product, 1)])

        asked = run_action(admin_client, "refund_orders", [delivered, unpaid])
        assert "25.00 USD refunded in cash, with a credit note." in asked.content.decode()
        assert "Nothing has been paid yet: it will be refused." in asked.content.decode()
        assert not Refund.objects.exists()

        done = run_action(admin_client, "refund_orders", [delivered, unpaid], confirmed="yes", note="Goodwill.")

        assert "1 order refunded." in messages_of(done)
        assert any(unpaid.number in message and "Nothing has been paid" in message for message in messages_of(done))
        refund = Refund.objects.get()
        assert (refund.payment.order, refund.amount, refund.reason) == (delivered, Decimal("25.00"), "Goodwill.")

    def test_staff_without_the_refund_permission_are_not_offered_it(self, client, staff_user, product):
        staff_user.user_permissions.remove(Permission.objects.get(codename="add_refund"))
        client.force_login(staff_user)

        page = client.get(ORDERS)

        assert "refund_orders" not in page.content.decode()
        assert "cancel_orders" in page.content.decode()


class TestRefundPage:
    @pytest.fixture
    def order(self, product):
        other = ProductFactory(price=Decimal("4.00"), stock=10)
        return OrderFactory(lines=[(product, 2), (other, 3)], status=Status.DELIVERED)

    def test_the_order_page_links_it_and_lists_refunds(self, admin_client, order):
        RefundFactory(order=order, units={order.items.first().pk: 1}, reason="Scratched.")

        page = admin_client.get(change_url(order)).content.decode()

        assert refund_page(order) in page
        assert "12.50 USD" in page and "Scratched." in page
        assert "(Partially refunded)" in page and "CN-" in page

    def test_refunding_some_units_with_restock(self, admin_client, order, product):
        first, second = order.items.order_by("pk")
        assert f'name="item_{first.pk}"' in admin_client.get(refund_page(order)).content.decode()

        response = admin_client.post(
            refund_page(order),
            {f"item_{first.pk}": 1, f"item_{second.pk}": 0, "restock": "on", "reason": "Wrong colour."},
            follow=True,
        )

        assert "Refunded 12.50 USD (paid out)." in messages_of(response)
        refund = Refund.objects.get()
        assert (refund.amount, refund.restock, refund.actor.username) == (Decimal("12.50"), True, "admin")
        assert stock_of(product) == 9

    @pytest.mark.parametrize(
        "units, error",
        [({}, "Choose at least one unit to refund."), ({"first": 3}, "Ensure this value is less than or equal to 2.")],
    )
    def test_a_form_that_breaks_a_rule_says_why_and_refunds_nothing(self, admin_client, order, units, error):
        first = order.items.order_by("pk").first()
        body = {f"item_{first.pk}": units["first"]} if units else {}

        response = admin_client.post(refund_page(order), body)

        assert response.status_code == 200
        assert error in response.content.decode()
        assert not Refund.objects.exists()

    def test_a_refund_the_rules_refuse_is_shown_on_the_form(self, admin_client, product):
        unpaid = OrderFactory(lines=[(product, 1)])

        response = admin_client.post(refund_page(unpaid), {f"item_{unpaid.items.get().pk}": 1})

        assert "Nothing has been paid on this order yet" in response.content.decode()
        assert not Refund.objects.exists()

    def test_staff_without_the_refund_permission_get_403(self, client, staff_user, order):
        staff_user.user_permissions.remove(Permission.objects.get(codename="add_refund"))
        client.force_login(staff_user)

        assert client.get(refund_page(order)).status_code == 403


class TestOrderPageMoney:
    """Billing's part of the order page: the cancel confirmation, the refund button, and the money's documents."""

    def test_the_cancel_button_asks_first_then_cancels_with_the_stock_back(self, admin_client, admin_user, product):
        order = CardOrderFactory(lines=[(product, 2)], status=Status.CONFIRMED)
        cancel_page = reverse("admin:orders_order_cancel", args=[order.pk])

        buttons = admin_client.get(change_url(order)).context["workbench_buttons"]
        asked = admin_client.get(cancel_page).content.decode()

        assert ("Cancel order…", cancel_page) in [(button.label, button.url) for button in buttons]
        assert Status.CANCELLED not in [button.status for button in buttons]  # never without the question
        assert f"Cancel order {order.number}?" in asked
        assert "2 units back into stock." in asked
        assert "25.00 USD refunded to the card, through the gateway, with a credit note." in asked
        assert f'<a href="{change_url(order)}" class="button cancel-link">No, take me back</a>' in asked
        assert (Order.objects.get(pk=order.pk).status, stock_of(product)) == (Status.CONFIRMED, 8)

        done = admin_client.post(cancel_page, {"confirmed": "yes", "note": "Customer called."}, follow=True)

        assert done.redirect_chain == [(change_url(order), 302)]
        assert f"{order.number} is now Cancelled." in messages_of(done)
        event = Order.objects.get(pk=order.pk).events.get(from_status=Status.CONFIRMED, to_status=Status.CANCELLED)
        assert (event.actor, event.note) == (admin_user, "Customer called.")
        assert stock_of(product) == 10
        assert Refund.objects.get(payment__order=order).amount == Decimal("25.00")

    def test_cancelling_a_shipped_order_from_its_page_is_refused_in_words(self, admin_client, product):
        order = OrderFactory(lines=[(product, 1)], delivery_method="home_delivery", status=Status.SHIPPED)

        done = admin_client.post(
            reverse("admin:orders_order_cancel", args=[order.pk]), {"confirmed": "yes"}, follow=True
        )

        assert messages_of(done) == [f"{order.number} is Shipped: it can move to Delivered only."]
        assert (Order.objects.get(pk=order.pk).status, stock_of(product)) == (Status.SHIPPED, 9)

    def test_staff_who_may_only_view_orders_cannot_cancel_from_the_page(self, client, staff_without_permissions):
        staff_without_permissions.user_permissions.add(Permission.objects.get(codename="view_order"))
        client.force_login(staff_without_permissions)
        order = OrderFactory()

        response = client.post(reverse("admin:orders_order_cancel", args=[order.pk]), {"confirmed": "yes"})

        assert response.status_code == 403
        assert Order.objects.get(pk=order.pk).status == Status.CONFIRMED

    def test_the_refund_button_shows_while_money_is_left_to_refund(self, admin_client, product):
        collected = OrderFactory(lines=[(product, 2)], status=Status.DELIVERED)  # cash, collected on delivery
        not_collected = OrderFactory(lines=[(product, 1)])
        refunded = RefundFactory(order=OrderFactory(lines=[(product, 1)], status=Status.DELIVERED)).payment.order

        def refund_buttons(order) -> list[str]:
            buttons = admin_client.get(change_url(order)).context["workbench_buttons"]
            return [button.label for button in buttons if button.url == refund_page(order)]

        assert refund_buttons(collected) == ["Refund or return items…"]
        assert refund_buttons(not_collected) == []
        assert refund_buttons(refunded) == []

    def test_staff_without_the_refund_permission_get_no_refund_button(self, client, staff_user, product):
        staff_user.user_permissions.remove(Permission.objects.get(codename="add_refund"))
        client.force_login(staff_user)
        order = OrderFactory(lines=[(product, 2)], status=Status.DELIVERED)

        page = client.get(change_url(order))

        assert refund_page(order) not in page.content.decode()

    @pytest.mark.parametrize("refunds", [1, 3])
    def test_the_page_with_refunds_and_credit_notes_runs_a_fixed_number_of_queries(
        self, admin_client, django_assert_num_queries, refunds
    ):
        order = OrderFactory(lines=[(ProductFactory(stock=10), 3)], status=Status.DELIVERED)
        for _ in range(refunds):
            RefundFactory(order=order, units={order.items.get().pk: 1})
        admin_client.get(change_url(order))  # Django caches the order's content type for the page once per process

        # The same nine as tests/orders/test_admin.py counts: the refunds and their credit notes
        # come in one query each, however many there are.
        with django_assert_num_queries(9):
            response = admin_client.get(change_url(order))

        assert response.content.decode().count("paid out") == refunds

    def test_payment_invoice_credit_notes_refunds_and_history_link_each_other(self, admin_client, admin_user, product):
        order = OrderFactory(lines=[(product, 2)], status=Status.DELIVERED)
        refund = RefundFactory(
            order=order, units={order.items.get().pk: 1}, reason="Scratched.", restock=True, actor=admin_user
        )
        credit_note = refund.credit_note

        body = admin_client.get(change_url(order)).content.decode()

        for url in (
            reverse("admin:billing_payment_change", args=[order.payment.pk]),
            reverse("admin:billing_invoice_change", args=[order.invoice.pk]),
            reverse("invoice-pdf", args=[order.invoice.pk]),
            reverse("admin:billing_creditnote_change", args=[credit_note.pk]),
            reverse("credit-note-print", args=[credit_note.pk]),
            reverse("admin:billing_refund_change", args=[refund.pk]),
        ):
            assert f'href="{url}"' in body, url
        assert f"{order.invoice.number}</a> (Partially refunded)" in body
        assert f"{credit_note.number}</a> -12.50 USD" in body
        assert "12.50 USD</a>, paid out · Scratched. · returned to stock · " in body
        entry = order.events.last()  # a refund changes no status: its history entry is its note
        assert (entry.from_status, entry.to_status) == (Status.DELIVERED, Status.DELIVERED)
        assert str(entry) == f"{entry.note} (admin, {short_datetime(entry.created_at)})"
        assert str(entry) in body

    def test_payment_statuses_are_badges_in_the_list_and_on_the_order(self, admin_client):
        paid, waiting = CardOrderFactory(status=Status.CONFIRMED), CardOrderFactory()

        listed_page = admin_client.get(changelist_url(Payment)).content.decode()
        order_page = admin_client.get(change_url(paid)).content.decode()

        assert badge("Succeeded", "good") in listed_page and badge("Pending", "waiting") in listed_page
        assert badge("Confirmed", "active") in listed_page  # the order's status too
        assert f"{waiting.total:.2f} USD" in listed_page
        assert badge("Succeeded", "good") in order_page


def test_every_payment_status_has_a_colour():
    assert set(PAYMENT_STATUS_TONES) == set(Payment.Status)


class TestCreditNoteAdmin:
    def test_listed_with_their_order_and_document_links_in_a_fixed_number_of_queries(
        self, admin_client, django_assert_num_queries
    ):
        for _ in range(3):
            RefundFactory()
        admin_client.get(changelist_url(CreditNote))

        # session, user, count of the filtered rows, the page of credit notes with invoices and orders (joins)
        with django_assert_num_queries(4):
            response = admin_client.get(changelist_url(CreditNote))

        notes = listed(response)
        assert len(notes) == 3
        page = response.content.decode()
        assert reverse("credit-note-pdf", args=[notes[0].pk]) in page
        assert reverse("credit-note-print", args=[notes[0].pk]) in page

    def test_the_invoice_list_shows_each_state(self, admin_client, product):
        refunded = RefundFactory(order=OrderFactory(lines=[(product, 1)], status=Status.DELIVERED)).payment.order
        OrderFactory(lines=[(product, 1)])

        response = admin_client.get(changelist_url(Invoice))

        states = {invoice.order_id: invoice.state for invoice in listed(response)}
        assert sorted(states.values()) == ["refunded", "unpaid"]
        assert states[refunded.pk] == "refunded"
        assert "Refunded" in response.content.decode()
