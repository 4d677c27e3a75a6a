// Datasets (REST ingest): ingest/events.toml is declared in the workspace; 3 rows posted over
// HTTP with the admin token show as received and pending in the explorer's Datasets section and
// in the dataset view (and in the grid once rows not flushed yet are included); "Flush now"
// writes them and the grid shows their values. An ingest token made in the UI is shown once,
// posts one more row (200) but cannot read the datasets (401), and is refused once revoked.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { assert, eq, gridRows, until } from "../lib/ui.mjs";

const DATASET = "events";
const DECLARATION = `description = "Click events"
event_time = "ts"
[columns]
id = "i64 not null"
ts = "timestamp not null"
user = "str"
[target]
path = "lake/events"
[flush]
max_rows = 1000000
max_age_secs = 3600
`;
const ROWS = [
  { id: 1, ts: "2025-03-01T10:00:00Z", user: "ada" },
  { id: 2, ts: "2025-03-01T11:30:00Z", user: "grace" },
  { id: 3, ts: "2025-03-02T09:15:00Z", user: null },
];
const TOKEN_NAME = "e2e-tracker";

export function setup({ ws }) {
  mkdirSync(join(ws, "ingest"), { recursive: true });
  writeFileSync(join(ws, "ingest", `${DATASET}.toml`), DECLARATION);
}

/** Posts rows to the dataset with `token`; the answer's status and JSON body. */
async function post(base, token, rows) {
  const r = await fetch(`${base}/api/ingest/${DATASET}`, {
    method: "POST",
    headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
    body: JSON.stringify(rows),
  });
  return { status: r.status, body: await r.text() };
}

/** A `data-value` attribute of the element with `testId`, once it has one. */
const value = (page, testId) => page.getByTestId(testId).getAttribute("data-value");

/** Waits until the element's `data-value` is `want` (the views poll every few seconds). */
async function waitValue(page, testId, want, ms = 15_000) {
  await until(async () => (await value(page, testId).catch(() => null)) === String(want), `${testId} = ${want} (now ${await value(page, testId).catch(() => "none")})`, ms);
}

/** Waits until the grid has loaded a view of `n` rows. */
async function waitGridTotal(page, n) {
  await page.waitForFunction(
    (want) => document.querySelector('[data-testid="output-total"]')?.getAttribute("data-total") === String(want),
    n,
    { timeout: 15_000 },
  );
}

export async function run({ base, token, check, shots, withOwnPage }) {
  await check("datasets: 3 rows posted with the admin token are acknowledged", async () => {
    const r = await post(base, token, ROWS);
    eq(r.status, 200, `POST /api/ingest/${DATASET} (${r.body})`);
    eq(JSON.parse(r.body).accepted, 3, "rows accepted");
  });

  await withOwnPage(async (page) => {
    await check("datasets: the explorer lists the dataset with 3 rows received and 3 pending", async () => {
      await page.goto(base);
      await page.getByTestId("login-token").fill(token);
      await page.getByTestId("login-submit").click();
      await page.getByTestId("datasets-section").waitFor();
      await page.getByTestId(`dataset-${DATASET}`).waitFor();
      await waitValue(page, `dataset-received-${DATASET}`, 3);
      await waitValue(page, `dataset-pending-${DATASET}`, 3);
      const item = await page.getByTestId(`dataset-${DATASET}`).textContent();
      assert(item.includes("3 received") && item.includes("3 pending") && item.includes("not flushed yet"), `explorer item: ${item}`);
      assert((await page.getByTestId(`dataset-error-${DATASET}`).count()) === 0, "an error badge on a healthy dataset");
    });

    await check("datasets: the dataset view shows the declaration and the counters", async () => {
      await page.getByTestId(`dataset-${DATASET}`).click();
      await page.getByTestId("dataset-view").waitFor();
      eq(await page.getByTestId("dataset-title").textContent(), DATASET, "title");
      await waitValue(page, "dataset-stat-rows_received", 3);
      await waitValue(page, "dataset-stat-rows_pending", 3);
      eq(await value(page, "dataset-stat-batches_accepted"), "1", "batches accepted");
      eq(await value(page, "dataset-stat-rows_flushed"), "0", "rows flushed");
      eq(await page.getByTestId("dataset-path").textContent(), "lake/events", "target path");
      const columns = await page.$$eval('[data-testid="dataset-columns"] tbody tr', (trs) =>
        trs.map((tr) => [...tr.querySelectorAll("td")].map((td) => td.textContent)),
      );
      eq(columns, [["id", "i64", "no"], ["tsevent time", "timestamp", "no"], ["user", "str", "yes"]], "columns");
      const curl = await page.getByTestId("dataset-curl").textContent();
      assert(curl.startsWith("curl -X POST -H 'Authorization: Bearer <ingest token>'") && curl.endsWith(`${base}/api/ingest/${DATASET}`), `curl example: ${curl}`);
    });

    await check("datasets: nothing is flushed yet; the grid shows the 3 rows once rows not flushed yet are included", async () => {
      await page.getByTestId("output-grid").waitFor();
      await waitGridTotal(page, 0);
      await page.getByTestId("dataset-include-unflushed").check();
      await waitGridTotal(page, 3);
      await page.getByTestId("dataset-include-unflushed").uncheck();
      await waitGridTotal(page, 0);
    });

    await check("datasets: Flush now writes the 3 rows, and the grid shows their values", async () => {
      await page.getByTestId("dataset-flush").click();
      await page.waitForFunction(() => document.querySelector('[data-testid="dataset-notice"]')?.textContent?.startsWith("Flushed"));
      eq(await page.getByTestId("dataset-notice").textContent(), "Flushed 3 rows into 2 files", "flush notice (two days)");
      await waitValue(page, "dataset-stat-rows_pending", 0);
      await waitValue(page, "dataset-stat-rows_flushed", 3);
      await waitGridTotal(page, 3);
      const rows = await gridRows(page, "output-grid");
      const seen = rows.map((r) => [r[0], r[2] === "null" ? "" : r[2]]).sort((a, b) => Number(a[0]) - Number(b[0]));
      eq(seen, [["1", "ada"], ["2", "grace"], ["3", ""]], "id and user of the flushed rows");
      assert(rows.every((r) => /^2025-03-0[12]/.test(r[1])), `timestamps: ${rows.map((r) => r[1])}`);
      await waitValue(page, `dataset-pending-${DATASET}`, 0);
      const flushed = await page.getByTestId(`dataset-flushed-${DATASET}`).textContent();
      assert(/^flushed (just now|\d+ s ago)$/.test(flushed), `explorer's last flush: ${flushed}`);
      await page.screenshot({ path: join(shots, "datasets.png") });
    });

    let secret = "";
    await check("datasets: an ingest token made in the UI is shown once", async () => {
      await page.getByTestId("ingest-tokens").waitFor();
      await page.getByTestId("token-name").fill(TOKEN_NAME);
      assert(await page.getByTestId(`token-dataset-${DATASET}`).isChecked(), "the shown dataset is ticked");
      await page.getByTestId("token-create").click();
      await page.getByTestId("token-created").waitFor();
      secret = (await page.getByTestId("token-value").textContent()).trim();
      assert(/^pit_\S{16,}$/.test(secret), `token: ${secret}`);
      assert((await page.getByTestId("token-created").textContent()).includes("cannot be shown again"), "the once-only note");
      await page.getByTestId(`token-row-${TOKEN_NAME}`).waitFor();
      await page.screenshot({ path: join(shots, "datasets-token.png") });
      await page.getByTestId("token-dismiss").click();
      await page.getByTestId("token-created").waitFor({ state: "detached" });
      assert(!(await page.content()).includes(secret), "the token is still in the page after Done");
      await page.getByTestId(`token-row-${TOKEN_NAME}`).waitFor();
    });

    await check("datasets: the token posts a row (200) but cannot read the datasets (401)", async () => {
      assert(secret, "no token was made");
      const r = await post(base, secret, [{ id: 4, ts: "2025-03-02T12:00:00Z", user: "dan" }]);
      eq(r.status, 200, `POST with the ingest token (${r.body})`);
      eq(JSON.parse(r.body).accepted, 1, "rows accepted");
      const read = await fetch(`${base}/api/datasets`, { headers: { Authorization: `Bearer ${secret}` } });
      eq(read.status, 401, "GET /api/datasets with the ingest token");
      await waitValue(page, `dataset-received-${DATASET}`, 4);
      await waitValue(page, `dataset-pending-${DATASET}`, 1);
    });

    await check("datasets: a token revoked in the UI is refused", async () => {
      assert(secret, "no token was made");
      await page.getByTestId(`token-revoke-${TOKEN_NAME}`).click();
      await page.getByTestId(`token-revoke-confirm-${TOKEN_NAME}`).click();
      await page.getByTestId(`token-row-${TOKEN_NAME}`).waitFor({ state: "detached" });
      const r = await post(base, secret, [{ id: 5, ts: "2025-03-02T13:00:00Z", user: "eve" }]);
      eq(r.status, 401, `POST with the revoked token (${r.body})`);
    });
  });
}
