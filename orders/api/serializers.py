from django.core.validators import MaxLengthValidator, MinLengthValidator
from rest_framework import serializers
from rest_framework.reverse import reverse

from common.serializers import FieldsFromModelOnce
from orders.managers import Line
from orders.models import DiscountCode, Order, OrderItem, OrderStatusEvent
from orders.status import DeliveryMethod, PaymentMethod, Status

MAX_LINES = 100


MAX_EXTRAS = 50  # extras on one line, repeats counted


class OrderLineSerializer(serializers.Serializer):
    variant = serializers.IntegerField(min_value=1, required=False, help_text="The variant to order.")
    product = serializers.IntegerField(
        min_value=1, required=False, help_text="Instead of `variant`: a product sold in one variant."
    )
    quantity = serializers.IntegerField(min_value=1, max_value=1000)
    extras = serializers.ListField(
        child=serializers.IntegerField(min_value=1),
        required=False,
        max_length=MAX_EXTRAS,
        help_text="Ids of the product's extras on each unit of this line; an id twice adds it twice.",
    )
    unit_price = serializers.DecimalField(
        max_digits=12,
        decimal_places=2,
        min_value=0,
        required=False,
        help_text="The unit price the customer saw (variant plus extras); if it is no longer the price, "
        "the order is refused (409).",
    )

    def validate(self, attrs):
        if ("variant" in attrs) == ("product" in attrs):
            raise serializers.ValidationError({"variant": ["Name the variant (or the product of a simple product)."]})
        return attrs


class PlaceOrderSerializer(serializers.Serializer):
    """The shape of an order request; Order.objects.place checks the rules."""

    items = serializers.ListSerializer(
        child=OrderLineSerializer(),
        allow_empty=False,
        min_length=1,
        max_length=MAX_LINES,
        # The same bounds again as validators: the schema reads them from there (minItems, maxItems).
        validators=[
            MinLengthValidator(1, "An order needs at least one item."),
            MaxLengthValidator(MAX_LINES, f"An order has at most {MAX_LINES} items."),
        ],
    )
    delivery_method = serializers.ChoiceField(choices=DeliveryMethod.choices)
    shipping_address = serializers.IntegerField(
        required=False, allow_null=True, help_text="Id of one of the customer's addresses; required for home delivery."
    )
    payment_method = serializers.ChoiceField(choices=PaymentMethod.choices)
    customer = serializers.IntegerField(
        required=False, help_text="Staff only: the customer to order for. Customers always order for themselves."
    )
    discount_code = serializers.CharField(
        required=False, allow_blank=True, max_length=40, help_text="A discount code, in any letter case."
    )

    def lines(self) -> list[Line]:
        return [Line(**{**item, "extras": tuple(item.get("extras", ()))}) for item in self.validated_data["items"]]


class OrderedOptionSerializer(serializers.Serializer):
    option = serializers.CharField(help_text="The option's name, e.g. Size.")
    value = serializers.CharField(help_text="The value chosen, e.g. M.")


class OrderedExtraSerializer(serializers.Serializer):
    id = serializers.IntegerField(help_text="The extra's id.")
    name = serializers.CharField()
    price = serializers.DecimalField(max_digits=12, decimal_places=2, help_text="Its price then, per unit.")
    quantity = serializers.IntegerField(help_text="How many times each unit of the line has it.")


class OrderItemSerializer(FieldsFromModelOnce, serializers.ModelSerializer):
    options = OrderedOptionSerializer(many=True, read_only=True, help_text="The variant's option values, as ordered.")
    extras = OrderedExtraSerializer(many=True, read_only=True, help_text="The extras chosen, priced as ordered.")

    class Meta:
        model = OrderItem
        fields = [
            "id", "variant", "product", "product_name", "sku", "options", "extras", "quantity", "quantity_returned",
            "unit_price", "line_total",
        ]  # fmt: skip


class OrderSerializer(FieldsFromModelOnce, serializers.ModelSerializer):
    items = OrderItemSerializer(source="loaded_items", many=True, read_only=True)
    discount_code = serializers.SlugRelatedField(slug_field="code", read_only=True, allow_null=True)
    allowed_transitions = serializers.ListField(
        child=serializers.ChoiceField(choices=Status.choices), read_only=True, help_text="Statuses it may move to next."
    )
    history = serializers.SerializerMethodField(help_text="URL of the order's status history.")

    class Meta:
        model = Order
        fields = [
            "id", "number", "customer", "status", "allowed_transitions", "delivery_method", "payment_method",
            "shipping_address", "items", "subtotal", "discount_code", "discount", "total", "history",
            "created_at", "updated_at",
        ]  # fmt: skip

    def get_history(self, order: Order) -> str:
        return reverse("order-history", args=[order.pk], request=self.context.get("request"))


class OrderStatusEventSerializer(serializers.ModelSerializer):
    actor = serializers.CharField(source="actor_name", help_text="Username, or `system`.")

    class Meta:
        model = OrderStatusEvent
        fields = ["from_status", "to_status", "actor", "note", "created_at"]


class TransitionSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=Status.choices)
    note = serializers.CharField(required=False, allow_blank=True, max_length=500)


class CancelSerializer(serializers.Serializer):
    note = serializers.CharField(required=False, allow_blank=True, max_length=500)


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
        max_uses = attrs.get("max_uses", getattr(self.instance, "max_uses", None))
        times_used = getattr(self.instance, "times_used", 0)
        if max_uses is not None and max_uses < times_used:
            message = f"The code has been used {times_used} times already; max_uses cannot be lower."
            raise serializers.ValidationError({"max_uses": [message]})
        return attrs
