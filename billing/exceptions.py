from common.errors import Conflict


class RefundExceedsPayment(Conflict):
    """A refund of more money or more units than the order took in and has not given back yet."""

    default_code = "refund_exceeds_payment"
