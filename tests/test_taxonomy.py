"""The standard foundation.* taxonomy: names, attribute sets, domains."""

from __future__ import annotations

import re
from pathlib import Path

from foundation_telemetry import taxonomy

_DESIGN_NAMES = {
    "service": ["started", "stopped", "restarted", "health_check"],
    "async": ["started", "completed", "failed"],
    "resource": ["acquired", "released", "exhausted"],
    "circuit_breaker": ["call_start", "call_success", "call_failure", "state_change", "rejected"],
    "retry": ["attempt_start", "attempt_success", "attempt_failure", "backoff", "exhausted"],
    "connection": [
        "pool_created",
        "connection_acquired",
        "connection_released",
        "connection_failed",
        "pool_health",
    ],
    "alert": ["fired", "resolved"],
    # exporter.state_change: named by issue 15 (the exporter's backend-down breaker)
    "telemetry": ["handler.failure", "exporter.state_change"],
    "agent": ["registered", "unregistered", "health_check"],
    "coordination": ["started", "message_sent", "message_received", "completed", "failed"],
}


class TestTaxonomy:
    def test_every_design_name_exists(self):
        """Every name in DESIGN.md's taxonomy is a constant and nothing else is."""
        expected = {f"foundation.{d}.{n}" for d, names in _DESIGN_NAMES.items() for n in names}
        assert expected == taxonomy.ALL_EVENTS

    def test_constants_match_all_events(self):
        """The module constants are exactly ALL_EVENTS and all are exported."""
        constants = {
            value
            for key, value in vars(taxonomy).items()
            if key.isupper()
            and key != "PREFIX"
            and isinstance(value, str)
            and value.startswith("foundation.")
        }
        assert constants == taxonomy.ALL_EVENTS
        names = {
            key
            for key, value in vars(taxonomy).items()
            if isinstance(value, str) and value in taxonomy.ALL_EVENTS
        }
        assert names <= set(taxonomy.__all__)

    def test_domains(self):
        """DOMAINS groups the names by their second segment."""
        assert set(taxonomy.DOMAINS) == set(_DESIGN_NAMES)
        assert taxonomy.DOMAINS["retry"][0] == taxonomy.RETRY_ATTEMPT_START

    def test_attribute_sets_use_valid_keys(self):
        """Every documented attribute key is a valid OpenTelemetry attribute name."""
        for name, keys in taxonomy.EVENT_ATTRIBUTES.items():
            assert keys, name
            assert all(re.fullmatch(r"[a-z][a-z0-9_.]*", key) for key in keys), name

    def test_agent_and_coordination_identify_their_subject(self):
        """Agent events carry agent.id and coordination events session.id."""
        for name in taxonomy.DOMAINS["agent"]:
            assert taxonomy.Attr.AGENT_ID in taxonomy.EVENT_ATTRIBUTES[name]
        for name in taxonomy.DOMAINS["coordination"]:
            assert taxonomy.Attr.SESSION_ID in taxonomy.EVENT_ATTRIBUTES[name]

    def test_documented_tables_match_the_module(self):
        """docs/taxonomy.md lists every event with exactly its documented attributes."""
        page = Path(__file__).resolve().parents[1] / "docs" / "taxonomy.md"
        rows = re.findall(
            r"^\| `(foundation\.[^`]+)` \| `[A-Z_]+` \| (.*) \|$", page.read_text(), re.M
        )
        documented = {name: tuple(re.findall(r"`([^`]+)`", cells)) for name, cells in rows}
        assert documented == dict(taxonomy.EVENT_ATTRIBUTES)
