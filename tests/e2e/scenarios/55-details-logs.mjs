// Task details and logs: a pipeline run twice with its SQL file edited on disk in between. The
// details panel (opened by a click on the canvas node) lists both runs with the statuses and
// rows the API reports and a duration sparkline; "changed since the last successful run" shows
// after the edit and goes away after a successful run, on the panel and on the notebook cell; a
// failed run's last error opens that run's log. The Log tab's search finds a known line and
// counts matches as the log text has them, steps with Enter / Shift+Enter, colours error lines,
// and Download gives the log's text.
import { readFileSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { assert, eq, until } from "../lib/ui.mjs";

const P = "details_demo";
const SALES = "id,region,amount\n1,north,10\n2,south,20\n3,north,5\n4,east,12\n5,west,3\n";
const SQL_ALL = `-- needle: every region
SELECT region,
       SUM(amount) AS total,
       COUNT(*) AS sales
FROM sales
GROUP BY region
ORDER BY region
`;
// After the edit: sales of at least 10 only (west drops out).
const SQL_BIG = SQL_ALL.replace("FROM sales\n", "FROM sales\nWHERE amount >= 10\n").replace("every region", "big sales per region");
const SQL_BROKEN = SQL_BIG.replace("COUNT(*)", "COUNT(no_such_col)");

let dir;

export function setup({ ws }) {
  dir = join(ws, P);
  mkdirSync(join(dir, "data"), { recursive: true });
  writeFileSync(join(dir, "data", "sales.csv"), SALES);
  writeFileSync(join(dir, "by_region.sql"), SQL_ALL);
  writeFileSync(
    join(dir, "pipeline.toml"),
    `[pipeline]
name = "${P}"
description = "Task details and logs scenario"
engine = "duckdb"

[[task]]
id = "sales"
kind = "source"
format = "csv"
path = "data/sales.csv"

[[task]]
id = "by_region"
kind = "sql"
description = "Sales per region"
file = "by_region.sql"
`,
  );
  mkdirSync(join(ws, TICKER), { recursive: true });
  writeFileSync(
    join(ws, TICKER, "pipeline.toml"),
    `[pipeline]
name = "${TICKER}"

[[task]]
id = "ticker"
kind = "shell"
command = "for i in $(seq 1 120); do echo tick $i; sleep 0.1; done"
`,
  );
}

const TICKER = "details_ticker";

const writeSql = (text) => writeFileSync(join(dir, "by_region.sql"), text);

/** Waits for the run panel to show a run other than `notId` with status `status`; its id. */
async function finishedRun(page, status, notId) {
  const h = await page.waitForFunction(
    ([st, not]) => {
      const el = document.querySelector('[data-testid="run-detail"]');
      return el && el.getAttribute("data-status") === st && el.getAttribute("data-run") !== String(not) ? Number(el.getAttribute("data-run")) : null;
    },
    [status, notId ?? -1],
    { timeout: 60_000 },
  );
  return h.jsonValue();
}

/** The history rows of the details panel: [run id, status, rows attribute]. */
const panelHistory = (page) =>
  page.$$eval('[data-testid="details-history"] > li', (ls) => ls.map((l) => [Number(l.dataset.testid.replace("details-run-", "")), l.dataset.status, l.dataset.rows]));

/** The API's history of by_region in the same shape. */
async function apiHistory(api) {
  const h = await api(`/api/pipelines/${P}/tasks/by_region/history?limit=30`);
  return { h, rows: h.runs.map((r) => [r.run_id, r.status, r.rows == null ? "" : String(r.rows)]) };
}

const occurrences = (text, q) => text.toLowerCase().split(q.toLowerCase()).length - 1;

export async function run({ check, login, api, shots, withOwnPage, base }) {
  await withOwnPage(async (page) => {
    let run1, run2, run3, run4;
    const badge = page.getByTestId("details-changed");

    await check("details: a click on a canvas node opens its panel, with its settings and not-run state", async () => {
      await login(page);
      await page.getByTestId(`pipeline-${P}`).click();
      await page.getByTestId("node-by_region").click();
      const panel = page.getByTestId("task-details");
      await panel.waitFor();
      eq(await panel.getAttribute("data-task"), "by_region", "panel task");
      await page.getByTestId("details-history-empty").waitFor();
      const settings = await page.$$eval('[data-testid="details-settings"] .details-kv', (kv) =>
        Object.fromEntries(kv.map((d) => [d.dataset.key, d.querySelector("dd").textContent])),
      );
      eq(settings.file, "by_region.sql", "file setting");
      eq(settings.reads, "sales", "reads");
      eq(settings.engine, "duckdb", "engine");
      // The SQL, folded under its file name.
      await page.getByTestId("details-code").locator("summary").click();
      assert((await page.getByTestId("details-code").textContent()).includes("needle: every region"), "the SQL is not shown");
    });

    await check("details: two runs with an edit between — history, rows as the API has them, changed badge", async () => {
      await page.getByTestId("run-pipeline").click();
      run1 = await finishedRun(page, "success");
      await until(async () => (await panelHistory(page)).length === 1, "one history entry");
      eq(await badge.count(), 0, "changed badge before any edit");

      // Edit the SQL file on disk (as an editor would): the panel says it changed.
      writeSql(SQL_BIG);
      await badge.waitFor({ timeout: 15_000 });
      assert((await badge.textContent()).includes(`#${run1}`), `badge names the last success: ${await badge.textContent()}`);
      const { h: mid } = await apiHistory(api);
      eq(mid.changed_since_success, true, "API changed flag after the edit");
      await page.screenshot({ path: join(shots, "details-changed.png") });

      await page.getByTestId("run-pipeline").click();
      run2 = await finishedRun(page, "success", run1);
      await badge.waitFor({ state: "detached", timeout: 15_000 });
      const { h, rows } = await apiHistory(api);
      eq(h.changed_since_success, false, "API changed flag after the run");
      eq(
        rows.map((r) => r[0]),
        [run2, run1],
        "API history",
      );
      await until(async () => JSON.stringify(await panelHistory(page)) === JSON.stringify(rows), `panel history = ${JSON.stringify(rows)}`);
      // 4 regions, then 3 with sales of at least 10.
      eq(
        rows.map((r) => r[2]),
        ["3", "4"],
        "rows",
      );
      eq(await page.getByTestId(`details-run-${run2}`).locator(".details-rows").textContent(), "3 rows", "rows text");
      eq(await page.getByTestId("details-sparkline").getAttribute("data-points"), "2", "sparkline points");
      eq(await page.getByTestId("details-schema-source").textContent(), "from the last output", "schema source");
      const cols = await page.$$eval('[data-testid="details-schema"] tr', (trs) => trs.map((t) => t.dataset.column));
      eq(cols, ["region", "total", "sales"], "schema columns");
      await page.screenshot({ path: join(shots, "details-history.png") });
    });

    let logText;
    await check("logs: search finds a known line, counts as the log has it, steps with Enter / Shift+Enter", async () => {
      // The history's log link opens that run's log.
      await page.getByTestId(`details-log-${run2}`).click();
      const log = page.getByTestId("task-log");
      await page.waitForFunction(() => /rows/.test(document.querySelector('[data-testid="task-log"]')?.textContent ?? ""));
      eq(await page.getByTestId("run-detail").getAttribute("data-run"), String(run2), "run shown");
      logText = await (await fetch(`${base}/api/runs/${run2}/tasks/by_region/log`, { headers: { Authorization: "Bearer e2e-token" } })).text();
      // Human numbers, no Rust debug output.
      assert(/\n\d\d:\d\d:\d\d\.\d{3} 3 rows\n?$/.test(logText), `log ends with: ${logText.slice(-40)}`);
      assert(!/Some\(/.test(await log.textContent()), "Rust debug output in the log");

      const search = page.getByTestId("log-search");
      await search.fill("needle: big sales");
      const count = page.getByTestId("log-search-count");
      await until(async () => (await count.textContent()) === "1 of 1", "one match of the known line");
      const mark = page.locator('[data-testid="task-log"] mark[data-current="true"]');
      eq(await mark.textContent(), "needle: big sales", "marked text");

      const q = "region";
      const expected = occurrences(logText, q);
      assert(expected >= 3, `the log has ${expected} × ${q}`);
      await search.fill(q);
      await until(async () => (await count.textContent()) === `1 of ${expected}`, `count 1 of ${expected} (got ${await count.textContent()})`);
      eq(await page.locator('[data-testid="task-log"] mark.log-match').count(), expected, "marks");
      await search.press("Enter");
      eq(await count.textContent(), `2 of ${expected}`, "after Enter");
      await search.press("Shift+Enter");
      await search.press("Shift+Enter");
      eq(await count.textContent(), `${expected} of ${expected}`, "Shift+Enter wraps to the last");
      await page.getByTestId("log-search-next").click();
      eq(await count.textContent(), `1 of ${expected}`, "next wraps to the first");
      await search.fill("no such text in this log");
      eq(await count.textContent(), "no matches", "no matches");
      await search.fill(q);
      await page.screenshot({ path: join(shots, "logs-search.png") });
    });

    await check("logs: Download gives the log's text as a .log file", async () => {
      const [download] = await Promise.all([page.waitForEvent("download"), page.getByTestId("log-download").click()]);
      eq(download.suggestedFilename(), `${P}-run${run2}-by_region.log`, "file name");
      const saved = readFileSync(await download.path(), "utf8");
      eq(saved, logText, "downloaded text");
      await page.getByTestId("log-search").fill("");
    });

    await check("details: a failed run's last error opens its log; error lines are coloured; the notebook cell says changed", async () => {
      await page.getByTestId("view-notebook").click();
      await page.getByTestId("cell-by_region").waitFor();
      eq(await page.getByTestId("cell-changed-by_region").count(), 0, "cell changed mark before the edit");
      writeSql(SQL_BROKEN);
      await page.getByTestId("cell-changed-by_region").waitFor({ timeout: 15_000 });
      await page.getByTestId("run-pipeline").click();
      run3 = await finishedRun(page, "failed", run2);
      const err = page.getByTestId("details-last-error");
      await err.waitFor();
      eq(await err.getAttribute("data-run"), String(run3), "last error's run");
      assert((await err.textContent()).includes("no_such_col"), `error text: ${await err.textContent()}`);
      // Still changed: the last success used other SQL.
      await badge.waitFor();
      await page.getByTestId("cell-changed-by_region").waitFor();
      // Look at an older run, then "view log" brings back the failed one's log.
      await page.getByTestId(`run-${run1}`).click();
      await page.waitForFunction((id) => document.querySelector('[data-testid="run-detail"]')?.getAttribute("data-run") === String(id), run1);
      await page.getByTestId("details-view-log").click();
      await page.waitForFunction((id) => document.querySelector('[data-testid="run-detail"]')?.getAttribute("data-run") === String(id), run3);
      await page.waitForFunction(() => document.querySelector('[data-testid="task-log"] [data-level="error"]'));
      const errLine = await page.locator('[data-testid="task-log"] [data-level="error"]').first().textContent();
      assert(/error: .*no_such_col/.test(errLine), `error line: ${errLine}`);
      const color = await page.locator('[data-testid="task-log"] [data-level="error"]').first().evaluate((el) => getComputedStyle(el).color);
      const plain = await page.locator('[data-testid="task-log"] [data-level="info"]').first().evaluate((el) => getComputedStyle(el).color);
      assert(color !== plain, `error lines look like the others (${color})`);
      const { rows } = await apiHistory(api);
      await until(async () => JSON.stringify(await panelHistory(page)) === JSON.stringify(rows), `panel history = ${JSON.stringify(rows)}`);
      eq(
        rows.map((r) => r[1]),
        ["failed", "success", "success"],
        "statuses",
      );
      await page.screenshot({ path: join(shots, "details-failed.png") });
    });

    await check("details: a successful run clears the changed mark on the panel and the notebook cell; Esc closes the panel", async () => {
      writeSql(SQL_ALL.replace("every region", "all regions again"));
      await page.getByTestId("run-pipeline").click();
      run4 = await finishedRun(page, "success", run3);
      await page.getByTestId("cell-changed-by_region").waitFor({ state: "detached", timeout: 15_000 });
      await badge.waitFor({ state: "detached", timeout: 15_000 });
      const { h } = await apiHistory(api);
      eq(h.last_success_run, run4, "last success");
      eq(h.changed_since_success, false, "API flag");
      eq((await panelHistory(page)).length, 4, "history entries");
      // Esc closes the panel (focus outside any editor); its bar opens it again.
      await page.getByTestId("details-task").click();
      await page.keyboard.press("Escape");
      await page.getByTestId("task-details").waitFor({ state: "detached" });
      await page.getByTestId("details-open").click();
      await page.getByTestId("task-details").waitFor();
      await page.getByTestId("details-close").click();
      await page.getByTestId("task-details").waitFor({ state: "detached" });
      await page.getByTestId("view-canvas").click();
    });

    await check("logs: follow keeps a live log at its end, turns off when scrolled up, and back on by its toggle", async () => {
      await page.getByTestId(`pipeline-${TICKER}`).click();
      await page.getByTestId("runs-empty").waitFor();
      await page.getByTestId("run-pipeline").click();
      await page.waitForFunction(() => document.querySelector('[data-testid="run-detail"]')?.getAttribute("data-status") === "running");
      await page.getByTestId("runtask-ticker").click();
      await page.getByTestId("tab-log").click();
      await page.getByTestId("log-live").waitFor();
      const follow = page.getByTestId("log-follow");
      const atEnd = () =>
        page.evaluate(() => {
          const el = document.querySelector('[data-testid="task-log"]');
          return el.scrollHeight - el.scrollTop - el.clientHeight < 30;
        });
      // Enough lines to scroll.
      await page.waitForFunction(() => {
        const el = document.querySelector('[data-testid="task-log"]');
        return el && el.scrollHeight > el.clientHeight + 100;
      }, null, { timeout: 20_000 });
      eq(await follow.getAttribute("data-on"), "true", "following at first");
      assert(await atEnd(), "not at the end while following");
      // Process output lines have their own level.
      assert((await page.locator('[data-testid="task-log"] [data-level="output"]').count()) > 5, "no output-level lines");
      await page.locator('[data-testid="task-log"]').evaluate((el) => (el.scrollTop = 0));
      await until(async () => (await follow.getAttribute("data-on")) === "false", "follow off after scrolling up");
      const lines = () => page.evaluate(() => (document.querySelector('[data-testid="task-log"]').textContent.match(/tick \d+/g) ?? []).length);
      const n = await lines();
      await until(async () => (await lines()) >= n + 3, "more lines");
      eq(await page.locator('[data-testid="task-log"]').evaluate((el) => el.scrollTop), 0, "the view stays where the user put it");
      await follow.click();
      eq(await follow.getAttribute("data-on"), "true", "follow on again");
      const m = await lines();
      await until(async () => (await lines()) >= m + 3, "more lines");
      assert(await atEnd(), "not at the end after turning follow on");
      await page.screenshot({ path: join(shots, "logs-follow.png") });
      await page.getByTestId("run-cancel").click();
      await page.waitForFunction(() => document.querySelector('[data-testid="run-detail"]')?.getAttribute("data-status") === "cancelled");
    });
  }, 60_000);
}
