#!/usr/bin/env python3
"""A second evaluation set for `finai eval-ml`: a seeded, chronological card statement built
from the merchant patterns shipped in the PyPI package `solyanka` 0.4.1 (MIT, (c) kvokka): raw
statement strings as banks print them ("Chevron 0206732 Plano TX", "Paypal *uber Br"), from
the patterns its author did not tag `ai_generated`.

What is real: the descriptions (templates filled with random codes where the package says so)
and each merchant's amount range. What is made up here: dates, amounts within the range, and the
label, a coarse category (COARSE below) from the package's `types` tags. Each merchant first
appears on a random day, so a chronological split meets merchants it never saw in training.

Usage: solyanka.py DATA_DIR OUT.csv [N_ROWS] [SEED]   (see build-solyanka.sh; needs pyyaml)
"""
import csv, glob, os, random, sys, datetime as dt
import yaml


# Coarse taxonomy. A pattern's label is the first of its `types` (in the
# author's order) that appears here; the rest are ignored.
COARSE = {
    "Groceries": "groceries grocery supermarket hypermarket market convenience_store convenience wholesale organic fruit local_store vending",
    "Restaurants": "restaurant dining food fast_food fast\u0020food street_food fine_dining pizza noodles italian vietnamese vegetarian middle_eastern mediterranean sandwiches deli breakfast night_snack snacks snack gourmet culinary street_vendor traditional",
    "Coffee & Cafes": "cafe coffee tea bakery dessert icecream ice_cream beverages beverage",
    "Bars & Nightlife": "bar nightlife club pub hookah alcohol wine winery cigar vape",
    "Food Delivery": "food_delivery delivery",
    "Transportation": "transportation taxi ride_hailing ride_sharing rideshare uber public_transport transport metro train parking scooter_rental bike_sharing micromobility transit",
    "Auto & Fuel": "fuel gas_station gas automotive car_service car_wash auto car_rental leasing",
    "Travel": "travel traveling hotel accommodation aviation airline airport booking tourism resort duty_free tour hospitality luggage_storage beach wildlife experience",
    "Health": "health pharmacy medical healthcare clinic hospital doctor dental dentist drugstore optical medicine telemedicine",
    "Personal Care": "beauty spa wellness personal_care cosmetics grooming salon barbershop nail\u0020salon laser tattoo",
    "Fitness & Sports": "fitness gym sports",
    "Shopping": "shopping clothing fashion electronics retail department_store ecommerce e-commerce online_shopping online home_goods household furniture home_improvement diy hardware tools books bookstore accessories jewelry gifts souvenir luxury appliances computer kids baby flowers thrift gold stationery office art photography hobby music marketplace chinese_marketplace social_commerce shop digital_store general lifestyle",
    "Subscriptions & Software": "subscription software application streaming digital_services online_services ai_service vpn digital_goods digital_content membership design technology",
    "Entertainment": "entertainment cinema movies leisure recreation museum concert tickets ticketing gaming culture cultural performing_arts adult_entertainment dating",
    "Utilities & Telecom": "utilities telecom telecommunication mobile internet communications communication top_up mobile_topup energy",
    "Fees & Financial": "fintech payment wallet financial finance exchange cryptocurrency trading online_payment bank transfer paypal authorization verification insurance",
    "Education": "education tuition",
    "Pets": "pets pet_care veterinary",
    "Services & Government": "government services service business logistics shipping post_office coworking laundry legal consulting home_services construction housing property real\u0020estate institution donation custom tip location",
}
TAG2COARSE = {}
for cat, tags in COARSE.items():
    for t in tags.split():
        TAG2COARSE.setdefault(t.replace("\u0020", " "), cat)

# Rough, fixed FX rates to USD (only so one amount column is comparable).
FX = {"USD": 1, "EUR": 1.08, "GBP": 1.27, "THB": 0.028, "VND": 0.00004, "IDR": 0.000063,
      "MYR": 0.21, "BRL": 0.19, "GEL": 0.37, "HUF": 0.0027, "AUD": 0.66, "AED": 0.27,
      "NOK": 0.094, "PHP": 0.018, "JPY": 0.0067, "KRW": 0.00074, "LAK": 0.000047,
      "TRY": 0.031, "CNY": 0.14, "RON": 0.22, "MXN": 0.055, "COP": 0.00025, "INR": 0.012,
      "CAD": 0.73, "OMR": 2.6, "HKD": 0.128, "SGD": 0.74, "UAH": 0.024}


def coarse(types):
    for t in types:
        if t in TAG2COARSE:
            return TAG2COARSE[t]
    return "Other"


def load(data):
    out = []
    for f in sorted(glob.glob(os.path.join(data, "*.yml"))):
        for p in yaml.safe_load(open(f, encoding="utf-8")) or []:
            p["_file"] = os.path.basename(f)
            out.append(p)
    return out


def gen_param(spec, rng):
    g = spec["generator"]
    if g == "random_digits":
        s = "".join(rng.choice("0123456789") for _ in range(spec["length"]))
        if not spec.get("zero_pad", True):
            s = s.lstrip("0") or "0"
    elif g == "random_alnum":
        cs = spec.get("charset", "abcdefghijklmnopqrstuvwxyz0123456789")
        s = "".join(rng.choice(cs) for _ in range(spec["length"]))
    else:  # choice
        s = rng.choices(spec["options"], weights=spec.get("weights"))[0]
    case = (spec.get("transform") or {}).get("case")
    return {"upper": s.upper(), "lower": s.lower(), "title": s.title()}.get(case, s)


def render(p, rng, consts):
    t = p["title"]
    if isinstance(t, str):
        return t.strip()
    vals = {}
    for name, spec in (t.get("params") or {}).items():
        key = (id(p), name)
        if spec.get("globalConstant"):
            if key not in consts:
                consts[key] = gen_param(spec, rng)
            vals[name] = consts[key]
        else:
            vals[name] = gen_param(spec, rng)
    import string
    for _, name, _, _ in string.Formatter().parse(t["template"]):
        if name and name not in vals:  # package data bug, e.g. "{rip}" vs param "rid"
            vals[name] = "".join(rng.choice("0123456789") for _ in range(8))
    return t["template"].format(**vals).strip()


def amount(p, rng):
    if p.get("amounts"):
        a = rng.choice(p["amounts"])
    else:
        r = p["amountRange"]
        a = rng.uniform(float(r["min"]), float(r["max"]))
    fmt = p.get("amountFormat", 2)
    return round(a, fmt) if fmt >= 0 else round(a, fmt)


def pretty(p):
    t = p.get("prettyTitle") or (p["title"].get("prettyTitle") if isinstance(p["title"], dict) else "")
    return (t or "").strip()


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    data, out = sys.argv[1], sys.argv[2]
    n = int(sys.argv[3]) if len(sys.argv) > 3 else 6000
    seed = int(sys.argv[4]) if len(sys.argv) > 4 else 42
    rng = random.Random(seed)
    pool = [p for p in load(data) if "ai_generated" not in p["types"]]
    weights = [float(p.get("weight", 100)) for p in pool]
    caps, consts, rows, arrival = {}, {}, [], {}
    start = dt.date(2023, 1, 1)
    days = 730
    while len(rows) < n:
        p = rng.choices(pool, weights=weights)[0]
        cap = p.get("numberOfOccurrences")
        if cap is not None and caps.get(id(p), 0) >= cap:
            continue
        caps[id(p)] = caps.get(id(p), 0) + 1
        a = amount(p, rng)
        first = arrival.setdefault(id(p), rng.randrange(days))
        d = start + dt.timedelta(days=rng.randrange(first, days))
        rows.append([d.isoformat(), render(p, rng, consts), coarse(p["types"]), -a, p["currency"],
                     round(-a * FX.get(p["currency"], 1), 2), pretty(p), p["_file"][:-4]])
    rows.sort(key=lambda r: r[0])
    with open(out, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["date", "description", "category", "amount", "currency", "amount_usd",
                    "merchant", "country"])
        w.writerows(rows)
    print(f"{len(rows)} rows from {len(pool)} merchant patterns -> {out}")


if __name__ == "__main__":
    main()
