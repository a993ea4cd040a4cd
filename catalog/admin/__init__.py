"""Staff admin for the catalog (SPEC §8), one module per page family.

Stock is never written from a form: a new product's first variant takes its initial
stock, and after that stock moves only through the variant admin's restock action and
"adjust stock by" field, which call the stock rules (`Variant.objects.release`,
`Variant.objects.adjust_stock`). Options, variants and extras are edited on the
product's page through the model methods that keep their rules (`add_option`,
`ProductOption.set_values`, `Variant.set_option_values`, `generate_variants`).
"""

from catalog.admin import categories, products, reviews, variants  # noqa: F401  (registers the admins)
