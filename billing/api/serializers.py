from rest_framework import serializers

from billing.models import Invoice, Payment, PaymentAttempt


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


class InvoiceSerializer(serializers.ModelSerializer):
    order_number = serializers.CharField(source="order.number", read_only=True)
    print_url = serializers.HyperlinkedIdentityField(view_name="invoice-print", help_text="The printable HTML page.")
    pdf_url = serializers.HyperlinkedIdentityField(view_name="invoice-pdf", help_text="The same page as a PDF.")

    class Meta:
        model = Invoice
        fields = [
            "id", "number", "order", "order_number", "issued_at", "subtotal", "discount", "total", "payment_method",
            "print_url", "pdf_url",
        ]  # fmt: skip
