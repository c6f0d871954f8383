"""Pairing for speedsparren: who talks with whom in a round. Pure: no database, no clock.

Priorities, strictly in this order (encoded as weights that can never outvote a higher one):
1. nobody meets the same person twice in a session (when unavoidable: as few repeats as can);
2. pairs from different organisations wherever the group allows;
3. avoid people who met in recent sessions (the stored pairing history);
4. with an odd number one trio, and not always the same people in it.

A round is one partition of the present people into pairs plus at most one trio. Up to
``EXACT_LIMIT`` people the partition is the exact minimum (dynamic programming over subsets);
above that a greedy start is improved by member swaps until no swap helps. Every choice
between equals follows a shuffle seeded by ``seed``: the same seed gives the same rounds, a
new session gets a new seed.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache
from itertools import combinations

REPEAT = 10**9  # per earlier meeting in this session
SAME_ORG = 10**6  # per pair of colleagues from one organisation
HISTORY = 10**3  # per meeting in the recent sessions (capped per pair)
TRIO = 1  # per earlier trio seat of each person in the trio
HISTORY_CAP = 5
EXACT_LIMIT = 10
LOOKAHEAD_LIMIT = 12  # groups up to this size look ahead at the rounds still to come
CANDIDATES = 8
MAX_PASSES = 30

Pair = frozenset[str]


def pair(a: str, b: str) -> Pair:
    return frozenset((a, b))


@dataclass(frozen=True)
class Person:
    id: str
    organisation: str | None = None  # unknown: treated as an organisation of their own

    @property
    def org_key(self) -> str:
        return self.organisation.casefold() if self.organisation else f"\0self:{self.id}"


@dataclass
class SessionState:
    """What earlier rounds (and sessions) left behind; updated by ``record``."""

    met: Counter[Pair] = field(default_factory=Counter)  # this session
    history: Counter[Pair] = field(default_factory=Counter)  # the last N sessions
    trios: Counter[str] = field(default_factory=Counter)  # trio seats this session
    told_first: Counter[str] = field(default_factory=Counter)

    def record(self, groups: Iterable[Sequence[str]]) -> None:
        for group in groups:
            for a, b in combinations(group, 2):
                self.met[pair(a, b)] += 1
            if len(group) == 3:
                self.trios.update(group)
            self.told_first[group[0]] += 1


@dataclass(frozen=True)
class RoundPlan:
    # Each group in speaking order: the first person tells first.
    groups: tuple[tuple[str, ...], ...]
    repeats: int  # pairs in this round that met before in the session
    same_org_pairs: int  # pairs of colleagues (a trio counts its three pairs)
    cross_org_groups: int  # groups in which everyone is from a different organisation

    @property
    def trio(self) -> tuple[str, ...] | None:
        return next((g for g in self.groups if len(g) == 3), None)


class _Costs:
    def __init__(self, people: Sequence[Person], state: SessionState) -> None:
        self.org = {p.id: p.org_key for p in people}
        self.state = state

    def edge(self, a: str, b: str) -> int:
        key = pair(a, b)
        return (
            REPEAT * self.state.met[key]
            + SAME_ORG * (self.org[a] == self.org[b])
            + HISTORY * min(self.state.history[key], HISTORY_CAP)
        )

    def group(self, group: Sequence[str]) -> int:
        cost = sum(self.edge(a, b) for a, b in combinations(group, 2))
        if len(group) == 3:
            cost += TRIO * sum(self.state.trios[p] for p in group)
        return cost


def pair_round(
    people: Sequence[Person], state: SessionState, seed: int, rounds_left: int = 0
) -> RoundPlan:
    """One round for the people present (at least two).

    With ``rounds_left`` in a small group, several equally good rounds are compared by the
    rounds they leave possible after them (simulated), so an early choice does not force a
    repeat or the same trio later on.
    """
    if len(people) < 2:
        raise ValueError("pairing needs at least two people")
    ids = [p.id for p in people]
    if len(set(ids)) != len(ids):
        raise ValueError("a person is listed twice")
    if rounds_left <= 0 or len(people) > LOOKAHEAD_LIMIT:
        return _pair_round(people, state, seed)
    costs = _Costs(people, state)
    candidates = [_pair_round(people, state, seed * CANDIDATES + i) for i in range(CANDIDATES)]
    now = [_total(plan.groups, costs) for plan in candidates]
    best = [plan for plan, cost in zip(candidates, now, strict=True) if cost == min(now)]
    return min(best, key=lambda plan: _future(people, state, plan, rounds_left, seed))


def _pair_round(people: Sequence[Person], state: SessionState, seed: int) -> RoundPlan:
    rng = random.Random(seed)
    order = sorted(p.id for p in people)
    rng.shuffle(order)
    costs = _Costs(people, state)
    groups = _exact(order, costs) if len(order) <= EXACT_LIMIT else _improved(order, costs)
    ordered = tuple(_speaking_order(g, state, rng) for g in groups)
    return _describe(ordered, costs)


def _total(groups: Iterable[Sequence[str]], costs: _Costs) -> int:
    return sum(costs.group(g) for g in groups)


def _future(
    people: Sequence[Person], state: SessionState, plan: RoundPlan, rounds: int, seed: int
) -> int:
    simulated = SessionState(
        Counter(state.met), state.history, Counter(state.trios), Counter(state.told_first)
    )
    simulated.record(plan.groups)
    total = 0
    for number in range(rounds):
        following = _pair_round(people, simulated, seed + 7919 * (number + 1))
        total += _total(following.groups, _Costs(people, simulated))
        simulated.record(following.groups)
    return total


def plan_session(
    people: Sequence[Person], rounds: int, seed: int, history: Counter[Pair] | None = None
) -> list[RoundPlan]:
    """All rounds of a session for a group that stays the same (tests, previews)."""
    state = SessionState(history=Counter(history or {}))
    plans = []
    for number in range(rounds):
        plan = pair_round(people, state, seed * 1000 + number, rounds - number - 1)
        state.record(plan.groups)
        plans.append(plan)
    return plans


def cross_org(group: Sequence[str], orgs: dict[str, str]) -> bool:
    return len({orgs[p] for p in group}) == len(group)


def _describe(groups: tuple[tuple[str, ...], ...], costs: _Costs) -> RoundPlan:
    edges = [(a, b) for g in groups for a, b in combinations(g, 2)]
    return RoundPlan(
        groups=groups,
        repeats=sum(1 for a, b in edges if costs.state.met[pair(a, b)]),
        same_org_pairs=sum(1 for a, b in edges if costs.org[a] == costs.org[b]),
        cross_org_groups=sum(1 for g in groups if cross_org(g, costs.org)),
    )


def _speaking_order(
    group: Sequence[str], state: SessionState, rng: random.Random
) -> tuple[str, ...]:
    """Whoever told first least often tells first; between equals the shuffle decides."""
    shuffled = list(group)
    rng.shuffle(shuffled)
    return tuple(sorted(shuffled, key=lambda p: state.told_first[p]))


def _exact(order: list[str], costs: _Costs) -> list[tuple[str, ...]]:
    n = len(order)
    infinity = float("inf")

    @cache
    def best(mask: int, trio_left: bool) -> tuple[float, tuple[tuple[int, ...], ...]]:
        if mask == 0:
            return (0, ()) if not trio_left else (infinity, ())
        first = (mask & -mask).bit_length() - 1
        rest = mask & ~(1 << first)
        others = [j for j in range(n) if rest >> j & 1]
        found: tuple[float, tuple[tuple[int, ...], ...]] = (infinity, ())
        for j in others:
            sub_cost, sub = best(rest & ~(1 << j), trio_left)
            cost = sub_cost + costs.edge(order[first], order[j])
            if cost < found[0]:
                found = (cost, ((first, j), *sub))
        if trio_left:
            for j, k in combinations(others, 2):
                sub_cost, sub = best(rest & ~(1 << j) & ~(1 << k), False)
                cost = sub_cost + costs.group((order[first], order[j], order[k]))
                if cost < found[0]:
                    found = (cost, ((first, j, k), *sub))
        return found

    _, groups = best((1 << n) - 1, n % 2 == 1)
    return [tuple(order[i] for i in g) for g in groups]


def _improved(order: list[str], costs: _Costs) -> list[tuple[str, ...]]:
    groups = _greedy(order, costs)
    cost = [costs.group(g) for g in groups]
    for _ in range(MAX_PASSES):
        improved = False
        for i in range(len(groups)):
            if cost[i] == 0:
                continue
            for j in range(len(groups)):
                if i == j:
                    continue
                move = _best_swap(groups[i], groups[j], cost[i] + cost[j], costs)
                if move is not None:
                    groups[i], groups[j] = move
                    cost[i], cost[j] = costs.group(groups[i]), costs.group(groups[j])
                    improved = True
                    if cost[i] == 0:
                        break
        if not improved:
            break
    return groups


def _best_swap(
    one: tuple[str, ...], two: tuple[str, ...], current: int, costs: _Costs
) -> tuple[tuple[str, ...], tuple[str, ...]] | None:
    best: tuple[tuple[str, ...], tuple[str, ...]] | None = None
    for x in range(len(one)):
        for y in range(len(two)):
            a = (*one[:x], two[y], *one[x + 1 :])
            b = (*two[:y], one[x], *two[y + 1 :])
            total = costs.group(a) + costs.group(b)
            if total < current:
                current, best = total, (a, b)
    return best


def _greedy(order: list[str], costs: _Costs) -> list[tuple[str, ...]]:
    pool = list(order)
    odd: str | None = None
    if len(pool) % 2:
        # The person with the fewest trio seats so far waits for the trio.
        odd = min(pool, key=lambda p: costs.state.trios[p])
        pool.remove(odd)
    groups: list[tuple[str, ...]] = []
    while pool:
        a = pool.pop(0)
        b = min(pool, key=lambda x: costs.edge(a, x))
        pool.remove(b)
        groups.append((a, b))
    if odd is not None:
        at = min(
            range(len(groups)),
            key=lambda i: costs.group((*groups[i], odd)) - costs.group(groups[i]),
        )
        groups[at] = (*groups[at], odd)
    return groups
