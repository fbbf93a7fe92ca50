// Drives scripts/live-events.html in headless Chromium (playwright-core): opens the page with
// a fresh ticket, waits until its WebSocket is connected, records an expense through the API,
// waits for the page to show the event, and saves a screenshot.
// Arguments: base URL, access token, wallet id, category id, screenshot path, page path.
import { createRequire } from "node:module";

// playwright-core lives in the script's own install folder (PLAYWRIGHT_DIR), not beside it.
const require = createRequire(process.env.PLAYWRIGHT_DIR + "/package.json");
const { chromium } = require("playwright-core");

const [base, token, wallet, category, output, page_path, browser_path] = process.argv.slice(2);
const api = async (method, path, body) => {
  const response = await fetch(base + path, {
    method,
    headers: { authorization: "Bearer " + token, "content-type": "application/json" },
    body: body && JSON.stringify(body),
  });
  const json = await response.json();
  if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${JSON.stringify(json)}`);
  return json.data;
};

const browser = await chromium.launch({
  executablePath: browser_path,
  args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
});
try {
  const page = await browser.newPage({ viewport: { width: 1000, height: 420 } });
  const { ticket } = await api("POST", "/api/v1/events/ticket");
  await page.goto(`file://${page_path}#base=${encodeURIComponent(base)}&ticket=${ticket}`);
  await page.waitForSelector("#state.open", { timeout: 15000 });
  const expense = await api("POST", "/api/v1/transactions", {
    type: "expense", amount: 4.5, category_id: category, wallet_id: wallet,
    description: "Flat white", merchant: "Corner Cafe",
  });
  await page.waitForSelector('tr.event[data-type="transaction_update"]', { timeout: 15000 });
  await page.waitForSelector('tr.event[data-type="balance_update"]', { timeout: 15000 });
  const shown = await page.locator("tr.event").allInnerTexts();
  if (!shown.some((row) => row.includes("Flat white"))) {
    throw new Error("the page does not show the expense: " + JSON.stringify(shown));
  }
  await page.waitForTimeout(1600); // let the highlight fade, for a calm screenshot
  await page.screenshot({ path: output });
  console.log(`the page showed expense ${expense.id} as it was recorded (${shown.length} events)`);
} finally {
  await browser.close();
}
