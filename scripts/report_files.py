"""Checks report files with the programs people open them with (see report-files.sh)."""

import io
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
import finai_api  # noqa: E402


def call(method, path, token=None, body=None):
    return finai_api.request("report-files", method, path, token, body)


def data(method, path, token=None, body=None):
    return finai_api.data("report-files", method, path, token, body)


def fail(message):
    print(f"report-files: FAILED: {message}", file=sys.stderr)
    sys.exit(1)


def main():
    keep = sys.argv[1] if len(sys.argv) > 1 and sys.argv[1] else None
    session = data("POST", "/auth/register", body={
        "email": "reports@example.com", "password": "Str0ng!pass", "name": "Lan"})
    token = session["access_token"]
    data("PATCH", "/users/me", token, {"settings": {"language": "vi-VN", "currency": "VND"}})
    wallet = data("POST", "/wallets", token, {"name": "Ví", "type": "cash", "currency": "VND"})["id"]
    food = data("POST", "/categories", token, {"name": "Ăn uống", "kind": "expense"})["id"]
    salary = [c for c in data("GET", "/categories?per_page=100", token) if c["name"] == "Salary"][0]["id"]
    for amount, date, category, kind in [(1234500, "2026-03-02", food, "expense"),
                                         (65000, "2026-03-09", food, "expense"),
                                         (25000000, "2026-03-01", salary, "income")]:
        data("POST", "/transactions", token, {"type": kind, "amount": amount, "date": date,
             "description": "x", "category_id": category, "wallet_id": wallet})
    period = "from=2026-03-01&to=2026-03-31"
    summary = data("GET", f"/reports/summary?{period}", token)
    if (summary["income"], summary["expense"]) != (25000000, 1299500):
        fail(f"unexpected JSON figures: {summary}")

    work = tempfile.mkdtemp()
    try:
        status, content_type, pdf = call("GET", f"/reports/summary?{period}&format=pdf", token)
        if content_type != "application/pdf" or not pdf.startswith(b"%PDF-"):
            fail(f"not a PDF: {content_type}")
        path = os.path.join(work, "summary.pdf")
        open(path, "wb").write(pdf)
        text = subprocess.run(["pdftotext", "-layout", path, "-"], check=True,
                              capture_output=True, text=True).stdout
        # vi: dots group thousands; VND has no minor unit; dates day first.
        for expected in ["Summary", "01/03/2026 – 31/03/2026 · VND", "25.000.000 VND",
                         "1.299.500 VND", "23.700.500 VND", "Ăn uống", "100,00 %", "Page 1 of 1"]:
            if expected not in text:
                fail(f"pdftotext does not find {expected!r} in:\n{text}")
        subprocess.run(["pdftoppm", "-r", "60", "-png", "-f", "1", "-l", "1", path,
                        os.path.join(work, "page")], check=True)
        page = os.path.join(work, "page-1.png")
        if not os.path.exists(page) or os.path.getsize(page) < 5000:
            fail("pdftoppm rendered no page")
        if keep:
            shutil.copy(page, keep)

        # The pie's legend prints each share as the table and the JSON do. Exact shares 46.0496
        # and 53.9504 % are 46.05 and 53.95 in the JSON (they add up to 100); the table printed
        # them to one decimal (46.1 %, and shares that added up to 99.9 elsewhere), and a
        # legend that divided the amounts again printed 46.0 %.
        shares = data("POST", "/auth/register", body={
            "email": "shares@example.com", "password": "Str0ng!pass", "name": "Ann"})["access_token"]
        purse = data("POST", "/wallets", shares, {"name": "Cash", "type": "cash", "currency": "USD"})["id"]
        for name, amount in [("Boat", 4604.96), ("Kites", 5395.04)]:
            category = data("POST", "/categories", shares, {"name": name, "kind": "expense"})["id"]
            data("POST", "/transactions", shares, {"type": "expense", "amount": amount,
                 "date": "2026-03-03", "description": name, "category_id": category,
                 "wallet_id": purse})
        by_category = data("GET", f"/reports/spending-by-category?{period}", shares)
        if sorted(row["share_pct"] for row in by_category) != [46.05, 53.95]:
            fail(f"unexpected shares: {by_category}")
        for report in ["summary", "spending-by-category"]:
            status, _, body = call("GET", f"/reports/{report}?{period}&format=pdf&locale=en-US", shares)
            path = os.path.join(work, f"{report}-shares.pdf")
            open(path, "wb").write(body)
            text = subprocess.run(["pdftotext", "-layout", path, "-"], check=True,
                                  capture_output=True, text=True).stdout
            for expected in ["46.05 %", "53.95 %"]:
                if text.count(expected) != 2:
                    fail(f"{report}: the legend and the table should both print {expected!r}:\n{text}")

        # A long report in English: pages numbered, every page's header repeated.
        status, _, trend = call("GET", "/reports/trend?from=2025-01-01&to=2026-03-31&granularity=day"
                                "&format=pdf&locale=en-US", token)
        path = os.path.join(work, "trend.pdf")
        open(path, "wb").write(trend)
        text = subprocess.run(["pdftotext", "-layout", path, "-"], check=True,
                              capture_output=True, text=True).stdout
        pages = text.count("\f")
        if pages < 5 or f"Page {pages} of {pages}" not in text or "03/02/2026" not in text:
            fail(f"the daily trend over 15 months should take several numbered pages: {pages}")
        if text.count("Period") < pages:
            fail("the table's header is not repeated on every page")

        status, content_type, workbook = call("GET", f"/reports/summary?{period}&format=xlsx", token)
        names = zipfile.ZipFile(io.BytesIO(workbook)).namelist()
        if "xl/charts/chart1.xml" not in names:
            fail(f"the workbook has no chart: {names}")
        if shutil.which("libreoffice"):
            for name, body in [("summary.xlsx", workbook),
                               ("template.xlsx", call("GET", "/imports/template.xlsx", token)[2])]:
                open(os.path.join(work, name), "wb").write(body)
                subprocess.run(["libreoffice", "--headless", "--convert-to", "csv:Text - txt - csv (StarCalc):44,34,76", "--outdir", work,
                                os.path.join(work, name)], check=True, capture_output=True, timeout=180)
            csv = open(os.path.join(work, "summary.csv"), encoding="utf-8").read()
            if "Ăn uống" not in csv or "25000000" not in csv.replace(",", "").replace(".", ""):
                fail(f"LibreOffice reads the workbook differently:\n{csv}")
            print("report-files: LibreOffice opened the workbook and the template")
        print("report-files: pdftotext found the figures; pdftoppm rendered the page; ok")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
