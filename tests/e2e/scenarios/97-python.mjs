// Python tasks on a small pipeline of their own (py_sales: a CSV source `sales`, a Python task
// `by_region` in by_region.py with a schema contract): the pipeline runs from the UI and the
// Python task's output is the per-region sums computed here from the CSV; in the notebook a new
// line typed into the Python cell (with `pl.col("am` completed to the upstream's column) previews
// the expected rows before saving, Ctrl+S writes by_region.py, an unknown column previews to an
// error that names it and is underlined on its line; a Python task dropped from the palette gets
// <id>.py with the template reading the chosen upstream, and runs; a broken schema contract lists
// its violations next to the output and under the cell; an exception's line is marked in the
// failure view and in the cell. Light and dark screenshots.
// The first Python run builds a virtualenv with Polars: those waits are long.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { acceptSuggestion, assert, eq, gridColumns, gridRows, setTheme, until, waitCanvasIdle } from "../lib/ui.mjs";

const NAME = "py_sales";
const TASK = "by_region";
const NEW = "region_share";
const SALES = "id,region,amount\n1,north,10\n2,south,20\n3,north,5\n4,east,12\n5,south,7\n6,west,3\n";
const TOML = `# Python tasks (e2e).
[pipeline]
name = "${NAME}"
description = "Sales per region, in Python"

[[task]]
id = "sales"
kind = "source"
format = "csv"
path = "data/sales.csv"

[[task]]
id = "${TASK}"   # Polars in by_region.py
kind = "python"
file = "${TASK}.py"
schema = { region = "str not null unique", amount = "i64 not null" }
`;
const CODE = `import polars as pl


def run(sales, params):
    return sales.group_by("region").agg(pl.col("amount").sum()).sort("region")
`;
/** The line typed into the cell (b), and the file after Ctrl+S (c). */
const FILTER_LINE = '    sales = sales.filter(pl.col("amount") > 6)';
const SAVED = CODE.replace("def run(sales, params):\n", `def run(sales, params):\n${FILTER_LINE}\n`);
/** What the palette's Python task starts with, reading by_region (ui/src/python/template.ts). */
const TEMPLATE = `import polars as pl


def run(${TASK}: pl.LazyFrame, params: dict) -> pl.LazyFrame:
    # Upstream tasks arrive as lazy scans; return a LazyFrame or DataFrame.
    return ${TASK}
`;
/** A run that builds the Python environment (pip install polars) on a fresh machine. */
const RUN_TIMEOUT = 300_000;

let dir;

export function setup({ ws }) {
  dir = join(ws, NAME);
  mkdirSync(join(dir, "data"), { recursive: true });
  writeFileSync(join(dir, "pipeline.toml"), TOML);
  writeFileSync(join(dir, "data", "sales.csv"), SALES);
  writeFileSync(join(dir, `${TASK}.py`), CODE);
}

const read = (f) => readFileSync(join(dir, f), "utf8");

/** Sum of amount per region over the CSV rows with amount > `min`, sorted by region: the grid's text. */
function sums(min = -Infinity) {
  const totals = new Map();
  for (const line of SALES.trim().split("\n").slice(1)) {
    const [, region, amount] = line.split(",");
    if (Number(amount) > min) totals.set(region, (totals.get(region) ?? 0) + Number(amount));
  }
  return [...totals].sort((a, b) => (a[0] < b[0] ? -1 : 1)).map(([r, n]) => [r, String(n)]);
}

export async function run(ctx) {
  await ctx.withOwnPage((page) => scenario({ ...ctx, page, login: () => ctx.login(page) }));
}

async function scenario({ page, api, check, login, shots }) {
  const node = (id) => page.getByTestId(`node-${id}`);
  const editor = page.locator(`[data-testid="cell-editor-${TASK}"]`);

  /** Clicks Run, waits for the run it started to end with `want`; returns its detail (throws with the failed tasks' errors). */
  async function runFromUi(want = "success") {
    const [before] = await api(`/api/runs?pipeline=${NAME}&limit=1`);
    await page.getByTestId("run-pipeline").click();
    const runId = await (
      await page.waitForFunction(
        (prev) => {
          const el = document.querySelector('[data-testid="run-detail"]');
          const st = el?.getAttribute("data-status");
          return el && st !== "running" && el.getAttribute("data-run") !== String(prev) ? Number(el.getAttribute("data-run")) : null;
        },
        before?.id ?? -1,
        { timeout: RUN_TIMEOUT },
      )
    ).jsonValue();
    const detail = await api(`/api/runs/${runId}`);
    const failed = detail.tasks.map((t) => `${t.task_id} ${t.status}${t.error ? `: ${t.error}` : ""}`);
    assert(detail.run.status === want, `run ${runId} ${detail.run.status}: ${failed.join("\n")}`);
    return detail;
  }

  /** The Python cell's text, line by line in their on-screen order (Monaco renders spaces as U+00A0). */
  const cellText = () =>
    editor.evaluate((el) =>
      [...el.querySelectorAll(".view-line")]
        .sort((a, b) => parseFloat(a.style.top) - parseFloat(b.style.top))
        .map((l) => l.textContent.replace(/\u00a0/g, " "))
        .join("\n")
        .trimEnd(),
    );

  /**
   * Replaces the line holding `find` with `text` (its indentation kept): typed at the start of the
   * line's text, where Monaco closes no brackets or quotes (the next character is a letter), then
   * Enter moves the old text to a line of its own, which Ctrl+Shift+K deletes.
   */
  async function replaceLine(find, text) {
    await editor.locator(".view-line", { hasText: find }).click();
    await page.keyboard.press("End");
    await page.keyboard.press("Home");
    await page.keyboard.type(text, { delay: 25 });
    await page.keyboard.press("Escape");
    await page.keyboard.press("Enter");
    await page.keyboard.press("Control+Shift+K");
  }

  await check("python: the pipeline runs from the UI; the Python task's output is the sums per region from the CSV", async () => {
    await login();
    await page.getByTestId(`pipeline-${NAME}`).click();
    await page.getByTestId("view-canvas").click();
    await node(TASK).waitFor();
    // The node says what it is, like SQL nodes show their engine.
    const meta = await node(TASK).locator(".dag-node-meta").textContent();
    assert(meta.startsWith("python"), `node meta: ${meta}`);
    eq(await node(TASK).locator(".dag-kind-icon").textContent(), "Py", "node icon");
    const detail = await runFromUi();
    const expected = sums();
    const tr = detail.tasks.find((t) => t.task_id === TASK);
    assert(tr?.status === "success" && tr.rows === expected.length, `${TASK} in the run: ${JSON.stringify(tr)}`);
    await page.waitForFunction((id) => document.querySelector(`[data-testid="node-${id}"]`)?.getAttribute("data-state") === "success", TASK);
    await node(TASK).click();
    await page.getByTestId("output-grid").waitFor();
    await page.waitForFunction((n) => document.querySelector('[data-testid="output-total"]')?.getAttribute("data-total") === String(n), expected.length);
    eq((await page.getByTestId("output-total").textContent()).trim(), `${expected.length} rows`, "output total");
    eq(await gridRows(page, "output-grid"), expected, "output rows (summed from the CSV)");
    eq(await gridColumns(page, "output-grid"), ["region", "amount"], "output columns");
    // The declared contract is next to the output.
    const contract = page.getByTestId("output-contract");
    eq((await contract.textContent()).trim(), "Contract · 2 columns ▾", "contract button");
    await contract.click();
    const region = await page.getByTestId(`contract-col-${TASK}-region`).textContent();
    assert(region.includes("str") && region.includes("not null") && region.includes("unique"), `contract column: ${region}`);
    await page.screenshot({ path: join(shots, "python-run.png") });
    await contract.click();
  });

  const filtered = sums(6);
  await check("python: a line typed into the Python cell, with pl.col(\"am completed, previews the expected rows unsaved", async () => {
    await page.getByTestId("view-notebook").click();
    await page.getByTestId("view-notebook").click();
    const cell = page.getByTestId(`cell-${TASK}`);
    await cell.scrollIntoViewIfNeeded();
    eq(await cell.getAttribute("data-kind"), "python", "cell kind");
    // Monaco's Python tokenizer, not SQL's.
    await editor.locator('[data-mode-id="python"] .monaco-editor').waitFor();
    eq(await cellText(), CODE.trimEnd(), "the file's text in the editor");
    await page.getByTestId(`contract-col-${TASK}-amount`).waitFor();

    // A new line above `return`: typed at the start of that line's text (where Monaco closes no
    // brackets or quotes, as the next character is a letter), then Enter splits the line.
    await editor.locator(".view-line", { hasText: "return" }).click();
    await page.keyboard.press("End");
    await page.keyboard.press("Home");
    // Inside pl.col("…") the upstream's columns are offered: `am` → amount.
    const offered = await acceptSuggestion(page, 'sales = sales.filter(pl.col("am', "amount", () => page.screenshot({ path: join(shots, "python-completion.png") }));
    eq(offered, ["amount"], 'suggestions for pl.col("am');
    await page.keyboard.type('") > 6)', { delay: 25 });
    await page.keyboard.press("Escape");
    await page.keyboard.press("Enter");
    eq(await cellText(), SAVED.trimEnd(), "editor text");
    assert(await page.getByTestId(`cell-dirty-${TASK}`).isVisible(), "unsaved dot while the text differs from the file");

    await page.keyboard.press("Shift+Enter");
    const preview = page.getByTestId(`cell-preview-${TASK}`);
    try {
      await page.locator(`[data-testid="cell-preview-${TASK}"][data-status="ok"]`).waitFor({ timeout: RUN_TIMEOUT });
    } catch (e) {
      const text = (await preview.count()) ? await preview.textContent() : "no preview panel";
      throw new Error(`preview: ${text.slice(0, 400)} (${e.message.split("\n")[0]})`, { cause: e });
    }
    const stats = await page.getByTestId(`cell-preview-stats-${TASK}`).textContent();
    assert(new RegExp(`^${filtered.length} rows · \\d+ ms$`).test(stats), `stats: ${stats}`);
    eq(await gridRows(page, `cell-grid-${TASK}`), filtered, "preview rows (amount > 6, summed from the CSV)");
    eq(await gridColumns(page, `cell-grid-${TASK}`), ["region", "amount"], "preview columns");
    eq(read(`${TASK}.py`), CODE, "the file is untouched by a preview");
  });

  await check("python: Ctrl+S writes by_region.py with the new line", async () => {
    await editor.locator(".view-lines").click();
    await page.keyboard.press("Control+s");
    await page.getByTestId(`cell-dirty-${TASK}`).waitFor({ state: "detached" });
    eq(read(`${TASK}.py`).trimEnd(), SAVED.trimEnd(), `${TASK}.py`);
    assert(read("pipeline.toml").includes(`file = "${TASK}.py"`), "pipeline.toml still points at the file");
    const spec = await api(`/api/pipelines/${NAME}`);
    const task = spec.tasks.find((t) => t.id === TASK);
    eq(task.settings.reads, ["sales"], "the function reads sales");
    await page.getByTestId(`cell-grid-${TASK}`).scrollIntoViewIfNeeded();
    await setTheme(page, "light");
    await page.screenshot({ path: join(shots, "python-notebook-light.png") });
    await setTheme(page, "dark");
    await page.waitForFunction(() => !!document.querySelector(".monaco-editor.vs-dark"));
    await page.screenshot({ path: join(shots, "python-notebook-dark.png") });
    await page.getByTestId(`cell-${TASK}`).screenshot({ path: join(shots, "python-cell-dark.png") });
    await setTheme(page, "light");
  });

  await check("python: an unknown column previews to an error naming it, underlined on its line", async () => {
    await replaceLine("sales.filter", 'sales = sales.filter(pl.col("nope") > 6)');
    eq(await cellText(), SAVED.trimEnd().replace('"amount") > 6', '"nope") > 6'), "editor text");
    await page.keyboard.press("Shift+Enter");
    const error = page.getByTestId(`cell-error-${TASK}`);
    await error.waitFor({ timeout: RUN_TIMEOUT });
    const message = await error.textContent();
    assert(message.includes("nope"), `the error names the column: ${message}`);
    const squiggly = editor.locator(".squiggly-error");
    await squiggly.first().waitFor();
    eq(await squiggly.count(), 1, "one error marker");
    const lines = await Promise.all(
      (await editor.locator(".view-line").all()).map(async (l) => ({ text: (await l.innerText()).replace(/\u00a0/g, " "), box: await l.boundingBox() })),
    );
    const target = lines.find((l) => l.text.includes('pl.col("nope")'));
    const mark = await squiggly.first().boundingBox();
    assert(target && Math.abs(mark.y - target.box.y) < 3, `marker at y=${mark.y}, the nope line at y=${target?.box.y}`);
    await page.screenshot({ path: join(shots, "python-error.png") });

    // Put the saved line back (same text as the file: nothing left to save when the editor blurs).
    await replaceLine("sales.filter", FILTER_LINE.trim());
    eq(await cellText(), SAVED.trimEnd(), "editor text restored");
    await page.getByTestId(`cell-dirty-${TASK}`).waitFor({ state: "detached" });
    eq(read(`${TASK}.py`).trimEnd(), SAVED.trimEnd(), `${TASK}.py unchanged`);
  });

  await check("python: a Python task dropped from the palette gets <id>.py with the template reading its upstream, and runs", async () => {
    await page.getByTestId("view-canvas").click();
    await node(TASK).waitFor();
    await waitCanvasIdle(page);
    const pane = page.locator('[data-testid="dag-canvas"] .react-flow__pane');
    const box = await pane.boundingBox();
    await page.getByTestId("palette-python").dragTo(pane, { targetPosition: { x: box.width * 0.55, y: box.height - 60 } });
    const id = page.getByTestId("new-task-id");
    await id.waitFor();
    eq(await id.inputValue(), "python_1", "suggested id");
    await page.getByTestId("new-task-input").selectOption(TASK);
    await id.fill(NEW);
    await id.press("Enter");
    await node(NEW).waitFor();
    await waitCanvasIdle(page);
    assert(existsSync(join(dir, `${NEW}.py`)), `${NEW}.py written`);
    eq(read(`${NEW}.py`).trimEnd(), TEMPLATE.trimEnd(), `${NEW}.py`);
    const toml = read("pipeline.toml");
    assert(toml.includes(`id = "${NEW}"`) && toml.includes(`file = "${NEW}.py"`), `pipeline.toml:\n${toml}`);
    assert(toml.includes("# Polars in by_region.py"), "comments kept");
    const spec = await api(`/api/pipelines/${NAME}`);
    const task = spec.tasks.find((t) => t.id === NEW);
    assert(task?.kind === "python" && task.upstream.includes(TASK), `new task: ${JSON.stringify(task)}`);
    await page.getByTestId(`rf__edge-${TASK}->${NEW}`).waitFor();

    const detail = await runFromUi();
    const tr = detail.tasks.find((t) => t.task_id === NEW);
    assert(tr?.status === "success" && tr.rows === filtered.length, `${NEW} in the run: ${JSON.stringify(tr)}`);
    await page.waitForFunction((n) => document.querySelector(`[data-testid="node-${n}"]`)?.getAttribute("data-state") === "success", NEW);
    await node(NEW).click();
    await page.getByTestId("output-grid").waitFor();
    await page.waitForFunction((n) => document.querySelector('[data-testid="output-total"]')?.getAttribute("data-total") === String(n), filtered.length);
    eq(await gridRows(page, "output-grid"), filtered, `${NEW} output (by_region's rows)`);
    await page.screenshot({ path: join(shots, "python-canvas.png") });
  });

  await check("python: a broken schema contract is listed next to the output and under the cell", async () => {
    // Declared on disk (as in an editor): region_share promises a column it does not make. Its
    // code changes too: a cached output is not checked against a contract declared after it.
    writeFileSync(join(dir, `${NEW}.py`), `${TEMPLATE}# share: to do\n`);
    const toml = read("pipeline.toml");
    assert(toml.includes(`file = "${NEW}.py"\n`), `pipeline.toml:\n${toml}`);
    writeFileSync(join(dir, "pipeline.toml"), toml.replace(`file = "${NEW}.py"\n`, `file = "${NEW}.py"\nschema = { region = "str not null", share = "f64 not null" }\n`));
    await until(async () => (await api(`/api/pipelines/${NAME}`)).tasks.find((t) => t.id === NEW)?.schema, "the runner reads the new schema");
    const spec = await api(`/api/pipelines/${NAME}`);
    eq(spec.tasks.find((t) => t.id === NEW)?.schema?.columns.map((c) => c.name), ["region", "share"], "declared columns");
    const detail = await runFromUi("failed");
    const tr = detail.tasks.find((t) => t.task_id === NEW);
    assert(tr?.status === "failed" && tr.error.startsWith(`schema contract of task '${NEW}' failed:`), `${NEW}: ${JSON.stringify(tr)}`);
    await node(NEW).click();
    const button = page.getByTestId("output-contract");
    await page.waitForFunction(() => document.querySelector('[data-testid="output-contract"]')?.getAttribute("data-failed") === "true");
    await button.click();
    const violations = await page.getByTestId(`contract-violations-${NEW}`).locator("li").allTextContents();
    assert(violations.some((v) => v.includes("`share` is missing")), `violations: ${JSON.stringify(violations)}`);
    await page.screenshot({ path: join(shots, "python-contract.png") });
    await button.click();
    await page.getByTestId("view-notebook").click();
    await page.getByTestId(`cell-${NEW}`).scrollIntoViewIfNeeded();
    await page.getByTestId(`contract-violations-${NEW}`).waitFor();
    await page.getByTestId(`contract-col-${NEW}-share`).waitFor();
  });

  await check("python: an exception marks its line in the failure view and in the cell", async () => {
    const broken = 'import polars as pl\n\n\ndef run(sales, params):\n    limits = {}\n    return sales.filter(pl.col("amount") > limits["min"])\n';
    writeFileSync(join(dir, `${TASK}.py`), broken);
    await until(async () => (await api(`/api/pipelines/${NAME}`)).tasks.find((t) => t.id === TASK)?.settings.code.includes("limits"), "the runner reads the new code");
    const detail = await runFromUi("failed");
    const tr = detail.tasks.find((t) => t.task_id === TASK);
    assert(tr?.status === "failed" && /KeyError: 'min'/.test(tr.error), `${TASK}: ${JSON.stringify(tr)}`);
    eq(tr.error_location?.line, 6, "error_location line");
    // The notebook cell underlines line 6 (the run's failure, the code unchanged since).
    await page.getByTestId("view-notebook").click();
    const cell = page.getByTestId(`cell-${TASK}`);
    await cell.scrollIntoViewIfNeeded();
    const squiggly = editor.locator(".squiggly-error");
    await squiggly.first().waitFor();
    const mark = await squiggly.first().boundingBox();
    const line = await editor.locator(".view-line", { hasText: 'limits["min"]' }).boundingBox();
    assert(Math.abs(mark.y - line.y) < 3, `marker at y=${mark.y}, line 6 at y=${line.y}`);
    // The failure view (Log tab) shows the code with line 6 marked.
    await page.getByTestId("view-canvas").click();
    await node(TASK).click();
    await page.getByTestId("tab-log").click();
    await page.getByTestId("failed-task").waitFor();
    eq(await page.getByTestId("sql-error-line").getAttribute("data-line"), "6", "marked line");
    assert((await page.getByTestId("failed-location").textContent()).includes("line 6"), "location text");
    await page.screenshot({ path: join(shots, "python-failed.png") });
  });
}
