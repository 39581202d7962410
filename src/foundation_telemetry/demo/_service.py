"""The demo's order-processing service: a flaky payment dependency and a SQLite-backed pool.

Each order is one span (``demo.order.process``): it is saved through a SQLAlchemy connection
pool, charged through tenacity (retrying payment errors) around a pybreaker circuit breaker, and
its outcome saved again. Nothing here knows about telemetry beyond the order span: the retry,
breaker and pool telemetry come from the instrumentors, which is the point of the demo.
"""

from __future__ import annotations

import asyncio
import inspect
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, Final

import pybreaker
import sqlalchemy
import tenacity
from opentelemetry.trace import Status, StatusCode

from ..events import span
from ._faults import FaultPlan
from ._tally import ORDER_SPAN

__all__ = ["OUTCOMES", "POOL_NAME", "OrderService", "PaymentError"]

OUTCOMES: Final = ("paid", "payment_failed", "rejected", "db_timeout")
"""How an order can end: paid, payment retries exhausted, refused by the open breaker, no DB."""

POOL_NAME: Final = "orders-db"
"""The order database pool's ``db.client.connection.pool.name``."""

_DB_HOLD: Final = 0.002  # seconds a statement holds its connection, times the phase's factor


class PaymentError(Exception):
    """The (simulated) payment provider failed the charge."""


class OrderService:
    """Processes orders: save, charge (retry + circuit breaker), save the outcome.

    Args:
        plan: the fault plan deciding payment failures, latencies and database slowness.
        database: the SQLite file backing the order table.
        reset_timeout: seconds the breaker stays open before letting a trial call through.
    """

    def __init__(self, plan: FaultPlan, database: Path, *, reset_timeout: float) -> None:
        self._plan = plan
        self.engine = sqlalchemy.create_engine(
            f"sqlite:///{database}",
            pool_size=3,
            max_overflow=1,
            pool_timeout=1.0,
            pool_logging_name=POOL_NAME,
        )
        with self.engine.begin() as connection:
            connection.execute(
                sqlalchemy.text(
                    "CREATE TABLE IF NOT EXISTS orders "
                    "(id INTEGER PRIMARY KEY, amount REAL NOT NULL, status TEXT NOT NULL)"
                )
            )
        self.breaker = pybreaker.CircuitBreaker(
            fail_max=10, reset_timeout=reset_timeout, name="payments"
        )
        self.outcomes: Counter[str] = Counter()
        self._charge: Callable[[int, float], Awaitable[str]] = tenacity.retry(
            **_retry_options(
                stop=tenacity.stop_after_attempt(3),
                wait=tenacity.wait_exponential(multiplier=0.005, max=0.04),
                retry=tenacity.retry_if_exception_type(PaymentError),
                reraise=True,
                name="payments.charge",
            )
        )(self._charge_once)

    async def process(self, order_id: int) -> str:
        """Process one order end to end and return its outcome (one of :data:`OUTCOMES`)."""
        with span(ORDER_SPAN, **{"order.id": order_id}) as order_span:
            amount = round(self._plan.uniform(5.0, 200.0), 2)
            try:
                await asyncio.to_thread(self._save, order_id, amount, "new")
                outcome = await self._pay(order_id, amount)
                await asyncio.to_thread(self._save, order_id, amount, outcome)
            except sqlalchemy.exc.TimeoutError:
                outcome = "db_timeout"
            order_span.set_attribute("order.outcome", outcome)
            if outcome != "paid":
                order_span.set_status(Status(StatusCode.ERROR, outcome))
        self.outcomes[outcome] += 1
        return outcome

    async def _pay(self, order_id: int, amount: float) -> str:
        try:
            await self._charge(order_id, amount)
        except pybreaker.CircuitBreakerError:
            return "rejected"
        except PaymentError:
            return "payment_failed"
        return "paid"

    async def _charge_once(self, order_id: int, amount: float) -> str:
        with self.breaker.calling():
            # Network latency of the simulated provider: the wait is the behaviour being shown.
            await asyncio.sleep(self._plan.uniform(0.002, 0.01))
            if self._plan.payment_fails():
                msg = f"payment provider declined order {order_id} ({amount:.2f})"
                raise PaymentError(msg)
            return f"payment-{order_id}"

    def _save(self, order_id: int, amount: float, status: str) -> None:
        hold = _DB_HOLD * self._plan.phase().db_hold_factor
        with self.engine.connect() as connection:
            connection.execute(
                sqlalchemy.text(
                    "INSERT INTO orders (id, amount, status) VALUES (:id, :amount, :status) "
                    "ON CONFLICT(id) DO UPDATE SET status = excluded.status"
                ),
                {"id": order_id, "amount": amount, "status": status},
            )
            connection.commit()
            # A query's time holding the connection (longer during the burst, which is what
            # exhausts the pool).
            time.sleep(hold)

    def close(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()


def _retry_options(**options: Any) -> dict[str, Any]:
    """Drop options the installed tenacity does not know (``name=`` arrived in tenacity 9)."""
    accepted = inspect.signature(tenacity.AsyncRetrying).parameters
    return {key: value for key, value in options.items() if key in accepted}
