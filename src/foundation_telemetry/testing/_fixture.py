"""The ``telemetry`` fixture's object and the session-wide Recorder behind it (no pytest here).

The first use creates one session-wide :class:`Recorder` and hooks it into whatever the
application uses: the providers of ``foundation_telemetry.configure()`` (also when it is called
during a test), plain SDK providers set as the OpenTelemetry globals, or, when nothing is
configured, SDK providers of its own behind the rebinding global proxies (so tracers and meters
obtained at import time are captured too). Each :class:`TelemetryFixture` is a view on that
recorder with its own isolation scope. Kept free of pytest so that importing
``foundation_telemetry.testing`` (which the sink does) never needs pytest.
"""

from __future__ import annotations

import threading
from typing import Any, final

from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import TracerProvider

from .._config import _globals
from .._otel import _compat
from ..recording import metric_capture_options
from ..recording._buffer import RecordBuffer
from ..recording._expectations import Expectation
from ..recording._queries import TelemetryQueries
from ..recording._recorder import Recorder, follow_configure
from ..recording._source import Pending
from ..recording._timeouts import default_refute_window, default_timeout

__all__ = ["TelemetryFixture", "TelemetryOverflowWarning", "session_recorder"]


@final
class TelemetryOverflowWarning(UserWarning):
    """A test recorded more than the session recorder keeps; its oldest records were dropped.

    Queries and waits of that test saw only the newest records. Raise ``telemetry_buffer_size``
    in the pytest ini file, or record less per test.
    """


@final
class TelemetryFixture(TelemetryQueries):
    """What the ``telemetry`` fixture returns: this test's view on the session Recorder.

    Every query and expectation sees only this test's telemetry (records from spans started in
    earlier tests are excluded, and reported in failure messages as late arrivals). Waits and
    collectors created through it that were never waited for fail the test at teardown.
    """

    def __init__(self, recorder: Recorder, timeout: float | None = None) -> None:
        self.recorder = recorder
        self._scope = recorder.buffer.new_scope()
        self._origin = recorder.buffer.next_seq
        self._overflow_origin = recorder.buffer.overflowed
        self._timeout = timeout
        self._tracked: list[Pending] = []

    def _telemetry_buffer(self) -> RecordBuffer:
        # Providers configured during the test (configure() in the test body) are hooked in
        # as soon as the test queries or expects anything.
        _session.refresh()
        return self.recorder.buffer

    def _telemetry_scope(self) -> int | None:
        return self._scope

    def _telemetry_origin(self) -> int:
        return self._origin

    def _telemetry_timeout(self) -> float:
        return default_timeout() if self._timeout is None else self._timeout

    def _telemetry_refute_window(self) -> float:
        if self._timeout is None:
            return default_refute_window()
        return self._timeout * default_refute_window() / default_timeout()

    def attach(
        self,
        *,
        tracer_provider: Any = None,
        meter_provider: Any = None,
        logger_provider: Any = None,
    ) -> None:
        """Also capture from providers the application keeps to itself (not the globals)."""
        self.recorder.attach(
            tracer_provider=tracer_provider,
            meter_provider=meter_provider,
            logger_provider=logger_provider,
        )

    def _telemetry_track(self, item: Pending) -> bool:
        self._tracked.append(item)
        return True

    def dropped(self) -> int:
        """How many of this test's records the full ring dropped (the oldest first)."""
        return self.recorder.buffer.overflowed - self._overflow_origin

    def _pending(self) -> list[str]:
        """Return one line per wait or collector of this test that nobody waited for."""
        return [
            line
            for item in self._tracked
            if not isinstance(item, Expectation) and (line := item.pending()) is not None
        ]

    def _unentered(self) -> list[str]:
        """Return one line per expectation of this test that was never entered."""
        return [
            line
            for item in self._tracked
            if isinstance(item, Expectation) and (line := item.pending()) is not None
        ]

    def __repr__(self) -> str:
        return f"<telemetry fixture, scope {self._scope}>"


class _Session:
    """The session-wide recorder and the providers it is hooked into."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.recorder: Recorder | None = None
        self.own_providers: tuple[Any, Any, Any] | None = None

    def get(self, capacity: int | None = None) -> Recorder:
        with self._lock:
            if self.recorder is None:
                self.recorder = Recorder() if capacity is None else Recorder(capacity)
                follow_configure(self.recorder)
            self._hook(self.recorder)
            return self.recorder

    def refresh(self) -> None:
        """Attach to providers that appeared since the last look (cheap when none did)."""
        if self.recorder is not None:
            with self._lock:
                self._hook(self.recorder)

    def _hook(self, recorder: Recorder) -> None:
        from .._config._configure import current

        configured = current()
        if configured is not None:
            recorder.attach(configured)
        try:
            proxies = _globals.install()
        except RuntimeError:
            proxies = None
        if proxies is None or not _globals.are_the_globals(proxies):
            # Plain SDK providers are the OTel globals: the application set them before we could
            # (OpenTelemetry never lets them be replaced), or a test utility reset the globals
            # and set its own after ours (opentelemetry-test-utils' TestBase). Capture from them.
            tracer, meter, logger = _globals.global_providers()
            recorder.attach(
                tracer_provider=_sdk(tracer, TracerProvider),
                logger_provider=_sdk(logger, _compat.LoggerProvider),
                meter_provider=meter,
            )
            return
        tracer = proxies.tracer_provider.delegate
        meter = proxies.meter_provider.delegate
        logger = proxies.logger_provider.delegate
        if not isinstance(tracer, TracerProvider) and not isinstance(meter, MeterProvider):
            tracer, meter, logger = self._own(recorder)
        recorder.attach(
            tracer_provider=_sdk(tracer, TracerProvider),
            logger_provider=_sdk(logger, _compat.LoggerProvider),
            meter_provider=meter,
        )

    def _own(self, recorder: Recorder) -> tuple[Any, Any, Any]:
        """Build (once) and install SDK providers that feed only the recorder."""
        if self.own_providers is None:
            self.own_providers = (
                TracerProvider(),
                MeterProvider(
                    metric_readers=[InMemoryMetricReader()],
                    **metric_capture_options(recorder),
                ),
                _compat.LoggerProvider(),
            )
        _globals.rebind(*self.own_providers)
        return self.own_providers


def _sdk(provider: Any, cls: type) -> Any:
    return provider if isinstance(provider, cls) else None


_session = _Session()


def session_recorder(capacity: int | None = None) -> Recorder:
    """Return the session-wide recorder, creating and hooking it in on first use.

    *capacity* (entries the ring keeps) applies when this call creates the recorder.
    """
    return _session.get(capacity)
