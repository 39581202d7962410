"""``foundation-telemetry check-sleeps``: find sleeps that tests use to wait for something.

A test that sleeps to wait for a span, a thread or a server is slow when the sleep is long and
flaky when it is short. This checker reads Python files with :mod:`ast` (nothing is imported or
run), resolves import aliases (``from time import sleep``, ``import time as t``), and reports every
``time.sleep``, ``asyncio.sleep``, ``trio.sleep``, ``anyio.sleep`` and ``gevent.sleep`` call, plus
``threading.Event().wait(n)`` on an event nothing can ever set (a sleep in disguise). Each report
says what the sleep appears to wait for, judged from the code around it, and the event-driven
replacement. Sleeping for zero seconds in an async library is a yield, not a wait, and is allowed
outside ``while`` loops; a sleep that *is* the feature is allowed by a ``# allow-sleep: why``
comment on its line, and a bare ``allow-sleep`` without a reason is itself reported.
"""

from __future__ import annotations

import argparse
import ast
import enum
import io
import re
import sys
import tokenize
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Finding", "add_arguments", "check_paths", "check_source", "run"]

_SLEEPS = frozenset(
    {
        "time.sleep",
        "asyncio.sleep",
        "trio.sleep",
        "trio.sleep_until",
        "anyio.sleep",
        "anyio.sleep_until",
        "gevent.sleep",
    }
)
# Sleeping zero seconds in these is a scheduler checkpoint, not a wait.
_YIELDING_SLEEPS = frozenset({"asyncio.sleep", "trio.sleep", "anyio.sleep", "gevent.sleep"})
_NEVER_SET_WAITABLES = frozenset({"threading.Event", "threading.Condition"})
_ALLOW = re.compile(r"allow-sleep(?P<colon>\s*:)?(?P<reason>.*)")
_SKIPPED_DIRS = frozenset({"__pycache__", "node_modules", "site-packages"})
_DOCS = "docs/testing-migration.md"
_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef, ast.Module)


class _Waits(enum.Enum):
    """What a sleep appears to wait for, and the replacement to suggest."""

    SPAN = (
        "waits for a span",
        "use `with telemetry.expect_span(name, ...):` around the action",
    )
    METRIC = (
        "waits for a metric",
        "use `telemetry.wait_for_metric_threshold(name, threshold)`",
    )
    EVENT = (
        "waits for an event or log record",
        "use `with telemetry.assert_telemetry_event(name, ...):` around the action",
    )
    SERVICE = (
        "waits for a service to start",
        "use `telemetry.wait_for_service_ready(name).wait()`, or wait for its readiness signal"
        " (a line on its stdout, a bound port)",
    )
    THREAD = (
        "waits for another thread",
        "share a `threading.Event`: the thread calls `set()`, the test calls `wait(timeout)`",
    )
    TASK = (
        "waits for another task",
        "`await` the task or an `asyncio.Event`, or `await collector`",
    )
    POLL = (
        "polls a condition in a loop",
        "wait for the event that makes the condition true, or use"
        " `telemetry.wait_for(predicate, timeout=...).wait()` when the code emits nothing",
    )
    DELAY = (
        "is a fixed delay",
        "wait on the event it stands for (`telemetry.expect_span(...)`,"
        " `telemetry.assert_telemetry_event(...)`, a `threading.Event`), inject a clock if it"
        " lets time pass, or mark it `# allow-sleep: why` if time is the feature",
    )


def _hints(*table: tuple[_Waits, tuple[str, ...]]) -> tuple[tuple[_Waits, re.Pattern[str]], ...]:
    """Compile words to whole-word patterns over snake_cased identifiers (plural allowed).

    ``span`` matches ``get_finished_spans`` and ``SpanRecord`` but ``start`` does not match
    ``startswith`` or ``restart``.
    """
    return tuple(
        (waits, re.compile(rf"(?:^|_)(?:{'|'.join(map(re.escape, words))})s?(?:_|$)"))
        for waits, words in table
    )


# Words in identifiers that tell, from the code after the sleep, what it waits for.
_AFTER_HINTS = _hints(
    (_Waits.SPAN, ("span",)),
    (_Waits.METRIC, ("metric",)),
    # Plural on purpose: a local ``event = threading.Event()`` is not telemetry.
    (_Waits.EVENT, ("events", "log", "records", "emitted", "caplog")),
)
# ... and from the code before it.
_BEFORE_HINTS = _hints(
    (_Waits.SERVICE, ("popen", "subprocess", "server", "serve", "sink", "listen")),
    (_Waits.TASK, ("create_task", "ensure_future", "start_soon", "task_group")),
    (_Waits.THREAD, ("thread", "submit", "executor", "start")),
)


@dataclass(frozen=True, slots=True)
class Finding:
    """One report: where it is (1-based line and column) and what to do about it."""

    path: str
    line: int
    col: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}:{self.col}: {self.message}"


def check_source(source: str, path: str = "<string>") -> list[Finding]:
    """Return the findings in one module's *source*, sorted by position.

    Raises:
        SyntaxError: *source* is not valid Python.
    """
    tree = ast.parse(source, filename=path)
    allows, findings = _allow_comments(source, path)
    parents, calls, assigns, imports = _index(tree)
    aliases = _import_aliases(imports)
    # ``import threading`` says nothing about what a sleep waits for; ``Thread(...)`` does.
    modules = frozenset(name for name, target in aliases.items() if "." not in target)
    disguised = _never_set_event_waits(calls, assigns, parents, aliases)
    for node in calls:
        callee = _qualified_name(node.func, aliases)
        if node in disguised:
            what = "is a sleep in disguise: nothing can ever set this event"
        elif callee in _SLEEPS:
            if callee in _YIELDING_SLEEPS and _is_zero(node) and not _in_while(node, parents):
                continue
            what = ""
        else:
            continue
        lines = range(node.lineno, (node.end_lineno or node.lineno) + 1)
        if any(allows.get(line) for line in lines):
            continue
        name = callee or _display_name(node.func)
        is_async = callee is not None and callee != "time.sleep"
        waits = _classify(node, parents, modules, is_async=is_async)
        reason, fix = waits.value
        text = f"`{name}()` {what or reason}; {fix}"
        findings.append(Finding(path, node.lineno, node.col_offset + 1, text))
    return sorted(findings, key=lambda f: (f.line, f.col))


def check_paths(paths: Iterable[Path]) -> tuple[list[Finding], list[str]]:
    """Check every ``.py`` file under *paths*; return the findings and the files not checked."""
    findings: list[Finding] = []
    errors: list[str] = []
    seen: set[Path] = set()
    for root in paths:
        if not root.exists():
            errors.append(f"{root}: no such file or directory")
            continue
        for file in _python_files(root):
            if (resolved := file.resolve()) in seen:
                continue
            seen.add(resolved)
            try:
                # tokenize.open honours a PEP 263 coding cookie, as the interpreter would.
                with tokenize.open(file) as stream:
                    source = stream.read()
                findings.extend(check_source(source, str(file)))
            except (OSError, UnicodeDecodeError) as exc:
                errors.append(f"{file}: cannot read: {exc}")
            except SyntaxError as exc:
                errors.append(
                    f"{file}:{exc.lineno or 0}:{exc.offset or 0}: cannot parse: {exc.msg}"
                )
    return findings, errors


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the ``check-sleeps`` arguments to *parser*."""
    parser.description = (
        "Report sleeps used to wait for something (exit status 1 when any is found, 2 when a path"
        " cannot be checked). Mark a sleep that is the feature with `# allow-sleep: why`."
    )
    parser.add_argument("paths", nargs="+", type=Path, metavar="PATH", help="files or directories")


def run(args: argparse.Namespace) -> int:
    """Print one ``path:line:col: message`` line per finding and return the exit status."""
    findings, errors = check_paths(args.paths)
    for finding in findings:
        print(finding)
    for error in errors:
        print(f"check-sleeps: {error}", file=sys.stderr)
    if findings:
        files = len({finding.path for finding in findings})
        print(
            f"check-sleeps: {len(findings)} finding(s) in {files} file(s); each sleep-based wait"
            f" and its replacement are described in {_DOCS}",
            file=sys.stderr,
        )
    if errors:
        return 2
    return 1 if findings else 0


def _python_files(root: Path) -> Iterator[Path]:
    if root.is_file():
        yield root
        return
    for file in sorted(root.rglob("*.py")):
        parts = file.relative_to(root).parts[:-1]
        if not any(part.startswith(".") or part in _SKIPPED_DIRS for part in parts):
            yield file


def _allow_comments(source: str, path: str) -> tuple[dict[int, bool], list[Finding]]:
    """Map line -> whether it carries an ``allow-sleep`` with a reason; report bare ones."""
    allows: dict[int, bool] = {}
    bare: list[Finding] = []
    if "allow-sleep" not in source:
        return allows, bare
    tokens = tokenize.generate_tokens(io.StringIO(source).readline)
    for token in tokens:
        if token.type != tokenize.COMMENT:
            continue
        match = _ALLOW.search(token.string)
        if match is None:
            continue
        line, col = token.start
        has_reason = bool(match["colon"]) and bool(match["reason"].strip())
        allows[line] = allows.get(line, False) or has_reason
        if not has_reason:
            column = col + match.start() + 1
            message = "`allow-sleep` needs a reason: write `# allow-sleep: why time is the feature`"
            bare.append(Finding(path, line, column, message))
    return allows, bare


def _index(
    tree: ast.AST,
) -> tuple[dict[ast.AST, ast.AST], list[ast.Call], list[ast.Assign], list[ast.stmt]]:
    """Walk the tree once: each node's parent, and the calls, assignments and imports."""
    parents: dict[ast.AST, ast.AST] = {}
    calls: list[ast.Call] = []
    assigns: list[ast.Assign] = []
    imports: list[ast.stmt] = []
    for node in ast.walk(tree):
        for child in ast.iter_child_nodes(node):
            parents[child] = node
        if isinstance(node, ast.Call):
            calls.append(node)
        elif isinstance(node, ast.Assign):
            assigns.append(node)
        elif isinstance(node, ast.Import | ast.ImportFrom):
            imports.append(node)
    return parents, calls, assigns, imports


def _import_aliases(imports: Iterable[ast.stmt]) -> dict[str, str]:
    """Local name -> fully qualified name, for every absolute import anywhere in the module."""
    aliases: dict[str, str] = {}
    for node in imports:
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname:
                    aliases[alias.asname] = alias.name
                else:
                    top = alias.name.partition(".")[0]
                    aliases[top] = top
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            for alias in node.names:
                aliases[alias.asname or alias.name] = f"{node.module}.{alias.name}"
    return aliases


def _qualified_name(node: ast.expr, aliases: dict[str, str]) -> str | None:
    """``t.sleep`` -> ``time.sleep`` after ``import time as t``; ``None`` if not imported."""
    dotted = _dotted_name(node)
    if dotted is None:
        return None
    head, dot, rest = dotted.partition(".")
    module = aliases.get(head)
    return None if module is None else f"{module}{dot}{rest}"


def _display_name(func: ast.expr) -> str:
    """``threading.Event().wait`` for a call on a fresh object, else the dotted name."""
    if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Call):
        return f"{_display_name(func.value.func)}().{func.attr}"
    return _dotted_name(func) or "call"


def _dotted_name(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        base = _dotted_name(node.value)
        return None if base is None else f"{base}.{node.attr}"
    return None


def _is_zero(call: ast.Call) -> bool:
    """Tell whether the sleep's duration (first argument, ``delay=`` or ``seconds=``) is 0."""
    durations = [k.value for k in call.keywords if k.arg in ("delay", "seconds")]
    duration = call.args[0] if call.args else next(iter(durations), None)
    return (
        isinstance(duration, ast.Constant)
        and type(duration.value) in (int, float)
        and duration.value == 0
    )


def _never_set_event_waits(
    calls: Iterable[ast.Call],
    assigns: Iterable[ast.Assign],
    parents: dict[ast.AST, ast.AST],
    aliases: dict[str, str],
) -> set[ast.Call]:
    """``.wait(n)`` calls on a ``threading.Event``/``Condition`` nothing else can reach.

    Either the event is created in the call itself (``threading.Event().wait(1)``), or it is a
    variable whose every use in the function (or module) that creates it is such a ``wait``:
    nothing sets it, so the wait always runs out its timeout.
    """

    def is_new_waitable(node: ast.expr | None) -> bool:
        return (
            isinstance(node, ast.Call)
            and _qualified_name(node.func, aliases) in _NEVER_SET_WAITABLES
        )

    found = {call for call in calls if is_new_waitable(_timed_wait_receiver(call))}
    for assign in assigns:
        if is_new_waitable(assign.value):
            scope = _enclosing_scope(assign, parents)
            for target in assign.targets:
                if isinstance(target, ast.Name):
                    found.update(_only_waited_on(scope, target.id))
    return found


def _timed_wait_receiver(call: ast.AST) -> ast.expr | None:
    """Return ``x`` for a call ``x.wait(timeout)``, else ``None``."""
    if (
        isinstance(call, ast.Call)
        and isinstance(call.func, ast.Attribute)
        and call.func.attr == "wait"
        and (bool(call.args) or any(keyword.arg == "timeout" for keyword in call.keywords))
    ):
        return call.func.value
    return None


def _only_waited_on(scope: ast.AST, name: str) -> list[ast.Call]:
    """Return the timed waits on *name* in *scope*, if that is all *name* is used for there."""
    waits: list[ast.Call] = []
    loads = 0
    for node in ast.walk(scope):
        if isinstance(node, ast.Name) and node.id == name and isinstance(node.ctx, ast.Load):
            loads += 1
        elif isinstance(node, ast.Call):
            receiver = _timed_wait_receiver(node)
            if isinstance(receiver, ast.Name) and receiver.id == name:
                waits.append(node)
    return waits if waits and len(waits) == loads else []


def _enclosing_scope(node: ast.AST, parents: dict[ast.AST, ast.AST]) -> ast.AST:
    """Return the function (or, at top level, the module) that *node* belongs to."""
    scope = parents.get(node, node)
    while scope in parents and not isinstance(
        scope, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda
    ):
        scope = parents[scope]
    return scope


def _in_while(node: ast.AST, parents: dict[ast.AST, ast.AST]) -> bool:
    return isinstance(_enclosing_loop(node, parents), ast.While)


def _enclosing_loop(
    node: ast.AST, parents: dict[ast.AST, ast.AST]
) -> ast.While | ast.For | ast.AsyncFor | None:
    """Return the nearest loop around *node* in the same function, or ``None``."""
    current = parents.get(node)
    while current is not None and not isinstance(current, _SCOPES):
        if isinstance(current, ast.While | ast.For | ast.AsyncFor):
            return current
        current = parents.get(current)
    return None


def _classify(
    call: ast.Call,
    parents: dict[ast.AST, ast.AST],
    ignored: frozenset[str],
    *,
    is_async: bool,
) -> _Waits:
    """Judge what the sleep waits for from the statements around it."""
    loop = _enclosing_loop(call, parents)
    if loop is not None and _exits_early(loop):
        condition = loop.test if isinstance(loop, ast.While) else loop.iter
        return _hinted([condition, *loop.body], _AFTER_HINTS, ignored) or _Waits.POLL
    before, after = _surroundings(call, parents)
    waits = (
        _hinted(after, _AFTER_HINTS, ignored)
        or _hinted(before, _BEFORE_HINTS, ignored)
        or _Waits.DELAY
    )
    return _Waits.TASK if waits is _Waits.THREAD and is_async else waits


def _surroundings(
    node: ast.AST, parents: dict[ast.AST, ast.AST]
) -> tuple[list[ast.stmt], list[ast.stmt]]:
    """Return the statements before and after *node* in its function, innermost block first."""
    before: list[ast.stmt] = []
    after: list[ast.stmt] = []
    current = node
    while (parent := parents.get(current)) is not None and not isinstance(current, _SCOPES):
        if isinstance(current, ast.stmt):
            for field in ("body", "orelse", "finalbody"):
                block = getattr(parent, field, None)
                if isinstance(block, list) and current in block:
                    index = block.index(current)
                    before.extend(reversed(block[:index]))
                    after.extend(block[index + 1 :])
        current = parent
    return before, after


def _exits_early(loop: ast.AST) -> bool:
    """Tell whether *loop* can stop early (``break``/``return``): such a loop is a poll."""
    if isinstance(loop, ast.While):
        return True
    return any(isinstance(node, ast.Break | ast.Return) for node in ast.walk(loop))


def _hinted(
    nodes: Sequence[ast.AST],
    hints: tuple[tuple[_Waits, re.Pattern[str]], ...],
    ignored: frozenset[str],
) -> _Waits | None:
    names = [_snake_case(name) for name in _identifiers(nodes) if name not in ignored]
    for waits, pattern in hints:
        if any(pattern.search(name) for name in names):
            return waits
    return None


def _snake_case(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name).lower()


def _identifiers(nodes: Sequence[ast.AST]) -> Iterator[str]:
    for root in nodes:
        for node in ast.walk(root):
            if isinstance(node, ast.Name):
                yield node.id
            elif isinstance(node, ast.Attribute):
                yield node.attr
