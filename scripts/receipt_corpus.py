"""A corpus of receipts with known ground truth, made here: rendered from text with real fonts
(the DejaVu fonts in assets/fonts) at receipt widths, then, for the harder half, degraded the
way phone photos are (rotated a few degrees, blurred, noisy, unevenly lit, saved as JPEG at
quality 50). Six kinds: a supermarket with 20+ items, a cafe with a tip, a fuel station, a
restaurant with VAT and a service charge, a Vietnamese shop in VND with diacritics, and a PDF
invoice (with a text layer when clean; a scanned page when degraded).

Deterministic: the same seed makes the same files. `make(directory, seed)` writes the files and
returns the truth: [{file, kind, degraded, merchant, date, total, currency, items:
[{description, amount}]}].
"""

import datetime
import random
from decimal import Decimal
from pathlib import Path

from fpdf import FPDF
from PIL import Image, ImageDraw, ImageFilter, ImageFont

ROOT = Path(__file__).resolve().parents[1]
FONT = str(ROOT / "assets" / "fonts" / "DejaVuSans.ttf")
BOLD = str(ROOT / "assets" / "fonts" / "DejaVuSans-Bold.ttf")

CENT = Decimal("0.01")

GROCERIES = [
    "Bananas", "Whole Milk 2L", "Sourdough Bread", "Free Range Eggs", "Cheddar Cheese",
    "Greek Yogurt", "Chicken Breast", "Ground Coffee", "Orange Juice", "Pasta Fusilli",
    "Tomato Sauce", "Olive Oil", "Basmati Rice", "Apples Gala", "Baby Spinach", "Carrots",
    "Red Onions", "Butter Salted", "Paper Towels", "Dish Soap", "Toothpaste", "Shampoo",
    "Frozen Peas", "Ice Cream Vanilla", "Dark Chocolate", "Peanut Butter", "Honey",
    "Oat Cereal", "Sparkling Water", "Tea Bags", "Canned Tuna", "Black Beans",
]
CAFE_ITEMS = [
    "Latte", "Cappuccino", "Flat White", "Americano", "Croissant", "Blueberry Muffin",
    "Banana Bread", "Avocado Toast", "Chai Latte", "Iced Tea", "Bagel Cream Cheese",
]
DISHES = [
    "Steak Frites", "Sea Bass", "Caesar Salad", "Mushroom Risotto", "Burger Deluxe",
    "Tomato Soup", "House Wine", "Sparkling Water", "Tiramisu", "Lemon Tart", "Espresso",
]
VN_ITEMS = [
    ("Cà phê sữa", 25000), ("Bánh mì thịt", 30000), ("Nước suối", 10000),
    ("Trà đào", 35000), ("Phở bò", 55000), ("Bún chả", 50000), ("Sữa tươi", 32000),
    ("Mì gói", 8000), ("Bánh bao", 15000), ("Nước cam", 40000), ("Kem dừa", 28000),
]
OFFICE = [
    "Printer Paper A4", "Toner Cartridge", "Stapler", "Ballpoint Pens x12", "Sticky Notes",
    "Desk Organizer", "USB-C Cable", "Whiteboard Markers", "Envelopes C5", "Binder Clips",
]
MERCHANTS = {
    "supermarket": ["FRESHMART", "GREEN VALLEY MARKET", "CORNER GROCERY", "DAILY FOODS"],
    "cafe": ["BLUE BOTTLE CAFE", "MORNING BREW", "THE COFFEE HOUSE", "BEAN THERE"],
    "fuel": ["SHELL STATION", "ARAL TANKSTELLE", "TOTAL ENERGIES", "ESSO EXPRESS"],
    "restaurant": ["The Golden Fork", "Olive & Thyme", "The Red Lion", "Harbour Kitchen"],
    "vietnamese": ["CỬA HÀNG AN KHANG", "SIÊU THỊ MINH CHÂU", "QUÁN CÀ PHÊ HOA SỮA", "TIỆM BÁNH NGỌC LAN"],
    "invoice": ["NORTHWIND OFFICE SUPPLY", "CONTOSO PAPER CO", "FABRIKAM STATIONERY", "ADVENTURE WORKS"],
}


def money(value):
    return f"{value:,.2f}"


def dong(value):
    return f"{value:,}".replace(",", ".")


def line(left, right, width=32):
    gap = max(2, width - len(left) - len(right))
    return left + " " * gap + right


def supermarket(rng, date):
    lines, items = [], []
    merchant = rng.choice(MERCHANTS["supermarket"])
    lines += [(merchant, True), (f"{rng.randint(10, 999)} Main Street", False),
              (f"Date: {date:%m/%d/%Y} {rng.randint(8, 21):02d}:{rng.randint(0, 59):02d}", False), ("", False)]
    for name in rng.sample(GROCERIES, rng.randint(20, 24)):
        qty = rng.choice([1, 1, 1, 1, 2, 3])
        unit = Decimal(rng.randint(79, 1299)) / 100
        amount = unit * qty
        if qty > 1:
            lines.append((line(f"{qty} x {name}", money(amount)), False))
        else:
            lines.append((line(name, money(amount)), False))
        items.append({"description": name, "amount": str(amount)})
    subtotal = sum(Decimal(i["amount"]) for i in items)
    tax = (subtotal * Decimal("0.0725")).quantize(CENT)
    total = subtotal + tax
    lines += [("", False), (line("SUBTOTAL", money(subtotal)), False), (line("TAX 7.25%", money(tax)), False),
              (line("TOTAL", "$" + money(total)), True), (line("VISA **** 1881", money(total)), False),
              (f"ITEMS SOLD {len(items)}", False), ("THANK YOU FOR SHOPPING", False)]
    return merchant, total, "USD", items, lines


def cafe(rng, date):
    merchant = rng.choice(MERCHANTS["cafe"])
    lines = [(merchant, True), (f"{rng.randint(1, 300)} Market St", False), (f"{date:%b} {date.day}, {date.year}", False), ("", False)]
    items = []
    for name in rng.sample(CAFE_ITEMS, rng.randint(2, 5)):
        qty = rng.choice([1, 1, 2])
        amount = Decimal(rng.randint(275, 895)) / 100 * qty
        lines.append((line(f"{qty} x {name}" if qty > 1 else name, money(amount)), False))
        items.append({"description": name, "amount": str(amount)})
    subtotal = sum(Decimal(i["amount"]) for i in items)
    tax = (subtotal * Decimal("0.0875")).quantize(CENT)
    tip = (subtotal * Decimal(rng.choice(["0.15", "0.18", "0.20"]))).quantize(CENT)
    total = subtotal + tax + tip
    lines += [("", False), (line("Subtotal", money(subtotal)), False), (line("Tax", money(tax)), False),
              (line("Tip", money(tip)), False), (line("Total", "$" + money(total)), True), ("Thank you!", False)]
    return merchant, total, "USD", items, lines


def fuel(rng, date):
    merchant = rng.choice(MERCHANTS["fuel"])
    litres = Decimal(rng.randint(15000, 60000)) / 1000
    price = Decimal(rng.randint(1650, 1999)) / 1000
    amount = (litres * price).quantize(CENT)
    items = [{"description": "Super E10", "amount": str(amount)}]
    lines = [(merchant, True), (f"Station {rng.randint(1000, 9999)}", False),
             (f"{date:%d.%m.%Y} {rng.randint(6, 22):02d}:{rng.randint(0, 59):02d}", False),
             (f"Pump {rng.randint(1, 12):02d}", False), ("", False),
             (line("Super E10", money(amount).replace(",", "")), False),
             (f"{litres} L x {price} EUR/L", False), ("", False),
             (line("TOTAL EUR", money(amount).replace(",", "")), True),
             (line("incl. VAT 19%", money((amount * 19 / 119).quantize(CENT))), False),
             ("Card payment", False)]
    return merchant, amount, "EUR", items, lines


def restaurant(rng, date):
    merchant = rng.choice(MERCHANTS["restaurant"])
    lines = [(merchant, True), (f"Table {rng.randint(1, 30)}  Guests {rng.randint(1, 6)}", False), (f"{date:%d/%m/%Y}", False), ("", False)]
    items = []
    for name in rng.sample(DISHES, rng.randint(3, 7)):
        qty = rng.choice([1, 1, 2])
        unit = Decimal(rng.randint(450, 3200)) / 100
        amount = unit * qty
        left = f"{name} {qty} @ {money(unit)}" if qty > 1 else name
        lines.append((line(left, money(amount), 34), False))
        items.append({"description": name, "amount": str(amount)})
    subtotal = sum(Decimal(i["amount"]) for i in items)
    service = (subtotal * Decimal("0.125")).quantize(CENT)
    vat = (subtotal * Decimal("0.20")).quantize(CENT)
    total = subtotal + service + vat
    lines += [("", False), (line("Subtotal", money(subtotal), 34), False),
              (line("Service charge 12.5%", money(service), 34), False),
              (line("VAT 20%", money(vat), 34), False), (line("TOTAL GBP", money(total), 34), True)]
    return merchant, total, "GBP", items, lines


def vietnamese(rng, date):
    merchant = rng.choice(MERCHANTS["vietnamese"])
    lines = [(merchant, True), (f"Địa chỉ: {rng.randint(1, 200)} Lê Lợi, Quận 1", False), ("HÓA ĐƠN BÁN HÀNG", False),
             (f"Ngày: {date:%d/%m/%Y}", False), ("", False)]
    items = []
    for name, unit in rng.sample(VN_ITEMS, rng.randint(3, 6)):
        qty = rng.choice([1, 1, 2, 3])
        amount = unit * qty
        left = f"{name} {qty} x {dong(unit)}" if qty > 1 else name
        lines.append((line(left, dong(amount), 34), False))
        items.append({"description": name, "amount": str(amount)})
    total = sum(int(i["amount"]) for i in items)
    paid = ((total // 50000) + 1) * 50000
    lines += [("", False), (line("Tổng cộng:", dong(total) + " đ", 34), True),
              (line("Tiền mặt", dong(paid), 34), False), (line("Tiền thừa", dong(paid - total), 34), False),
              ("Cảm ơn quý khách", False)]
    return merchant, Decimal(total), "VND", items, lines


def invoice(rng, date):
    merchant = rng.choice(MERCHANTS["invoice"])
    lines = [(merchant, True), (f"Invoice INV-{rng.randint(1000, 9999)}", False), (f"Date: {date:%Y-%m-%d}", False), ("", False)]
    items = []
    for name in rng.sample(OFFICE, rng.randint(3, 6)):
        amount = Decimal(rng.randint(250, 9900)) / 100
        lines.append((line(name, money(amount), 34), False))
        items.append({"description": name, "amount": str(amount)})
    subtotal = sum(Decimal(i["amount"]) for i in items)
    vat = (subtotal * Decimal("0.20")).quantize(CENT)
    total = subtotal + vat
    lines += [("", False), (line("Subtotal", money(subtotal), 34), False), (line("VAT 20%", money(vat), 34), False),
              (line("TOTAL EUR", money(total), 34), True)]
    return merchant, total, "EUR", items, lines


KINDS = [supermarket, cafe, fuel, restaurant, vietnamese, invoice]


def render(lines, width=640, size=24):
    regular, bold = ImageFont.truetype(FONT, size), ImageFont.truetype(BOLD, size)
    step = int(size * 1.55)
    image = Image.new("L", (width, 60 + len(lines) * step), 255)
    draw = ImageDraw.Draw(image)
    y = 30
    for text, strong in lines:
        draw.text((24, y), text, font=bold if strong else regular, fill=0)
        y += step
    return image


def degrade(image, rng):
    angle = rng.uniform(1.0, 3.0) * rng.choice([-1, 1])
    image = image.rotate(angle, expand=True, fillcolor=255, resample=Image.BICUBIC)
    image = image.filter(ImageFilter.GaussianBlur(rng.uniform(0.5, 1.0)))
    pixels = image.load()
    w, h = image.size
    for _ in range(w * h // 40):
        x, y = rng.randrange(w), rng.randrange(h)
        pixels[x, y] = max(0, min(255, pixels[x, y] + rng.randint(-90, 90)))
    shade = Image.linear_gradient("L").rotate(rng.choice([0, 90, 180, 270])).resize(image.size)
    dark = Image.new("L", image.size, rng.randint(130, 170))
    return Image.blend(image, Image.composite(image, dark, shade), 0.35)


def text_pdf(lines, path):
    pdf = FPDF(format=(110, 40 + 6 * len(lines)))
    pdf.add_page()
    pdf.add_font("DejaVu", "", FONT)
    pdf.set_font("DejaVu", size=10)
    for text, _ in lines:
        pdf.cell(0, 6, text, new_x="LMARGIN", new_y="NEXT")
    pdf.output(str(path))


def make(directory, seed=2026, per_kind=4):
    """Writes 2 x 6 x `per_kind` receipts (clean and degraded) and returns their truth."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    truth = []
    for degraded in (False, True):
        for kind in KINDS:
            for n in range(per_kind):
                date = datetime.date(2026, 1, 1) + datetime.timedelta(days=rng.randint(0, 300))
                merchant, total, currency, items, lines = kind(rng, date)
                name = f"{'degraded' if degraded else 'clean'}-{kind.__name__}-{n}"
                if kind is invoice and not degraded:
                    path = directory / f"{name}.pdf"
                    text_pdf(lines, path)
                else:
                    image = render(lines)
                    if degraded:
                        image = degrade(image, rng)
                    if kind is invoice:
                        path = directory / f"{name}.pdf"
                        image.convert("RGB").save(path, resolution=150)
                    elif degraded:
                        path = directory / f"{name}.jpg"
                        image.convert("RGB").save(path, quality=50)
                    else:
                        path = directory / f"{name}.png"
                        image.save(path, optimize=True)
                truth.append({
                    "file": path.name, "kind": kind.__name__, "degraded": degraded,
                    "merchant": merchant, "date": date.isoformat(), "total": str(total),
                    "currency": currency, "items": items,
                })
    return truth
