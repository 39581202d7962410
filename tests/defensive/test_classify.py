"""Classification of caught exceptions into skip reasons."""

from __future__ import annotations

import errno
from collections.abc import Iterator

import pytest
from opentelemetry.sdk.metrics._internal.exceptions import MetricsTimeoutError

from foundation_telemetry.defensive import SkipReason, _classify, classify


@pytest.fixture
def exiting() -> Iterator[None]:
    _classify.set_exiting(True)
    yield
    _classify.set_exiting(False)


def _closed_stream_error() -> ValueError:
    stream = open(__file__)  # noqa: SIM115
    stream.close()
    try:
        stream.read()
    except ValueError as error:
        return error
    raise AssertionError("reading a closed file did not raise")


class GrpcLikeError(Exception):
    """An exception whose class lives in a transport library's module."""


GrpcLikeError.__module__ = "grpc._channel"


class TestClassify:
    @pytest.mark.parametrize(
        ("error", "reason"),
        [
            (KeyboardInterrupt(), SkipReason.INTERRUPTED),
            (SystemExit(2), SkipReason.INTERRUPTED),
            (MemoryError(), SkipReason.SYSTEM_LIMIT),
            (RecursionError("maximum recursion depth exceeded"), SkipReason.SYSTEM_LIMIT),
            (OSError(errno.EMFILE, "Too many open files"), SkipReason.SYSTEM_LIMIT),
            (
                ImportError("sys.meta_path is None, Python is likely shutting down"),
                SkipReason.INTERPRETER_FINALIZING,
            ),
            (
                RuntimeError("can't create new thread at interpreter shutdown"),
                SkipReason.INTERPRETER_FINALIZING,
            ),
            (
                RuntimeError("cannot schedule new futures after interpreter shutdown"),
                SkipReason.INTERPRETER_FINALIZING,
            ),
            (
                RuntimeError("cannot schedule new futures after shutdown"),
                SkipReason.RESOURCE_CLOSED,
            ),
            (_closed_stream_error(), SkipReason.RESOURCE_CLOSED),
            (MetricsTimeoutError("Timed out while executing callback"), SkipReason.TIMEOUT),
            (ConnectionRefusedError(errno.ECONNREFUSED, "refused"), SkipReason.BACKEND_UNAVAILABLE),
            (TimeoutError("timed out"), SkipReason.BACKEND_UNAVAILABLE),
            (GrpcLikeError("StatusCode.UNAVAILABLE"), SkipReason.BACKEND_UNAVAILABLE),
            (
                TypeError("shutdown() got an unexpected keyword argument"),
                SkipReason.CONTRACT_VIOLATION,
            ),
            (
                AttributeError("'NoneType' object has no attribute 'x'"),
                SkipReason.CONTRACT_VIOLATION,
            ),
            (NotImplementedError(), SkipReason.CONTRACT_VIOLATION),
            (RuntimeError("boom"), SkipReason.UNEXPECTED),
            (ValueError("bad value"), SkipReason.UNEXPECTED),
            (ImportError("No module named 'x'"), SkipReason.UNEXPECTED),
        ],
    )
    def test_reason(self, error: BaseException, reason: SkipReason) -> None:
        """Each exception kind maps to its documented reason."""
        assert classify(error) is reason

    def test_stable(self) -> None:
        """The same exception in the same process state always gets the same reason."""
        error = TypeError("x")
        assert {classify(error) for _ in range(10)} == {SkipReason.CONTRACT_VIOLATION}

    @pytest.mark.usefixtures("exiting")
    def test_import_error_during_exit(self) -> None:
        """Any ImportError or NameError during the exit sequence means the interpreter is going."""
        assert classify(ImportError("No module named 'x'")) is SkipReason.INTERPRETER_FINALIZING
        assert classify(NameError("open")) is SkipReason.INTERPRETER_FINALIZING

    @pytest.mark.usefixtures("exiting")
    def test_limits_win_over_exit(self) -> None:
        """A MemoryError during exit is still a system limit, not finalization."""
        assert classify(MemoryError()) is SkipReason.SYSTEM_LIMIT
