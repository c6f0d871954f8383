"""The stand-in's Slack-shaped rate limits (used by bench/fanout.py)."""

from __future__ import annotations

import aiohttp

from tests.support.slack_standin import TOKEN, SlackStandIn, Tier

AUTH = {"Authorization": f"Bearer {TOKEN}"}


async def post(http: aiohttp.ClientSession, url: str, channel: str) -> tuple[int, str | None]:
    async with http.post(url + "chat.postMessage", json={"channel": channel}, headers=AUTH) as r:
        await r.read()
        return r.status, r.headers.get("Retry-After")


async def test_workspace_bucket_allows_a_burst_then_answers_429_with_retry_after(
    slack_api: SlackStandIn,
) -> None:
    slack_api.slack_limits["chat.postMessage"] = Tier(per_minute=60, burst=3)
    async with aiohttp.ClientSession() as http:
        answers = [await post(http, slack_api.url, f"D{i}") for i in range(5)]
    assert [status for status, _ in answers] == [200, 200, 200, 429, 429]
    assert answers[3][1] == "1"  # whole seconds, as Slack sends them
    assert slack_api.rate_limited == 2
    assert len(slack_api.calls_to("chat.postMessage")) == 3  # refused calls are not recorded


async def test_per_channel_bucket_limits_one_channel_only(slack_api: SlackStandIn) -> None:
    slack_api.per_channel["chat.postMessage"] = Tier(per_minute=60, burst=1)
    async with aiohttp.ClientSession() as http:
        first = await post(http, slack_api.url, "C1")
        again = await post(http, slack_api.url, "C1")
        other = await post(http, slack_api.url, "C2")
    assert (first[0], again[0], other[0]) == (200, 429, 200)
    slack_api.reset_limits()
    async with aiohttp.ClientSession() as http:
        assert (await post(http, slack_api.url, "C1"))[0] == 200
    assert slack_api.rate_limited == 0


async def test_without_limits_nothing_is_refused(slack_api: SlackStandIn) -> None:
    async with aiohttp.ClientSession() as http:
        statuses = [(await post(http, slack_api.url, "C1"))[0] for _ in range(20)]
    assert statuses == [200] * 20
