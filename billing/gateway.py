"""The card payment gateway: an interface, and the mock that stands in for the real one.

Declines are final answers; a GatewayUnavailable (an outage) is worth retrying. Every
call carries an idempotency key, so a retried charge can never capture twice.
"""

import random
import time
import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

from django.conf import settings
from django.core.cache import cache
from django.utils.module_loading import import_string


class GatewayUnavailable(Exception):
    """The gateway could not be reached or failed; the charge may be retried."""


@dataclass(frozen=True)
class Charge:
    """The gateway's answer to a charge: captured with a reference, or declined with a reason."""

    captured: bool
    reference: str = ""
    decline_reason: str = ""


class PaymentGateway(Protocol):
    def charge(self, *, amount: Decimal, currency: str, idempotency_key: str) -> Charge: ...

    def find_charge(self, *, idempotency_key: str) -> Charge | None:
        """Return the answer the gateway gave to the charge with this key, or None if it never saw one."""
        ...

    def refund(self, *, reference: str, amount: Decimal, idempotency_key: str) -> str: ...


class MockGateway:
    """A gateway that succeeds, declines or fails at the rates in settings, after a set latency.

    It remembers each answer by idempotency key in the shared cache, as a real gateway
    does, so a repeated charge returns the first answer instead of charging again.
    `captures(key)` lets tests and demos count what was really captured.
    """

    LEDGER_TTL = 7 * 24 * 3600

    def __init__(self, *, decline_rate: float, outage_rate: float, latency_ms: int, rng=None) -> None:
        self.decline_rate = decline_rate
        self.outage_rate = outage_rate
        self.latency_ms = latency_ms
        self.rng = rng or random.Random()

    def charge(self, *, amount: Decimal, currency: str, idempotency_key: str) -> Charge:
        self._wait()
        ledger_key = f"mock-gateway:charge:{idempotency_key}"
        earlier = cache.get(ledger_key)
        if earlier is not None:
            return earlier
        roll = self.rng.random()
        if roll < self.outage_rate:
            raise GatewayUnavailable("The mock gateway is having an outage.")
        if roll < self.outage_rate + self.decline_rate:
            answer = Charge(captured=False, decline_reason="Card declined by the issuer.")
        else:
            answer = Charge(captured=True, reference=f"mock_ch_{uuid.uuid4().hex[:16]}")
        if not cache.add(ledger_key, answer, self.LEDGER_TTL):
            return cache.get(ledger_key)  # a concurrent call with the same key answered first
        if answer.captured:
            counter = f"mock-gateway:captures:{idempotency_key}"
            if not cache.add(counter, 1, self.LEDGER_TTL):
                cache.incr(counter)
        return answer

    def find_charge(self, *, idempotency_key: str) -> Charge | None:
        self._wait()
        if self.rng.random() < self.outage_rate:
            raise GatewayUnavailable("The mock gateway is having an outage.")
        return cache.get(f"mock-gateway:charge:{idempotency_key}")

    def refund(self, *, reference: str, amount: Decimal, idempotency_key: str) -> str:
        self._wait()
        if self.rng.random() < self.outage_rate:
            raise GatewayUnavailable("The mock gateway is having an outage.")
        ledger_key = f"mock-gateway:refund:{idempotency_key}"
        cache.add(ledger_key, f"mock_re_{uuid.uuid4().hex[:16]}", self.LEDGER_TTL)
        return cache.get(ledger_key)

    @staticmethod
    def captures(idempotency_key: str) -> int:
        return cache.get(f"mock-gateway:captures:{idempotency_key}", 0)

    def _wait(self) -> None:
        if self.latency_ms:
            time.sleep(self.latency_ms / 1000)


def get_gateway() -> PaymentGateway:
    """Return the configured gateway (settings.PAYMENT_GATEWAY with PAYMENT_GATEWAY_OPTIONS)."""
    gateway_class = import_string(settings.PAYMENT_GATEWAY)
    return gateway_class(**settings.PAYMENT_GATEWAY_OPTIONS)
