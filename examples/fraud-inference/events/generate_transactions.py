#!/usr/bin/env python3
"""Writes events/transactions.jsonl: synthetic card transactions for the fraud-inference example.

Run with `python3 events/generate_transactions.py` from examples/fraud-inference (Python 3.8+,
standard library only). The output depends only on SEED and COUNT, so running it again gives
the same file byte for byte; tests may rely on that.

Every value is made up. Card and merchant ids are opaque tokens, never card numbers; source
IPs come from the documentation ranges of RFC 5737, which no real host uses, so `ip_country`
is the country the generator pretends a geolocation lookup returned.

About one transaction in twenty is made to look risky (a large amount, from an IP in another
country than the card's, often at a merchant category fraud favours), so a model has something
to find. Nothing in a record says which ones those are.
"""

import json
import random
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

SEED = 20240501
COUNT = 200
START = datetime(2024, 5, 1, 12, 0, 0, tzinfo=timezone.utc)
OUT = Path(__file__).with_name("transactions.jsonl")

# Card home countries and their currencies (all with two decimal places).
COUNTRIES = {"US": "USD", "CA": "CAD", "GB": "GBP", "DE": "EUR", "FR": "EUR", "NL": "EUR", "ES": "EUR"}

# ISO 18245 merchant category codes: everyday ones, and ones fraud favours.
EVERYDAY_MCC = ["5411", "5812", "5541", "5311", "5912", "4121", "5999", "5814"]
RISKY_MCC = ["5732", "5944", "6051", "7995", "4511"]

# RFC 5737 documentation ranges: 192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24.
IP_BLOCKS = ["192.0.2", "198.51.100", "203.0.113"]

RISKY_SHARE = 0.05


def main() -> None:
    rng = random.Random(SEED)

    cards = []
    for n in range(40):
        country = rng.choice(list(COUNTRIES))
        # Typical spend of the card, log-normally spread between a few and a few hundred units.
        cards.append({"card_id": f"card-{n:04d}", "country": country, "typical": rng.lognormvariate(3.4, 0.6)})

    merchants = []
    for n in range(30):
        mcc = rng.choice(RISKY_MCC) if n % 6 == 0 else rng.choice(EVERYDAY_MCC)
        merchants.append({"merchant_id": f"merch-{n:04d}", "mcc": mcc})
    risky_merchants = [m for m in merchants if m["mcc"] in RISKY_MCC]

    # Each card keeps one home address block, as a household connection would.
    home_ip = {c["card_id"]: f"{rng.choice(IP_BLOCKS)}.{rng.randrange(1, 255)}" for c in cards}

    t = START
    lines = []
    for _ in range(COUNT):
        t += timedelta(milliseconds=int(rng.expovariate(1 / 1500)) + 1)
        card = rng.choice(cards)
        risky = rng.random() < RISKY_SHARE
        if risky:
            merchant = rng.choice(risky_merchants) if rng.random() < 0.7 else rng.choice(merchants)
            amount = card["typical"] * rng.uniform(8, 30)
            ip_country = rng.choice([c for c in COUNTRIES if c != card["country"]])
            source_ip = f"{rng.choice(IP_BLOCKS)}.{rng.randrange(1, 255)}"
        else:
            merchant = rng.choice(merchants)
            amount = card["typical"] * rng.lognormvariate(0, 0.5)
            ip_country = card["country"]
            source_ip = home_ip[card["card_id"]] if rng.random() < 0.8 else f"{rng.choice(IP_BLOCKS)}.{rng.randrange(1, 255)}"
        record = {
            "transaction_id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
            "event_time": t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z",
            "card_id": card["card_id"],
            "amount": round(max(amount, 0.5), 2),
            "currency": COUNTRIES[card["country"]],
            "merchant_id": merchant["merchant_id"],
            "merchant_category": merchant["mcc"],
            "source_ip": source_ip,
            "ip_country": ip_country,
            "card_country": card["country"],
        }
        lines.append(json.dumps(record, separators=(",", ":")))

    OUT.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"wrote {len(lines)} transactions to {OUT}")


if __name__ == "__main__":
    main()
