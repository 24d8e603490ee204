"""The demo week's traffic, invented in memory: no database, the same plan for the same seed and `now`.

The story the numbers tell (all times UTC, relative to `now`):
- webhooks from ten installed shops, more by day than by night, six topics; shops that leave send
  app/uninstalled and, 48 hours later, shop/redact;
- the app answers most forwarded webhooks in about 85 ms; a few percent of first attempts fail
  (502/503/500, the odd timeout) and succeed on a retry; now and then the app has a bad minute or
  two and answers 500 to nearly everything (those events use up the retry budget and become dead
  letters); a webhook for a shop the app no longer knows gets a permanent 404;
- yesterday at 14:07 the app could not be reached for six minutes (the outage): the `app` probe
  failed, every delivery in those minutes ended in a dead letter, and half an hour later an
  operator replayed them all in one bulk action (one failed again);
- two deploys made the ingress slower for twenty minutes each, and were followed by a synthetic run;
- about five hours ago the hourly token check found that one shop's offline token had been revoked: the
  `tokens` probe is down since, and its alert fires (acknowledged: the merchant has to reinstall);
- operators replayed most older dead letters one by one; recent ones are still open.

demo.seed writes the plan and derives everything else (probe history, logs, telemetry, rollups,
reports, alerts, job runs, audit) from it. Deliveries and replays run the production retry loop
(RetryBudget.run) on the plan's clock, and their outcomes are named as webhooks.services names them.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta

from demo import content
from timedify_ops.lib.retry import RetryBudget, is_retryable_status
from timedify_ops.lib.shopify_headers import REDACTED
from webhooks.services import AttemptResult, failure_reason

OUTAGE_MINUTES = 6
OUTAGE_AT = time(14, 7, 12)
DEPLOYS = ((5, time(10, 42, 5)), (2, time(16, 5, 40)))  # (days before today, time of day)
SLOW_AFTER_DEPLOY = timedelta(minutes=20)
BAD_SPELLS = 8
SPELL_EVENTS = 2
GONE_PER_THOUSAND = 0.6  # webhooks the app answers 404 (a shop it no longer knows)
BULK_REPLAY_DELAY = timedelta(minutes=31)
RECENT = timedelta(hours=36)  # dead letters younger than this are mostly still open
DELETE_AFTER = timedelta(hours=26)
REPLAY_OPERATOR = "sam"
REVOKED_SHOP = "harbor-hound.myshopify.com"
BULK_OPERATOR = "alex"
MS = timedelta(milliseconds=1)


@dataclass
class Attempt:
    number: int
    started_at: datetime
    duration_ms: float
    status_code: int | None
    error: str = ""
    excerpt: str = ""
    replayed_by: str | None = None  # username of the operator, for replays

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code <= 299

    @property
    def retryable(self) -> bool:
        return self.status_code is None or is_retryable_status(self.status_code)

    retry_after_s = None  # the demo app never sends Retry-After

    @property
    def finished_at(self) -> datetime:
        return self.started_at + self.duration_ms * MS

    def result(self) -> AttemptResult:
        """The same try as the delivery worker sees it."""
        return AttemptResult(self.status_code, self.error, self.excerpt, self.duration_ms)


@dataclass
class Letter:
    created_at: datetime
    reason: str
    last_status_code: int | None
    last_error: str
    status: str = "open"
    replay_requested_at: datetime | None = None
    replay_requested_by: str | None = None
    replay_started_at: datetime | None = None
    replayed_at: datetime | None = None
    replayed_by: str | None = None
    replay_count: int = 0
    in_bulk: bool = False
    deleted_at: datetime | None = None  # an operator deleted it (it and its event are gone)

    @property
    def open_until(self) -> datetime | None:
        """When it stopped being open (a replay was claimed), or None while it is."""
        return self.replay_requested_at


@dataclass
class Event:
    webhook_id: str
    event_id: str
    topic: str
    shop: str
    received_at: datetime
    triggered_at: datetime
    body: bytes
    headers: dict
    ingress_ms: float
    synthetic: bool = False
    duplicates: int = 0
    last_duplicate_at: datetime | None = None
    duplicate_ms: list[float] = field(default_factory=list)
    attempts: list[Attempt] = field(default_factory=list)
    delivered_at: datetime | None = None
    letter: Letter | None = None

    @property
    def status(self) -> str:
        if self.delivered_at is not None:
            return "delivered"
        return "dead_lettered"


@dataclass
class SyntheticRun:
    at: datetime
    events: list[Event]
    by: str


@dataclass
class Plan:
    now: datetime
    start: datetime
    events: list[Event]
    outage: tuple[datetime, datetime]
    deploys: list[datetime]
    spells: list[tuple[datetime, datetime]]
    churned: dict[str, tuple[datetime, datetime | None]]  # domain → (uninstalled at, redacted at)
    unauthorized: list[tuple[datetime, float]]
    synthetic_runs: list[SyntheticRun]
    bulk_at: datetime | None
    bulk_letters: list[Event]
    token_revoked_at: datetime  # when the hourly check found REVOKED_SHOP's token revoked

    @property
    def letters(self) -> list[Event]:
        return [event for event in self.events if event.letter is not None]

    def fingerprint(self) -> list[tuple]:
        """What must be equal for two plans made from the same seed (tests)."""
        return [(e.webhook_id, e.topic, e.shop, e.received_at, e.status, len(e.attempts), e.body) for e in self.events]


class Planner:
    def __init__(self, *, now: datetime, seed: int, events: int, days: int, budget: RetryBudget):
        self.rng = random.Random(seed)
        self.now = now.astimezone(UTC).replace(microsecond=0)
        # Whole UTC days (each gets its daily report), then today so far.
        self.start = datetime.combine(self.now.date() - timedelta(days=days), time.min, tzinfo=UTC)
        self.size = events
        self.budget = budget
        today = self.now.date()
        outage_start = datetime.combine(today - timedelta(days=1), OUTAGE_AT, tzinfo=UTC)
        self.outage = (outage_start, outage_start + timedelta(minutes=OUTAGE_MINUTES))
        # The hourly token check (at :17) that found the revoked token, about five hours ago.
        self.token_revoked_at = (self.now - timedelta(hours=5)).replace(minute=17, second=4)
        self.deploys = [
            moment
            for days_ago, at in DEPLOYS
            if self.start < (moment := datetime.combine(today - timedelta(days=days_ago), at, tzinfo=UTC)) < self.now
        ]
        self.spells: list[tuple[datetime, datetime]] = []
        self.gone: set[str] = set()  # webhook ids the app answers 404 (it no longer knows the shop)

    # ------------------------------------------------------------------ time

    def rate(self, moment: datetime) -> float:
        """Relative traffic: busiest mid-afternoon UTC, quietest before dawn, a little less at weekends."""
        hour = moment.hour + moment.minute / 60
        daily = 1 + 0.55 * math.sin(2 * math.pi * (hour - 9) / 24)
        return daily * (0.85 if moment.weekday() >= 5 else 1.0)

    def random_moment(self, start: datetime | None = None, end: datetime | None = None) -> datetime:
        start = start or self.start
        end = end or self.now - timedelta(minutes=2)
        return start + timedelta(seconds=self.rng.uniform(0, (end - start).total_seconds()))

    def busy_moments(self, count: int) -> list[datetime]:
        """`count` arrival times following `rate` (rejection sampling)."""
        moments = []
        while len(moments) < count:
            moment = self.random_moment()
            if self.rng.random() * 1.6 < self.rate(moment):
                moments.append(moment)
        return sorted(moments)

    def _spells(self, events: list[Event]) -> list[tuple[datetime, datetime]]:
        """The app's bad minutes: each begins just before a webhook and lasts until the retries
        of the next SPELL_EVENTS - 1 webhooks are over too, so each spell makes SPELL_EVENTS dead letters."""
        regular = [event for event in events if not event.synthetic]
        spells = []
        while len(spells) < BAD_SPELLS:
            index = self.rng.randrange(len(regular) - SPELL_EVENTS)
            first, last = regular[index], regular[index + SPELL_EVENTS - 1]
            begin = first.received_at - timedelta(seconds=1)
            end = last.received_at + timedelta(seconds=12)
            near_outage = begin < self.outage[1] + timedelta(hours=3) and end > self.outage[0] - timedelta(hours=3)
            # None in the last six hours: the live demo makes its own, and the burn rates stay calm.
            if (
                near_outage
                or end > self.now - timedelta(hours=6)
                or any(begin < other_end and end > other_begin for other_begin, other_end in spells)
            ):
                continue
            spells.append((begin, end))
        return sorted(spells)

    def in_outage(self, moment: datetime) -> bool:
        return self.outage[0] <= moment < self.outage[1]

    def in_spell(self, moment: datetime) -> bool:
        return any(begin <= moment < end for begin, end in self.spells)

    def ingress_ms(self, moment: datetime) -> float:
        """The ingress' own answer time: ~16 ms, slower for a while after a deploy (cold caches)."""
        if any(deploy <= moment < deploy + SLOW_AFTER_DEPLOY for deploy in self.deploys):
            return self.rng.lognormvariate(math.log(55), 0.7)
        return self.rng.lognormvariate(math.log(16), 0.5)

    # ------------------------------------------------------------------ events

    def event(self, topic: str, shop: str, received_at: datetime, *, synthetic: bool = False) -> Event:
        rng = self.rng
        triggered_at = received_at - timedelta(milliseconds=rng.uniform(80, 2500))
        body = content.body_bytes(content.payload(topic, shop, rng, triggered_at))
        webhook_id = ("synthetic-" if synthetic else "") + content.new_uuid(rng)
        event_id = content.new_uuid(rng)
        headers = content.shopify_headers(
            topic, shop, webhook_id=webhook_id, event_id=event_id, triggered_at=triggered_at, body=body
        )
        headers["X-Shopify-Hmac-Sha256"] = REDACTED  # stored redacted, as the ingress stores it
        headers["Content-Length"] = str(len(body))
        headers["Accept-Encoding"] = "gzip;q=1.0,deflate;q=0.6,identity;q=0.3"
        headers["Fly-Region"] = rng.choice(("iad", "iad", "fra"))
        if synthetic:
            headers["X-Timedify-Synthetic"] = "1"
            headers["User-Agent"] = "timedify-ops/1 (synthetic webhook test)"
        return Event(
            webhook_id=webhook_id,
            event_id=event_id,
            topic=topic,
            shop=shop,
            received_at=received_at,
            triggered_at=triggered_at,
            body=body,
            headers=headers,
            ingress_ms=self.ingress_ms(received_at),
            synthetic=synthetic,
        )

    def answer(self, event: Event, moment: datetime, number: int) -> Attempt:
        """How the app answered one forwarded try at `moment`."""
        rng = self.rng
        if event.synthetic:  # sent after a deploy, to a healthy app (the synthetic runs show all 2xx)
            return Attempt(number, moment, rng.lognormvariate(math.log(60), 0.4), 200, "", '{"ok":true}')
        if self.in_outage(moment):
            return Attempt(number, moment, rng.uniform(0.6, 3.0), None, "ConnectError: All connection attempts failed")
        if self.in_spell(moment):
            return Attempt(number, moment, rng.lognormvariate(math.log(40), 0.4), 500, "", "Internal Server Error")
        if number == 1 and event.webhook_id in self.gone:
            return Attempt(number, moment, rng.lognormvariate(math.log(30), 0.3), 404, "", '{"error":"Shop not found"}')
        if rng.random() < (0.025 if number == 1 else 0.08):
            kind = rng.choices(("503", "502", "500", "timeout"), weights=(40, 30, 20, 10))[0]
            if kind == "timeout":
                return Attempt(number, moment, 5000 + rng.uniform(0.5, 4), None, "timeout (ReadTimeout)")
            excerpt = "Internal Server Error" if kind == "500" else '{"error":"upstream unavailable"}'
            return Attempt(number, moment, rng.lognormvariate(math.log(35), 0.5), int(kind), "", excerpt)
        slow = rng.random() < 0.02
        duration = rng.uniform(800, 3200) if slow else min(4800.0, rng.lognormvariate(math.log(85), 0.5))
        return Attempt(number, moment, duration, 200, "", '{"ok":true}')

    def run_budget(self, event: Event, start: datetime, answer) -> list[Attempt]:
        """The production retry loop over `answer(moment, number)`, its waits on the plan's clock."""
        clock = [start]

        def try_once(_number: int) -> Attempt:
            attempt = answer(clock[0], len(event.attempts) + 1)
            event.attempts.append(attempt)
            return attempt

        def wait(seconds: float) -> None:
            clock[0] = event.attempts[-1].finished_at + timedelta(seconds=seconds)

        return self.budget.run(try_once, sleep=wait, rng=self.rng.random)

    def deliver(self, event: Event) -> None:
        """One run of the retry budget (as webhooks.services.run_attempts); then delivered or dead-lettered."""
        start = event.received_at + timedelta(milliseconds=self.rng.lognormvariate(math.log(60), 0.6))
        tries = self.run_budget(event, start, lambda moment, number: self.answer(event, moment, number))
        last = tries[-1]
        if last.ok:
            event.delivered_at = last.finished_at
            return
        event.letter = Letter(
            created_at=last.finished_at,
            reason=failure_reason(last.result(), len(tries)),
            last_status_code=last.status_code,
            last_error=(last.error or last.excerpt[:500]),
        )

    def replay(self, event: Event, requested_at: datetime, by: str, *, succeed: bool, in_bulk: bool = False) -> None:
        """An operator's replay (as deadletters.services.letter.perform_replay): new attempts, never rewritten."""
        letter = event.letter
        letter.replay_requested_at = requested_at
        letter.replay_requested_by = by
        letter.replay_started_at = requested_at + timedelta(milliseconds=self.rng.uniform(150, 900))
        letter.in_bulk = in_bulk
        letter.replay_count += 1
        moment = letter.replay_started_at
        number = len(event.attempts) + 1
        if succeed:
            attempt = Attempt(number, moment, self.rng.lognormvariate(math.log(85), 0.4), 200, "", '{"ok":true}', by)
            event.attempts.append(attempt)
            letter.status = "replayed"
            letter.replayed_at = event.delivered_at = attempt.finished_at
            letter.replayed_by = by
            letter.last_status_code, letter.last_error = 200, ""
            return
        if letter.last_status_code == 404:

            def answer(at, n):
                return Attempt(n, at, self.rng.uniform(20, 40), 404, "", '{"error":"Shop not found"}', by)
        else:

            def answer(at, n):
                return Attempt(n, at, self.rng.uniform(25, 60), 500, "", "Internal Server Error", by)

        tries = self.run_budget(event, moment, answer)
        attempt = tries[-1]
        letter.reason = failure_reason(attempt.result(), len(tries))
        letter.status = "failed"
        letter.last_status_code, letter.last_error = attempt.status_code, attempt.excerpt

    # ------------------------------------------------------------------ the week

    def make(self) -> Plan:
        rng = self.rng
        events: list[Event] = []
        # Shops that leave: app/uninstalled, and shop/redact 48 hours later.
        churned: dict[str, tuple[datetime, datetime | None]] = {}
        while len(churned) < max(2, self.size // 600):
            domain = content.churned_domain(rng)
            if domain in churned:
                continue
            uninstalled_at = self.random_moment(self.start - timedelta(days=2))
            redact_at = uninstalled_at + timedelta(hours=48, seconds=rng.uniform(0, 600))
            churned[domain] = (uninstalled_at, redact_at if redact_at < self.now - timedelta(minutes=2) else None)
        for domain, (uninstalled_at, redact_at) in churned.items():
            if uninstalled_at >= self.start:
                events.append(self.event("app/uninstalled", domain, uninstalled_at))
            if redact_at is not None and redact_at >= self.start:
                events.append(self.event("shop/redact", domain, redact_at))
        for moment in self.busy_moments(self.size - len(events)):
            events.append(self.event(content.pick_topic(rng), content.pick_shop(rng).domain, moment))
        # Synthetic runs after each deploy: one webhook per topic.
        runs = []
        for deploy in self.deploys:
            at = deploy + timedelta(minutes=3, seconds=rng.uniform(0, 40))
            batch = [
                self.event(topic, "timedify-synthetic.myshopify.com", at + index * 150 * MS, synthetic=True)
                for index, topic in enumerate(content.TOPICS)
            ]
            runs.append(SyntheticRun(at=at, events=batch, by=BULK_OPERATOR))
            events.extend(batch)
        events.sort(key=lambda event: event.received_at)
        self.spells = self._spells(events)
        regular = [event for event in events if not event.synthetic and event.topic not in content.CHURN_TOPICS]
        self.gone = {event.webhook_id for event in rng.sample(regular, round(len(regular) * GONE_PER_THOUSAND / 1000))}
        self.gone |= {
            event.webhook_id
            for event in events
            if event.topic == "shop/redact" and not event.synthetic and rng.random() < 0.3
        }

        for event in events:
            self.deliver(event)
            if not event.synthetic and rng.random() < 0.015:
                # Shopify sent it again (its own retry after a slow network): counted on the first copy.
                event.duplicates = 1 if rng.random() < 0.9 else 2
                for _ in range(event.duplicates):
                    event.duplicate_ms.append(self.ingress_ms(event.received_at))
                event.last_duplicate_at = event.received_at + timedelta(seconds=rng.uniform(2, 90))

        unauthorized = [(self.random_moment(), rng.uniform(0.8, 3.5)) for _ in range(max(3, self.size // 400))]
        bulk_at, bulk = self._operators(events)
        return Plan(
            now=self.now,
            start=self.start,
            events=events,
            outage=self.outage,
            deploys=self.deploys,
            spells=self.spells,
            churned=churned,
            unauthorized=sorted(unauthorized),
            synthetic_runs=runs,
            bulk_at=bulk_at,
            bulk_letters=bulk,
            token_revoked_at=self.token_revoked_at,
        )

    def _operators(self, events: list[Event]) -> tuple[datetime | None, list[Event]]:
        """What the operators did about the dead letters (see the module docstring)."""
        rng = self.rng
        outage_end = self.outage[1]
        bulk_at = outage_end + BULK_REPLAY_DELAY
        bulk = [
            event
            for event in events
            if event.letter is not None
            and self.outage[0] - timedelta(minutes=1) <= event.letter.created_at <= outage_end + timedelta(minutes=1)
        ]
        if bulk_at >= self.now - timedelta(minutes=5):
            bulk, bulk_at = [], None
        for index, event in enumerate(bulk):
            # 10 a second, as the bulk runner paces them; the last one meets the app having a bad moment.
            self.replay(event, bulk_at + index * 100 * MS, BULK_OPERATOR, succeed=index != len(bulk) - 1, in_bulk=True)
        for event in events:
            letter = event.letter
            if letter is None or letter.in_bulk:
                continue
            later = letter.created_at + timedelta(minutes=rng.uniform(20, 300))
            if later >= self.now - timedelta(minutes=5):
                continue
            if self.now - letter.created_at < RECENT:
                if rng.random() < 0.2:
                    self.replay(event, later, REPLAY_OPERATOR, succeed=True)
            elif letter.last_status_code == 404:
                if event.topic == "shop/redact" and letter.created_at + DELETE_AFTER < self.now:
                    # Nothing to replay to: the shop is gone. (After the next daily report counted it.)
                    letter.deleted_at = letter.created_at + DELETE_AFTER
                elif rng.random() < 0.3:
                    self.replay(event, later, REPLAY_OPERATOR, succeed=False)
            elif rng.random() < 0.5:
                self.replay(event, later, REPLAY_OPERATOR, succeed=True)
        return bulk_at, bulk


def make_plan(*, now: datetime, seed: int, events: int, days: int, budget: RetryBudget) -> Plan:
    """The week of `days` whole UTC days before `now`'s and today up to `now`, with about `events` webhooks."""
    return Planner(now=now, seed=seed, events=events, days=days, budget=budget).make()
