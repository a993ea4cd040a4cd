"""The shape of GET /products/facets/ (ProductQuerySet.facets, catalog/search.py)."""

from rest_framework import serializers

from catalog.api.filters import PRICE_DIGITS


class CategoryFacetSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    count = serializers.IntegerField(help_text="Products in this category or any category below it.")


class PriceBandSerializer(serializers.Serializer):
    min = serializers.DecimalField(**PRICE_DIGITS, help_text="Lowest price of the band, included.")
    max = serializers.DecimalField(
        **PRICE_DIGITS, allow_null=True, help_text="Highest price of the band, included; null: no upper end."
    )
    count = serializers.IntegerField(
        help_text="Products with a variant in the band: what min_price=min&max_price=max lists."
    )


class OptionValueFacetSerializer(serializers.Serializer):
    value = serializers.CharField()
    count = serializers.IntegerField(help_text="Products with an active variant in stock with this value.")


class FacetsSerializer(serializers.Serializer):
    """Counts of the products a list with the same filters and search shows."""

    count = serializers.IntegerField(help_text="Products listed.")
    in_stock = serializers.IntegerField(help_text="Of those, how many have an active variant in stock.")
    categories = CategoryFacetSerializer(
        many=True, help_text="Active categories with products, parents first, sub-categories counted in them."
    )
    price_bands = PriceBandSerializer(many=True, help_text="Every band of settings.CATALOG_PRICE_BANDS, in order.")
    options = serializers.DictField(
        child=OptionValueFacetSerializer(many=True),
        help_text='Per option name ("Size"), the values in stock, in the order the products give them.',
    )
