from common.errors import Conflict, DomainError


class InsufficientStock(Conflict):
    """Some lines ask for more than is in stock; `lines` names each variant with requested and available."""

    default_detail = "Not enough stock for some of the requested products."
    default_code = "insufficient_stock"

    def __init__(self, lines: list[dict]) -> None:
        names = ", ".join(f"{line['sku']} ({line['available']} of {line['requested']})" for line in lines)
        super().__init__(f"Not enough stock: {names}.", lines=lines)


class StockLimitExceeded(Conflict):
    """Giving back these units would pass the most stock a variant can hold; `lines` names each."""

    default_code = "stock_limit_exceeded"

    def __init__(self, lines: list[dict], limit: int) -> None:
        names = ", ".join(f"{line['sku']} (+{line['requested']})" for line in lines)
        super().__init__(f"A variant holds at most {limit:,} units: {names}.", lines=lines, limit=limit)


class SeveralVariants(Conflict):
    """A product-level stock move on a product sold in several variants: which one is meant?"""

    default_code = "several_variants"

    def __init__(self, product) -> None:
        super().__init__(
            f"{product.name} comes in several variants: adjust one at /api/v1/variants/{{id}}/adjust-stock/."
        )


class AlreadyReviewed(Conflict):
    default_detail = "You have already reviewed this product; edit your review instead."
    default_code = "already_reviewed"


class InvalidImage(DomainError):
    """An upload that is not a whole JPEG, PNG, WebP or GIF within the size and pixel limits."""

    default_detail = "The file is not an image this shop accepts."
    default_code = "invalid_image"

    def __init__(self, detail: str | None = None) -> None:
        detail = detail or self.default_detail
        super().__init__(detail, errors={"image": [detail]})  # as a form shows it: on the field
