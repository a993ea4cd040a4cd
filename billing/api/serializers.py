from rest_framework import serializers

from billing.models import DiscountCode, Invoice, Payment, PaymentAttempt


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

    class Meta:
        model = Invoice
        fields = [
            "id", "number", "order", "order_number", "issued_at", "subtotal", "discount", "total", "payment_method",
            "print_url",
        ]  # fmt: skip


class DiscountCodeSerializer(serializers.ModelSerializer):
    class Meta:
        model = DiscountCode
        fields = [
            "id", "code", "kind", "value", "valid_from", "valid_until", "max_uses", "times_used", "is_active",
            "created_at", "updated_at",
        ]  # fmt: skip

    def validate_code(self, code: str) -> str:
        """Refuse a code another has in any letter case."""
        others = DiscountCode.objects.filter(code__iexact=code.strip())
        if self.instance is not None:
            others = others.exclude(pk=self.instance.pk)
        if others.exists():
            raise serializers.ValidationError("A discount code with this code already exists.", code="unique")
        return code.strip()

    def validate(self, attrs):
        kind = attrs.get("kind", getattr(self.instance, "kind", None))
        value = attrs.get("value", getattr(self.instance, "value", None))
        if kind == DiscountCode.Kind.PERCENT and value is not None and value > 100:
            raise serializers.ValidationError({"value": ["A percentage cannot be above 100."]})
        starts = attrs.get("valid_from", getattr(self.instance, "valid_from", None))
        ends = attrs.get("valid_until", getattr(self.instance, "valid_until", None))
        if starts and ends and ends <= starts:
            raise serializers.ValidationError({"valid_until": ["Must be after valid_from."]})
        return attrs
