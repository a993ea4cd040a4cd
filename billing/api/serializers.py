from rest_framework import serializers

from billing.models import CreditNote, Invoice, Payment, PaymentAttempt, Refund, RefundLine


class PaymentAttemptSerializer(serializers.ModelSerializer):
    class Meta:
        model = PaymentAttempt
        fields = ["number", "outcome", "error", "duration_ms", "created_at"]


class PaymentSerializer(serializers.ModelSerializer):
    attempts = PaymentAttemptSerializer(many=True, read_only=True)

    class Meta:
        model = Payment
        fields = [
            "id", "amount", "method", "status", "gateway_reference", "attempt_count", "last_error", "attempts",
            "created_at", "updated_at",
        ]  # fmt: skip


class CreditNoteLinkSerializer(serializers.ModelSerializer):
    url = serializers.HyperlinkedIdentityField(view_name="credit-note-detail")

    class Meta:
        model = CreditNote
        fields = ["id", "number", "issued_at", "amount", "url"]


class InvoiceSerializer(serializers.ModelSerializer):
    order_number = serializers.CharField(source="order.number", read_only=True)
    state = serializers.ChoiceField(
        choices=Invoice.State.choices,
        read_only=True,
        help_text="`paid`; `unpaid` (cash not collected yet); `partially_refunded` or `refunded` by its credit "
        "notes; `cancelled` (credited in full before any money came in).",
    )
    credit_notes = CreditNoteLinkSerializer(many=True, read_only=True)
    print_url = serializers.HyperlinkedIdentityField(view_name="invoice-print", help_text="The printable HTML page.")
    pdf_url = serializers.HyperlinkedIdentityField(view_name="invoice-pdf", help_text="The same page as a PDF.")

    class Meta:
        model = Invoice
        fields = [
            "id", "number", "order", "order_number", "issued_at", "subtotal", "discount", "total", "payment_method",
            "state", "credit_notes", "print_url", "pdf_url",
        ]  # fmt: skip


class CreditedLineSerializer(serializers.Serializer):
    item = serializers.IntegerField(help_text="The order item credited.")
    product_name = serializers.CharField()
    sku = serializers.CharField()
    quantity = serializers.IntegerField()
    amount = serializers.DecimalField(max_digits=12, decimal_places=2)


class CreditNoteSerializer(serializers.ModelSerializer):
    invoice_number = serializers.CharField(source="invoice.number", read_only=True)
    order = serializers.IntegerField(source="invoice.order_id", read_only=True)
    order_number = serializers.CharField(source="invoice.order.number", read_only=True)
    lines = CreditedLineSerializer(many=True, read_only=True)
    print_url = serializers.HyperlinkedIdentityField(view_name="credit-note-print", help_text="The printable page.")
    pdf_url = serializers.HyperlinkedIdentityField(view_name="credit-note-pdf", help_text="The same page as a PDF.")

    class Meta:
        model = CreditNote
        fields = [
            "id", "number", "invoice", "invoice_number", "order", "order_number", "refund", "issued_at", "amount",
            "reason", "lines", "print_url", "pdf_url",
        ]  # fmt: skip


class RefundLineSerializer(serializers.ModelSerializer):
    product_name = serializers.CharField(source="item.product_name", read_only=True)
    sku = serializers.CharField(source="item.sku", read_only=True)

    class Meta:
        model = RefundLine
        fields = ["item", "product_name", "sku", "quantity", "amount"]


class RefundSerializer(serializers.ModelSerializer):
    lines = RefundLineSerializer(many=True, read_only=True)
    credit_note = CreditNoteLinkSerializer(read_only=True, allow_null=True)

    class Meta:
        model = Refund
        fields = [
            "id", "amount", "status", "reason", "restock", "lines", "credit_note", "gateway_reference", "created_at",
            "updated_at",
        ]  # fmt: skip


class RefundUnitsSerializer(serializers.Serializer):
    item = serializers.IntegerField(min_value=1, help_text="An order item id (order responses give each item's `id`).")
    quantity = serializers.IntegerField(min_value=1, max_value=1_000_000)


class RefundRequestSerializer(serializers.Serializer):
    lines = RefundUnitsSerializer(
        many=True,
        required=False,
        allow_empty=False,
        max_length=500,
        help_text="The units to refund; leave out to refund everything not refunded yet.",
    )
    restock = serializers.BooleanField(default=False, help_text="Put the refunded units back into stock.")
    reason = serializers.CharField(max_length=500, required=False, default="", allow_blank=True)

    def validate_lines(self, lines: list[dict]) -> list[dict]:
        repeated = sorted({line["item"] for line in lines if sum(other["item"] == line["item"] for other in lines) > 1})
        if repeated:
            raise serializers.ValidationError(
                [f"Item {item} appears more than once; give its total." for item in repeated]
            )
        return lines

    def units(self) -> dict[int, int] | None:
        """Return item id -> quantity, or None for the whole order."""
        lines = self.validated_data.get("lines")
        return None if lines is None else {line["item"]: line["quantity"] for line in lines}
