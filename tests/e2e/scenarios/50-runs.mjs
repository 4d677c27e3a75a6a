// Runs: a run that fails on line 3 of a DuckDB query shows its error, the failing SQL line and
// the log; after fixing the SQL, Retry reuses the source from the cache and succeeds; the trigger
// dialog passes a changed parameter; the history filters by status and trigger; a slow shell task
// streams its log live and the run can be cancelled from the run view.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { openUi, setTheme } from "../lib/ui.mjs";

const P = "runs_demo";
const SLOW = "runs_slow";
const BAD_SQL = `SELECT region,
       SUM(amount) AS total,
       COUNT(bogus_col) AS n
FROM sales
WHERE amount >= {{ min_amount }}
GROUP BY region
`;
const GOOD_SQL = BAD_SQL.replace("bogus_col", "amount");

export function setup({ ws }) {
  const dir = join(ws, P);
  mkdirSync(join(dir, "data"), { recursive: true });
  writeFileSync(join(dir, "data", "sales.csv"), "id,region,amount\n1,north,10\n2,south,20\n3,north,5\n4,east,12\n");
  writeFileSync(
    join(dir, "pipeline.toml"),
    `[pipeline]
name = "${P}"
description = "Runs scenario: a DuckDB query failing on line 3"
engine = "duckdb"

[params]
min_amount = 0

[[task]]
id = "sales"
kind = "source"
format = "csv"
path = "data/sales.csv"

[[task]]
id = "by_region"
kind = "sql"
sql = """
${BAD_SQL}"""

[[task]]
id = "top"
kind = "sql"
sql = "SELECT * FROM by_region ORDER BY total DESC"
`,
  );
  const slow = join(ws, SLOW);
  mkdirSync(slow, { recursive: true });
  writeFileSync(
    join(slow, "pipeline.toml"),
    `[pipeline]
name = "${SLOW}"

[[task]]
id = "ticker"
kind = "shell"
command = "for i in $(seq 1 60); do echo tick $i; sleep 0.25; done"
`,
  );
}

/** The run shown in the run panel, once it has the given status. */
async function shownRun(page, status, notId) {
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

const state = (page, id) => page.getByTestId(`runtask-${id}`).getAttribute("data-state");

export async function run({ page, api, check, login, shots, base }) {
  let failedRun, retryRun, paramRun;

  await check("runs: a fresh pipeline says how to start a run", async () => {
    await openUi(page, base, login);
    await page.getByTestId(`pipeline-${P}`).click();
    const empty = page.getByTestId("runs-empty");
    await empty.waitFor();
    const text = await empty.textContent();
    if (!/No runs yet/.test(text) || !/Ctrl/.test(text)) throw new Error(`empty state: ${text}`);
  });

  await check("runs: a failed run shows the error, the failing SQL line and the log", async () => {
    await page.getByTestId("run-pipeline").click();
    failedRun = await shownRun(page, "failed");
    if ((await state(page, "by_region")) !== "failed") throw new Error(`by_region: ${await state(page, "by_region")}`);
    if ((await state(page, "top")) !== "upstream_failed") throw new Error(`top: ${await state(page, "top")}`);
    await page.getByTestId("bar-sales").waitFor();
    await page.getByTestId("log-by_region").click();
    const msg = await page.getByTestId("failed-message").textContent();
    if (!msg.includes("bogus_col")) throw new Error(`error message: ${msg}`);
    const line = page.getByTestId("sql-error-line");
    if ((await line.getAttribute("data-line")) !== "3") throw new Error(`highlighted line ${await line.getAttribute("data-line")}`);
    const mark = await page.getByTestId("sql-error-mark").textContent();
    if (mark !== "bogus_col") throw new Error(`marked token: ${mark}`);
    if ((await page.getByTestId("failed-location").textContent()).trim() !== "· line 3, column 14")
      throw new Error(`location: ${await page.getByTestId("failed-location").textContent()}`);
    await page.waitForFunction(() => /attempt 1 of task 'by_region'/.test(document.querySelector('[data-testid="task-log"]')?.textContent ?? ""));
    await page.getByTestId("runtask-by_region").hover();
    await page.screenshot({ path: join(shots, "runs-failed.png") });
  });

  await check("runs: the failure view in the dark theme", async () => {
    await setTheme(page, "dark");
    await page.getByTestId("bar-by_region").hover();
    await page.getByTestId("timeline-tip").waitFor();
    await page.screenshot({ path: join(shots, "runs-failed-dark.png") });
    await setTheme(page, "light");
  });

  await check("runs: Retry after fixing the SQL reuses the source and succeeds", async () => {
    await api(`/api/pipelines/${P}/tasks/by_region/sql`, { method: "PUT", body: JSON.stringify({ sql: GOOD_SQL }) });
    await page.getByTestId("run-retry").click();
    retryRun = await shownRun(page, "success", failedRun);
    const d = await api(`/api/runs/${retryRun}`);
    const st = Object.fromEntries(d.tasks.map((t) => [t.task_id, t.status]));
    if (d.run.trigger !== "retry") throw new Error(`trigger ${d.run.trigger}`);
    if (st.sales !== "cached" || st.by_region !== "success" || st.top !== "success") throw new Error(JSON.stringify(st));
    if ((await state(page, "sales")) !== "cached") throw new Error(`sales lane: ${await state(page, "sales")}`);
    // The reused task is an instant on the timeline, not a missing bar.
    if ((await page.getByTestId("bar-sales").getAttribute("data-state")) !== "cached") throw new Error("no cached bar for sales");
    await page.getByTestId(`run-${retryRun}`).waitFor();
    if ((await page.getByTestId(`run-${retryRun}`).getAttribute("data-trigger")) !== "retry") throw new Error("history row trigger");
    await page.screenshot({ path: join(shots, "runs-retry.png") });
    // Back on the failed run, the fixed SQL no longer has the quoted line: no stale mark.
    await page.getByTestId(`run-${failedRun}`).click();
    await page.waitForFunction((id) => document.querySelector('[data-testid="run-detail"]')?.getAttribute("data-run") === String(id), failedRun);
    await page.getByTestId("log-by_region").click();
    await page.getByTestId("failed-sql-changed").waitFor();
    if ((await page.getByTestId("sql-error-line").count()) !== 0) throw new Error("a stale error line is highlighted");
    await page.getByTestId(`run-${retryRun}`).click();
    await page.getByTestId("follow-latest").check();
  });

  await check("runs: the trigger dialog runs with a changed parameter", async () => {
    await page.getByTestId("run-menu").click();
    const input = page.getByTestId("param-min_amount");
    if ((await input.inputValue()) !== "0") throw new Error(`default shown: ${await input.inputValue()}`);
    await input.fill("11");
    await page.screenshot({ path: join(shots, "runs-trigger-dialog.png") });
    await input.press("Enter");
    paramRun = await shownRun(page, "success", retryRun);
    const d = await api(`/api/runs/${paramRun}`);
    const params = JSON.parse(d.run.params);
    if (params.min_amount !== "11") throw new Error(`params ${d.run.params}`);
    const rows = Object.fromEntries(d.tasks.map((t) => [t.task_id, t.rows]));
    // amount >= 11: south (20) and east (12).
    if (rows.by_region !== 2) throw new Error(`by_region rows ${rows.by_region}`);
    const shown = await page.getByTestId("run-params").textContent();
    if (!shown.includes("min_amount=11")) throw new Error(`params line: ${shown}`);
  });

  await check("runs: the history filters by status and by trigger", async () => {
    const ids = async () => page.$$eval('[data-testid="runs-list"] > li', (ls) => ls.map((l) => [l.dataset.testid, l.dataset.status, l.dataset.trigger]));
    await page.getByTestId("runs-filter-status").selectOption("failed");
    await page.waitForFunction(() => {
      const ls = [...document.querySelectorAll('[data-testid="runs-list"] > li')];
      return ls.length > 0 && ls.every((l) => l.dataset.status === "failed");
    });
    let got = await ids();
    if (got.length !== 1 || got[0][0] !== `run-${failedRun}`) throw new Error(`failed filter: ${JSON.stringify(got)}`);
    await page.getByTestId("runs-filter-status").selectOption("success");
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="runs-list"] > li').length === 2);
    got = await ids();
    if (got.map((g) => g[0]).join() !== `run-${paramRun},run-${retryRun}`) throw new Error(`success filter: ${JSON.stringify(got)}`);
    await page.getByTestId("runs-filter-trigger").selectOption("retry");
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="runs-list"] > li').length === 1);
    got = await ids();
    if (got[0][0] !== `run-${retryRun}`) throw new Error(`retry filter: ${JSON.stringify(got)}`);
    await page.screenshot({ path: join(shots, "runs-filtered.png") });
    await page.getByTestId("runs-filter-trigger").selectOption("all");
    await page.getByTestId("runs-filter-status").selectOption("all");
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="runs-list"] > li').length === 3);
  });

  await check("runs: the history pages with Load more", async () => {
    // 30 more runs (all cached, a few ms each): the first page holds 30, the rest comes on request.
    const earlier = (await api(`/api/runs?pipeline=${P}&limit=500`)).length;
    for (let i = 0; i < 30; i++) {
      const r = await api(`/api/pipelines/${P}/runs`, { method: "POST", body: "{}" });
      for (let t = 0; r.run_id && t < 100; t++) {
        if ((await api(`/api/runs/${r.run_id}`)).run.status !== "running") break;
        await new Promise((ok) => setTimeout(ok, 50));
      }
    }
    // A trigger can wait in the runner's queue (other scenarios' runs share its limit): wait
    // until all 30 are recorded and finished.
    for (let t = 0; ; t++) {
      const rs = await api(`/api/runs?pipeline=${P}&limit=500`);
      if (rs.length === earlier + 30 && rs.every((r) => r.status !== "running")) break;
      if (t > 200) throw new Error(`${rs.length} runs recorded, expected ${earlier + 30}`);
      await new Promise((ok) => setTimeout(ok, 50));
    }
    const total = earlier + 30;
    const count = () => page.locator('[data-testid="runs-list"] > li').count();
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="runs-list"] > li').length === 30);
    await page.getByTestId("runs-load-more").click();
    await page.waitForFunction((n) => document.querySelectorAll('[data-testid="runs-list"] > li').length === n, total);
    if ((await page.getByTestId("runs-load-more").count()) !== 0) throw new Error("Load more still offered at the end");
    if ((await count()) !== total || total !== 33) throw new Error(`${await count()} rows, ${total} runs`);
    // The oldest run is the failed one from the first check.
    const last = await page.locator('[data-testid="runs-list"] > li').last().getAttribute("data-testid");
    if (last !== `run-${failedRun}`) throw new Error(`last row ${last}`);
  });

  await check("runs: a running task's log streams live, and Cancel stops the run", async () => {
    await page.getByTestId(`pipeline-${SLOW}`).click();
    await page.getByTestId("runs-empty").waitFor();
    await page.keyboard.press("Control+Enter");
    // Under the whole suite's load this wait once timed out (here and in CI); if it does again,
    // say what the page and the runner knew, to tell a lost key press from a run that waited.
    try {
      await page.waitForFunction(() => document.querySelector('[data-testid="run-detail"]')?.getAttribute("data-status") === "running", null, {
        timeout: 60_000,
      });
    } catch (e) {
      const seen = await page.evaluate(() => ({
        detail: document.querySelector('[data-testid="run-detail"]')?.getAttribute("data-status") ?? null,
        focused: document.activeElement?.outerHTML?.slice(0, 120) ?? null,
        message: document.querySelector('[data-testid="trigger-message"]')?.textContent ?? null,
      }));
      const runs = await api(`/api/runs?pipeline=${SLOW}`);
      const active = await api(`/api/runs?limit=20`);
      throw new Error(
        `${e.message}; page: ${JSON.stringify(seen)}; runs of ${SLOW}: ${JSON.stringify(runs)}; newest runs: ${JSON.stringify(active.map((r) => [r.id, r.pipeline, r.status]))}`,
        { cause: e },
      );
    }
    await page.getByTestId("runtask-ticker").click();
    await page.getByTestId("tab-log").click();
    await page.getByTestId("log-live").waitFor();
    const ticks = () => page.evaluate(() => (document.querySelector('[data-testid="task-log"]')?.textContent?.match(/tick \d+/g) ?? []).length);
    await page.waitForFunction(() => /tick 3\b/.test(document.querySelector('[data-testid="task-log"]')?.textContent ?? ""));
    const before = await ticks();
    await page.waitForFunction((n) => (document.querySelector('[data-testid="task-log"]')?.textContent?.match(/tick \d+/g) ?? []).length >= n + 3, before);
    // The bar grows while the task runs.
    const w1 = (await page.getByTestId("bar-ticker").boundingBox()).width;
    if ((await page.getByTestId("bar-ticker").getAttribute("data-state")) !== "running") throw new Error("bar not running");
    await page.screenshot({ path: join(shots, "runs-live.png") });
    // Scrolled to the end while following.
    const atEnd = await page.evaluate(() => {
      const el = document.querySelector('[data-testid="task-log"]');
      return el.scrollHeight - el.scrollTop - el.clientHeight < 30;
    });
    if (!atEnd) throw new Error("the live log is not following its end");
    await page.getByTestId("run-cancel").click();
    const id = await shownRun(page, "cancelled");
    const d = await api(`/api/runs/${id}`);
    if (d.run.status !== "cancelled" || d.tasks[0].status !== "cancelled") throw new Error(JSON.stringify(d.tasks[0]));
    if (w1 <= 0) throw new Error("no running bar");
    // One key press, one run.
    const all = await api(`/api/runs?pipeline=${SLOW}`);
    if (all.length !== 1) throw new Error(`${all.length} runs of ${SLOW}`);
    await page.waitForFunction(() => document.querySelector('[data-testid="task-log"]')?.getAttribute("data-streaming") === "false");
    await page.screenshot({ path: join(shots, "runs-cancelled.png") });
  });
}
