"""What the demo's world is made of: shops, topics, webhook payloads, Fly-shaped log lines.

Django-free and deterministic: every function that invents something takes a `random.Random`,
so `seed_demo --seed N` writes the same week twice. The simulator and the receiver use the same
shops and the same kinds of lines, so the live traffic continues the seeded history.
"""

from __future__ import annotations

import json
import random
import uuid
import zlib
from dataclasses import dataclass
from datetime import UTC, datetime

from timedify_ops.lib import signing

API_VERSION = "2026-10"
SCOPES = "read_customers,read_orders,read_products,write_products"
USER_AGENT = "Shopify-Captain-Hook"


# --------------------------------------------------------------------------- shops


@dataclass(frozen=True)
class DemoShop:
    domain: str
    name: str
    weight: int  # share of the traffic


# The installed shops, biggest first (their traffic follows these weights).
SHOPS: tuple[DemoShop, ...] = (
    DemoShop("northwind-outfitters.myshopify.com", "Northwind Outfitters", 30),
    DemoShop("alpine-roasters.myshopify.com", "Alpine Roasters", 18),
    DemoShop("copperleaf-candles.myshopify.com", "Copperleaf Candles", 12),
    DemoShop("tidewater-surf-co.myshopify.com", "Tidewater Surf Co.", 10),
    DemoShop("maple-and-rye.myshopify.com", "Maple & Rye", 8),
    DemoShop("lumen-lighting.myshopify.com", "Lumen Lighting", 6),
    DemoShop("fernhill-ceramics.myshopify.com", "Fernhill Ceramics", 5),
    DemoShop("brightside-toys.myshopify.com", "Brightside Toys", 4),
    DemoShop("quill-and-ink.myshopify.com", "Quill & Ink", 3),
    DemoShop("harbor-hound.myshopify.com", "Harbor Hound", 2),
)

# Topics of installed shops, by share of the traffic; the other two come from shops that leave.
TOPIC_WEIGHTS: tuple[tuple[str, int], ...] = (
    ("app_subscriptions/update", 34),
    ("customers/redact", 28),
    ("customers/data_request", 22),
    ("app/scopes_update", 14),
)
CHURN_TOPICS = ("app/uninstalled", "shop/redact")
TOPICS = tuple(topic for topic, _ in TOPIC_WEIGHTS) + CHURN_TOPICS

_ADJECTIVES = (
    "amber", "bold", "cedar", "dusky", "ember", "frosty", "golden", "hazel", "indigo", "jolly", "kindred",
    "lucky", "misty", "noble", "olive", "plum", "quiet", "rustic", "sunny", "tawny", "urban", "velvet",
    "wild", "young", "zesty",
)  # fmt: skip
_NOUNS = (
    "acorn", "badger", "bakery", "canvas", "cactus", "dune", "finch", "garden", "harbor", "island", "juniper",
    "kettle", "lantern", "meadow", "nook", "orchard", "pebble", "quarry", "river", "saddle", "thistle",
    "umbrella", "valley", "willow", "yarn",
)  # fmt: skip
_FIRST = ("ada", "ben", "chloe", "dev", "emma", "farah", "gus", "hana", "ivan", "jade", "kofi", "lena", "mo", "nia")
_LAST = ("ahmed", "berg", "costa", "dubois", "evans", "fischer", "garcia", "hughes", "ito", "jensen", "khan", "lopez")


def shop_id(domain: str) -> int:
    """A stable numeric Shopify shop id for a domain."""
    return 60_000_000_000 + zlib.crc32(domain.encode()) % 10_000_000_000


def shop_title(domain: str) -> str:
    for shop in SHOPS:
        if shop.domain == domain:
            return shop.name
    return domain.removesuffix(".myshopify.com").replace("-", " ").title()


def pick_shop(rng: random.Random) -> DemoShop:
    return rng.choices(SHOPS, weights=[shop.weight for shop in SHOPS])[0]


def pick_topic(rng: random.Random) -> str:
    return rng.choices([topic for topic, _ in TOPIC_WEIGHTS], weights=[weight for _, weight in TOPIC_WEIGHTS])[0]


def churned_domain(rng: random.Random) -> str:
    """A shop that is about to uninstall the app (one of 25 × 25 × 90 names)."""
    return f"{rng.choice(_ADJECTIVES)}-{rng.choice(_NOUNS)}-{rng.randint(10, 99)}.myshopify.com"


def new_uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


# --------------------------------------------------------------------------- webhooks


def iso(moment: datetime, timespec: str = "seconds") -> str:
    return moment.astimezone(UTC).isoformat(timespec=timespec).replace("+00:00", "Z")


def _customer(rng: random.Random) -> dict:
    first, last = rng.choice(_FIRST), rng.choice(_LAST)
    return {
        "id": rng.randint(6_000_000_000_000, 8_999_999_999_999),
        "email": f"{first}.{last}{rng.randint(1, 99)}@example.com",
        "phone": f"+1555{rng.randint(1_000_000, 9_999_999)}",
    }


def _orders(rng: random.Random) -> list[int]:
    return sorted(rng.randint(5_000_000_000_000, 5_999_999_999_999) for _ in range(rng.randint(0, 4)))


def payload(topic: str, domain: str, rng: random.Random, now: datetime) -> dict:
    """A body shaped like Shopify's own example payload for `topic`."""
    sid = shop_id(domain)
    if topic == "customers/redact":
        return {"shop_id": sid, "shop_domain": domain, "customer": _customer(rng), "orders_to_redact": _orders(rng)}
    if topic == "customers/data_request":
        return {
            "shop_id": sid,
            "shop_domain": domain,
            "orders_requested": _orders(rng),
            "customer": _customer(rng),
            "data_request": {"id": rng.randint(1_000, 99_999)},
        }
    if topic == "app/scopes_update":
        return {
            "id": rng.randint(1_000_000_000, 9_999_999_999),
            "previous": SCOPES.split(",")[:3],
            "current": SCOPES.split(","),
            "updated_at": iso(now),
            "shop_id": sid,
        }
    if topic == "app_subscriptions/update":
        plan, price = rng.choice((("Timedify Basic", "9.00"), ("Timedify Pro", "19.00"), ("Timedify Plus", "49.00")))
        status = rng.choices(("ACTIVE", "CANCELLED", "FROZEN", "DECLINED"), weights=(80, 10, 6, 4))[0]
        return {
            "app_subscription": {
                "admin_graphql_api_id": f"gid://shopify/AppSubscription/{rng.randint(20_000_000_000, 29_999_999_999)}",
                "name": plan,
                "status": status,
                "admin_graphql_api_shop_id": f"gid://shopify/Shop/{sid}",
                "created_at": iso(now),
                "updated_at": iso(now),
                "currency": "USD",
                "capped_amount": "100.0",
                "price": price,
                "interval": "every_30_days",
                "plan_handle": plan.lower().replace(" ", "-"),
            }
        }
    if topic == "shop/redact":
        return {"shop_id": sid, "shop_domain": domain}
    if topic == "app/uninstalled":
        return {
            "id": sid,
            "name": shop_title(domain),
            "email": f"owner@{domain.removesuffix('.myshopify.com')}.example.com",
            "domain": domain,
            "myshopify_domain": domain,
            "country_code": rng.choice(("US", "CA", "GB", "DE", "AU")),
            "currency": "USD",
            "plan_name": rng.choice(("basic", "shopify", "advanced")),
            "created_at": "2024-03-04T10:15:00-05:00",
            "updated_at": iso(now),
        }
    return {"shop_id": sid, "shop_domain": domain, "updated_at": iso(now)}


def body_bytes(data: dict) -> bytes:
    return json.dumps(data, separators=(",", ":")).encode()


def shopify_headers(
    topic: str,
    domain: str,
    *,
    webhook_id: str,
    event_id: str,
    triggered_at: datetime,
    body: bytes,
    secret: str | None = None,
) -> dict[str, str]:
    """The headers Shopify sends with a webhook, signed with the app's client secret (when given)."""
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "X-Shopify-Topic": topic,
        "X-Shopify-Shop-Domain": domain,
        "X-Shopify-Api-Version": API_VERSION,
        "X-Shopify-Webhook-Id": webhook_id,
        "X-Shopify-Event-Id": event_id,
        "X-Shopify-Triggered-At": iso(triggered_at, "milliseconds"),
    }
    if secret is not None:
        headers["X-Shopify-Hmac-Sha256"] = signing.sign(body, secret)
    return headers


# --------------------------------------------------------------------------- Fly logs


@dataclass(frozen=True)
class FlyInstance:
    app: str
    instance: str
    region: str

    @property
    def host(self) -> str:
        return self.instance[:4]


# The Shopify app (two machines in iad, one in fra) and its Postgres cluster.
APP_MACHINES = (
    FlyInstance("timedify", "3d8d9e1b2c4f87", "iad"),
    FlyInstance("timedify", "91857e0c4d2b38", "iad"),
    FlyInstance("timedify", "e2865d3f1a7c09", "fra"),
)
DB_MACHINES = (FlyInstance("timedify-db", "7811d5e3a60f42", "iad"),)


def fly_timestamp(ns: int) -> str:
    seconds, fraction = divmod(ns, 1_000_000_000)
    return datetime.fromtimestamp(seconds, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S") + f".{fraction:09d}Z"


def fly_record(ns: int, message: str, machine: FlyInstance, *, level: str = "info", provider: str = "app") -> dict:
    """One record as the Fly log shipper's HTTP sink sends it (Vector, codec json)."""
    return {
        "timestamp": fly_timestamp(ns),
        "message": message,
        "host": machine.host,
        "log": {"level": level},
        "event": {"provider": provider},
        "fly": {"app": {"name": machine.app, "instance": machine.instance}, "region": machine.region},
    }


def webhook_request_line(status: int, ms: float) -> str:
    """The app's access log line for a forwarded webhook (Remix + morgan)."""
    return f"POST /webhooks {status} - - {ms:.3f} ms"


def webhook_processing_line(topic: str, domain: str, webhook_id: str) -> str:
    details = f"topic: {topic}, shop: {domain}, webhookId: {webhook_id}"
    return f"[shopify-api/INFO] Processing webhook request | {{{details}}}"


def webhook_failure_line(topic: str, domain: str, status: int) -> tuple[str, str]:
    """(level, message) of the app's own account of a webhook it could not handle."""
    if status == 404:
        return "warn", f"[shopify-api/WARN] Webhook error: no session for {domain} ({topic}), answering 404"
    return "error", f"[shopify-api/ERROR] Webhook error: {topic} handler failed for {domain}: HTTP {status}"


def health_line(status: int, ms: float) -> str:
    return f"GET /health {status} - - {ms:.3f} ms"


_QUERIES = (
    'SELECT "public"."Session"."id", "public"."Session"."shop", "public"."Session"."accessToken" '
    'FROM "public"."Session" WHERE "public"."Session"."id" = $1 LIMIT $2 OFFSET $3',
    'SELECT "public"."Shop"."id", "public"."Shop"."plan" FROM "public"."Shop" WHERE "public"."Shop"."domain" = $1',
    'UPDATE "public"."Shop" SET "plan" = $1, "updatedAt" = $2 WHERE "public"."Shop"."id" = $3',
    'DELETE FROM "public"."CustomerData" WHERE "public"."CustomerData"."customerId" = $1',
)


def background_line(rng: random.Random) -> tuple[FlyInstance, str, str, str]:
    """(machine, level, provider, message): the everyday noise of the app and its database."""
    roll = rng.random()
    if roll < 0.55:
        return rng.choice(APP_MACHINES), "info", "app", f"prisma:query {rng.choice(_QUERIES)}"
    if roll < 0.75:
        path = rng.choice(("/dashboard", "/settings", "/billing", "/auth/session-token", "/reports"))
        ms = rng.lognormvariate(3.6, 0.5)
        return rng.choice(APP_MACHINES), "info", "app", f"GET {path} 200 - - {ms:.3f} ms"
    if roll < 0.85:
        written = rng.randint(40, 900)
        return (
            DB_MACHINES[0],
            "info",
            "app",
            f"LOG:  checkpoint complete: wrote {written} buffers ({written / 163.84:.1f}%); "
            f"0 WAL file(s) added, 0 removed, 1 recycled; write={rng.uniform(5, 40):.3f} s",
        )
    if roll < 0.93:
        table = rng.choice(("Session", "Shop", "CustomerData", "Subscription"))
        return (
            DB_MACHINES[0],
            "info",
            "app",
            f'LOG:  automatic vacuum of table "timedify.public.{table}": index scans: 1',
        )
    if roll < 0.985:
        machine = rng.choice(APP_MACHINES)
        return (
            machine,
            "info",
            "app",
            f"[shopify-api/INFO] Admin API request succeeded | {{shop: {pick_shop(rng).domain}}}",
        )
    machine = rng.choice(APP_MACHINES)
    return (
        machine,
        "warn",
        "app",
        f"[shopify-api/WARN] Admin API 429 Too Many Requests, retrying after 2 s | {{shop: {pick_shop(rng).domain}}}",
    )


def outage_lines(rng: random.Random) -> list[tuple[FlyInstance, str, str, str]]:
    """What the app and Fly say while the app cannot reach its database (the demo's outage)."""
    machine = rng.choice(APP_MACHINES)
    return [
        (
            machine,
            "error",
            "app",
            "prisma:error Invalid `prisma.session.findUnique()` invocation: Can't reach database server at "
            "`timedify-db.flycast:5432`",
        ),
        (machine, "error", "proxy", "[PR04] could not find a good candidate within 20 attempts at load balancing"),
        (machine, "warn", "runner", "Health check on port 3000 has failed. Your app is not responding properly."),
    ]
