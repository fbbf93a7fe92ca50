#!/usr/bin/env bash
# Bank-file import benchmark (issue 20): a statement of BENCH_ENTRIES entries (default 100,000)
# in OFX 1.x SGML and in CAMT.053, each imported by POST /api/v1/imports into its own wallet of
# a fresh user on a release server with its own PostgreSQL. Such files are imported in the
# background (202, then polled). For each file: its size, how fast it was answered (curl's
# time_total), the wall time until it was imported, the server's peak RSS (VmHWM) before and
# after, and what the batch reports. Then the same OFX file again (every entry a duplicate), in
# the background and within the request (`background=false`).
#
#   bash bench/imports.sh                     # about 2 minutes on 2 cores
#   BENCH_ENTRIES=20000 bash bench/imports.sh
#
# Settings: BENCH_BIN (else the release binary is built), BENCH_ENTRIES [100000],
# BENCH_PORT [18082], BENCH_KEEP=1 keeps the temporary directory. It prints one markdown table.
set -euo pipefail

name=imports.sh
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
ENTRIES="${BENCH_ENTRIES:-100000}"
PORT="${BENCH_PORT:-18082}"
BASE="http://127.0.0.1:$PORT/api/v1"

say "writing the statements ($ENTRIES entries each)"
python3 - "$ENTRIES" "$WORK" <<'PY'
import datetime, random, sys
n, work = int(sys.argv[1]), sys.argv[2]
rng = random.Random(20)
payees = ["WHOLE FOODS MARKET", "SHELL OIL", "NETFLIX.COM", "UBER TRIP", "STARBUCKS", "AMAZON MKTPL",
          "CITY PARKING", "PHARMACY 24", "ACME PAYROLL", "TRANSFER FROM SAVINGS"]
start = datetime.date(2016, 1, 1)
rows = []
for i in range(n):
    day = start + datetime.timedelta(days=i * 3650 // n)
    payee = rng.choice(payees)
    cents = rng.randint(100, 25000)
    amount = cents if payee in ("ACME PAYROLL", "TRANSFER FROM SAVINGS") else -cents
    rows.append((day, amount, payee, i))
with open(f"{work}/statement.ofx", "w", newline="") as f:
    f.write("OFXHEADER:100\r\nDATA:OFXSGML\r\nVERSION:102\r\nSECURITY:NONE\r\nENCODING:USASCII\r\n"
            "CHARSET:1252\r\nCOMPRESSION:NONE\r\nOLDFILEUID:NONE\r\nNEWFILEUID:NONE\r\n\r\n")
    f.write("<OFX>\r\n<BANKMSGSRSV1>\r\n<STMTTRNRS>\r\n<TRNUID>1\r\n<STMTRS>\r\n<CURDEF>USD\r\n"
            "<BANKACCTFROM>\r\n<BANKID>021000021\r\n<ACCTID>BENCH-OFX-1\r\n<ACCTTYPE>CHECKING\r\n"
            "</BANKACCTFROM>\r\n<BANKTRANLIST>\r\n<DTSTART>20160101\r\n<DTEND>20251231\r\n")
    for day, amount, payee, i in rows:
        f.write(f"<STMTTRN>\r\n<TRNTYPE>{'CREDIT' if amount > 0 else 'DEBIT'}\r\n"
                f"<DTPOSTED>{day:%Y%m%d}120000.000[-5:EST]\r\n<TRNAMT>{amount / 100:.2f}\r\n"
                f"<FITID>{day:%Y%m%d}{i:08d}\r\n<NAME>{payee}\r\n<MEMO>POS {i}\r\n</STMTTRN>\r\n")
    f.write("</BANKTRANLIST>\r\n</STMTRS>\r\n</STMTTRNRS>\r\n</BANKMSGSRSV1>\r\n</OFX>\r\n")
with open(f"{work}/statement.camt053.xml", "w") as f:
    f.write('<?xml version="1.0" encoding="UTF-8"?>\n<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08">'
            "<BkToCstmrStmt><GrpHdr><MsgId>B1</MsgId></GrpHdr><Stmt><Id>S1</Id>"
            "<FrToDt><FrDtTm>2016-01-01T00:00:00</FrDtTm><ToDtTm>2025-12-31T23:59:59</ToDtTm></FrToDt>"
            "<Acct><Id><IBAN>DE89370400440532013000</IBAN></Id><Ccy>EUR</Ccy></Acct>\n")
    for day, amount, payee, i in rows:
        f.write(f'<Ntry><Amt Ccy="EUR">{abs(amount) / 100:.2f}</Amt><CdtDbtInd>{"CRDT" if amount > 0 else "DBIT"}</CdtDbtInd>'
                f"<Sts><Cd>BOOK</Cd></Sts><BookgDt><Dt>{day:%Y-%m-%d}</Dt></BookgDt><AcctSvcrRef>REF{i:09d}</AcctSvcrRef>"
                f"<NtryDtls><TxDtls><RltdPties><Cdtr><Pty><Nm>{payee}</Nm></Pty></Cdtr></RltdPties>"
                f"<RmtInf><Ustrd>Card payment {i}</Ustrd></RmtInf></TxDtls></NtryDtls></Ntry>\n")
    f.write("</Stmt></BkToCstmrStmt></Document>\n")
PY

start_server "$PORT"

json_field() { python3 -c 'import json,sys; d=json.load(sys.stdin)["data"]; print(eval(sys.argv[1], {}, d))' "$1"; }
TOKEN="$(curl -fsS -H 'Content-Type: application/json' \
  -d '{"email":"importer@example.com","password":"Bench!pass1","name":"Importer"}' \
  "$BASE/auth/register" | json_field 'access_token')"
wallet() {
  curl -fsS -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
    -d "{\"name\":\"$1\",\"type\":\"bank\",\"currency\":\"$2\"}" "$BASE/wallets" | json_field 'id'
}
mib() { python3 -c "print(f'{$1 / 1024:.0f}')"; }

echo
echo "| file | entries | size | answered | imported | server peak RSS before → after | batch |"
echo "| --- | ---: | ---: | ---: | ---: | --- | --- |"
# Sends a file; a file over FINAI_IMPORT_BACKGROUND_BYTES (1 MiB) is answered 202 and imported in
# the background: its batch is polled every 0.1 s until it has ended.
run() {
  local label="$1" file="$2" query="$3"
  local before after="" ended="" size out code answered started id status seconds
  before="$(hwm_kib)"
  size="$(stat -c %s "$file")"
  started="$(date +%s.%N)"
  out="$(curl -sS -o "$WORK/answer.json" -w '%{http_code} %{time_total}' \
    -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/octet-stream' \
    --data-binary "@$file" "$BASE/imports$query")"
  code="${out%% *}"
  answered="${out#* }"
  case "$code" in
    201) ;;
    202)
      id="$(json_field 'id' <"$WORK/answer.json")"
      # Polled through the list (newest first, no reports): the peak RSS is the import's, not
      # that of reading its 100,000-entry report, which is read once it has ended.
      while :; do
        status="$(curl -fsS -H "Authorization: Bearer $TOKEN" "$BASE/imports?per_page=1" |
          python3 -c 'import json,sys; b=json.load(sys.stdin)["data"][0]; print(b["status"] if b["id"] == sys.argv[1] else "?")' "$id")"
        case "$status" in queued|processing) sleep 0.1 ;; *) break ;; esac
      done
      ended="$(date +%s.%N)"
      after="$(hwm_kib)"
      curl -fsS -H "Authorization: Bearer $TOKEN" "$BASE/imports/$id" >"$WORK/answer.json"
      [ "$status" != failed ] || { cat "$WORK/answer.json" >&2; die "$label: failed"; } ;;
    *) cat "$WORK/answer.json" >&2; die "$label: HTTP $code" ;;
  esac
  seconds="$(python3 -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.1f}')" "$started" "${ended:-$(date +%s.%N)}")"
  [ -n "$after" ] || after="$(hwm_kib)"
  echo "| $label | $ENTRIES | $(mib "$size / 1024") MiB | $code in $(printf '%.2f' "$answered") s | $seconds s | $(mib "$before") → $(mib "$after") MiB | $(json_field '"created %d, duplicates %d, failed %d" % (created, duplicates, failed)' <"$WORK/answer.json") |"
}
OFX_WALLET="$(wallet Checking USD)"
EUR_WALLET="$(wallet Giro EUR)"
run "OFX 1.02 SGML" "$WORK/statement.ofx" "?wallet_id=$OFX_WALLET"
run "CAMT.053.001.08" "$WORK/statement.camt053.xml" "?wallet_id=$EUR_WALLET"
run "the OFX again" "$WORK/statement.ofx" ""
run "the OFX again, within the request" "$WORK/statement.ofx" "?background=false"
