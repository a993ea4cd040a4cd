import pytest
from rest_framework import serializers

from catalog.api.serializers import ProductDetailSerializer, ProductSerializer
from catalog.factories import ProductFactory
from orders.api.serializers import OrderItemSerializer, OrderSerializer


@pytest.mark.parametrize(
    "serializer_class", [ProductSerializer, ProductDetailSerializer, OrderSerializer, OrderItemSerializer]
)
def test_fields_are_read_from_the_model_once_per_class(monkeypatch, serializer_class):
    assert serializer_class().fields  # built and kept, if no test did so before
    built = []
    introspect = serializers.ModelSerializer.get_fields
    monkeypatch.setattr(serializers.ModelSerializer, "get_fields", lambda self: built.append(self) or introspect(self))

    first, second = serializer_class().fields, serializer_class().fields

    assert built == []
    assert list(first) == list(second)
    assert all(first[name] is not second[name] for name in first)  # each instance has its own fields


@pytest.mark.django_db
def test_a_product_serializer_for_creation_still_requires_sku_and_price():
    assert ProductSerializer(ProductFactory()).fields  # built for an instance first

    fields = ProductSerializer(data={}).fields

    assert fields["sku"].required and fields["price"].required
    assert not ProductSerializer(ProductFactory()).fields["sku"].required
