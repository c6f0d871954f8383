"""Teams requests in the metrics: counted under the route template /api/messages, their answer
timed as the Teams acknowledgement, and their events counted (read with prometheus-client's
parser from the process's own exposition, the bytes GET /metrics serves)."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families

from tests.bot.teams.conftest import TeamsServer
from tests.support.teams_standin import FLOOR, message


def samples(server: TeamsServer) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    text = server.services.metrics.exposition().decode()
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


async def test_teams_requests_are_counted_and_timed(teams: TeamsServer) -> None:
    for _ in range(2):
        activity = message(teams.connector.url, "reflectie", user=FLOOR, mention_bot=True)
        status, body = await teams.post(activity)
        assert status == 200, body
    found = samples(teams)
    statuses = {
        labels: value
        for (name, labels), value in found.items()
        if name == "leerkring_http_requests_total" and ("route", "/api/messages") in labels
    }
    assert sum(statuses.values()) == 2, statuses
    assert found[("leerkring_ack_seconds_count", (("platform", "teams"),))] == 2
    stored = (("kind", "CommandInvoked"), ("outcome", "stored"))
    assert found[("leerkring_events_total", stored)] == 2
    text = teams.services.metrics.exposition().decode()
    # What was typed ("reflectie") is no label value: the outbox names (werksessie_reflectie)
    # only contain the word.
    values = {
        v
        for family in text_string_to_metric_families(text)
        for s in family.samples
        for v in s.labels.values()
    }
    assert FLOOR.aad not in text and "reflectie" not in values
