// The notebook view on a small pipeline of its own (nb_shop: two CSV sources, a DuckDB model, a
// check; pipeline.toml full of comments): cells in run order, a new SQL cell typed with real
// keystrokes and Monaco completion, Shift+Enter preview checked against values computed from the
// CSVs, files on disk (new .sql file, comments kept), an engine error underlined on the right
// line, an invalid save refused, a source previewed from its form, markdown notes in notes.md,
// and the empty state. Light and dark screenshots.
import { mkdirSync, readFileSync, writeFileSync, existsSync } from "node:fs";
import { join } from "node:path";
import { assert, clearEditor as selectAllInEditor, eq, gridRows, openUi, setTheme, typeLines } from "../lib/ui.mjs";

const NAME = "nb_shop";
const CUSTOMERS = "customer_id,name,city\n1,Ada,Paris\n2,Bob,Lyon\n3,Cleo,Paris\n4,Dan,Nice\n";
const ORDERS = "order_id,customer_id,amount\n10,1,12.5\n11,1,7.5\n12,2,30\n13,3,4\n14,3,6\n15,3,11\n";
const TOML = `# A tiny shop: customers and their orders (notebook e2e).
[pipeline]
name = "${NAME}"   # the scenario's own pipeline
description = "Orders per customer"
engine = "duckdb"

# --- sources ---
[[task]]
id = "customers"   # who buys
kind = "source"
format = "csv"
path = "data/customers.csv"

[[task]]
id = "orders"      # what they bought
kind = "source"
format = "csv"
path = "data/orders.csv"

# --- models ---
[[task]]
id = "order_totals"
kind = "sql"
file = "models/order_totals.sql"   # joined and summed

[[task]]
id = "totals_check"
kind = "validate"
input = "order_totals"
checks = [
  { column = "customer_id", not_null = true, unique = true },   # one row per customer
]
# trailing comment: must survive every edit
`;
const ORDER_TOTALS_SQL = `-- Total spent per customer.
SELECT c.customer_id, c.name, c.city, SUM(o.amount) AS total
FROM customers AS c
JOIN orders AS o ON o.customer_id = c.customer_id
GROUP BY ALL
`;

let dir;

export function setup({ ws, polder }) {
  dir = join(ws, NAME);
  mkdirSync(join(dir, "data"), { recursive: true });
  mkdirSync(join(dir, "models"), { recursive: true });
  writeFileSync(join(dir, "pipeline.toml"), TOML);
  writeFileSync(join(dir, "data", "customers.csv"), CUSTOMERS);
  writeFileSync(join(dir, "data", "orders.csv"), ORDERS);
  writeFileSync(join(dir, "models", "order_totals.sql"), ORDER_TOTALS_SQL);
  // Cache every task's output, so previews read their upstreams from the cache.
  polder("--workspace", ws, "run", dir);
}

const read = (...p) => readFileSync(join(dir, ...p), "utf8");

/** The expected answer, computed from the CSV text: Paris customers' names and order totals. */
function parisTotals() {
  const rows = (csv) => csv.trim().split("\n").slice(1).map((l) => l.split(","));
  const sums = new Map();
  for (const [, cid, amount] of rows(ORDERS)) sums.set(cid, (sums.get(cid) ?? 0) + Number(amount));
  return rows(CUSTOMERS)
    .filter(([, , city]) => city === "Paris")
    .map(([cid, name]) => [name, String(sums.get(cid) ?? 0)])
    .sort((a, b) => a[0].localeCompare(b[0]));
}

export async function run({ page, api, check, login, shots, base }) {
  const NEW = "paris_spend";
  const cell = (id) => page.getByTestId(`cell-${id}`);
  const comments = TOML.split("\n").filter((l) => l.includes("#")).map((l) => l.slice(l.indexOf("#")));
  const commentsKept = () => {
    const text = read("pipeline.toml");
    for (const c of comments) assert(text.includes(c), `comment lost from pipeline.toml: ${c}`);
  };

  await check("notebook: cells follow the pipeline's topological order", async () => {
    await openUi(page, base, login);
    await page.getByTestId(`pipeline-${NAME}`).click();
    await page.getByTestId("view-notebook").click();
    await cell("totals_check").waitFor();
    const spec = await api(`/api/pipelines/${NAME}`);
    const shown = await page.$$eval('[data-testid="notebook"] section.nb-cell', (s) => s.map((x) => x.dataset.testid.slice(5)));
    eq(shown, spec.order, "cell order");
    // The source cell's form shows its settings; the SQL cell its file's text in Monaco.
    eq(await page.getByTestId("field-customers-path").inputValue(), "data/customers.csv", "source path field");
    await page.locator('[data-testid="cell-editor-order_totals"] .monaco-editor').waitFor();
    const text = await page.locator('[data-testid="cell-editor-order_totals"] .view-lines').innerText();
    assert(text.replace(/\u00a0/g, " ").includes("SUM(o.amount) AS total"), `editor text: ${text}`);
  });

  await check("notebook: the view choice is remembered after a reload", async () => {
    await page.reload();
    await cell("order_totals").waitFor();
    assert(await page.getByTestId("view-notebook").evaluate((b) => b.classList.contains("active")), "notebook button active");
  });

  await check("notebook: + SQL cell creates a task with its own .sql file, comments kept", async () => {
    await page.getByTestId("add-sql-order_totals").click();
    await page.getByTestId("new-cell-id").fill(NEW);
    await page.getByTestId("new-cell-id").press("Enter");
    await page.locator(`[data-testid="cell-editor-${NEW}"] .monaco-editor`).waitFor();
    const spec = await api(`/api/pipelines/${NAME}`);
    const task = spec.tasks.find((t) => t.id === NEW);
    assert(task && task.kind === "sql", `new task in the spec: ${JSON.stringify(task)}`);
    eq(task.upstream, ["order_totals"], "new cell reads the task above");
    assert(existsSync(join(dir, `${NEW}.sql`)), `${NEW}.sql written`);
    eq(read(`${NEW}.sql`).trim(), "SELECT * FROM order_totals", "new .sql file");
    assert(read("pipeline.toml").includes(`file = "${NEW}.sql"`), "pipeline.toml points at the file");
    commentsKept();
  });

  const expected = parisTotals();
  await check("notebook: typed SQL with an upstream column accepted from completion previews the expected rows", async () => {
    await selectAllInEditor(page, NEW);
    await typeLines(page, ["SELECT t.name", "FROM order_totals AS t", "WHERE t.city = 'Paris'", "ORDER BY t.name"]);
    // Back to the end of line 1, then complete `t.to` from the upstream's columns.
    await page.keyboard.press("Control+Home");
    await page.keyboard.press("End");
    await page.keyboard.type(", t.to", { delay: 40 });
    const suggest = page.locator(".suggest-widget.visible");
    await suggest.waitFor();
    const focused = suggest.locator(".monaco-list-row.focused");
    await page.waitForFunction(() => document.querySelector(".suggest-widget.visible .monaco-list-row.focused .label-name")?.textContent === "total");
    const offered = await suggest.locator(".monaco-list-row .label-name").allTextContents();
    assert(!offered.includes("order_id"), `only order_totals' columns after t.: ${offered}`);
    eq((await focused.locator(".label-name").textContent()).trim(), "total", "focused suggestion");
    await page.screenshot({ path: join(shots, "notebook-completion.png") });
    await page.keyboard.press("Enter");
    await suggest.waitFor({ state: "hidden" });
    assert(await page.getByTestId(`cell-dirty-${NEW}`).isVisible(), "unsaved dot while the text differs from the file");

    await page.keyboard.press("Shift+Enter");
    await page.locator(`[data-testid="cell-preview-${NEW}"][data-status="ok"]`).waitFor();
    const stats = await page.getByTestId(`cell-preview-stats-${NEW}`).textContent();
    assert(new RegExp(`^${expected.length} rows · \\d+ ms$`).test(stats), `stats: ${stats}`);
    eq(await gridRows(page, `cell-grid-${NEW}`), expected, "preview rows (from the CSVs)");
    eq(await page.$$eval(`[data-testid="cell-grid-${NEW}"] thead th`, (ths) => ths.map((t) => t.textContent)), ["name", "total"], "preview columns");
  });

  await check("notebook: Ctrl+S writes the SQL to the task's file and keeps pipeline.toml's comments", async () => {
    await page.keyboard.press("Control+s");
    await page.getByTestId(`cell-dirty-${NEW}`).waitFor({ state: "detached" });
    eq(read(`${NEW}.sql`).trimEnd(), "SELECT t.name, t.total\nFROM order_totals AS t\nWHERE t.city = 'Paris'\nORDER BY t.name", `${NEW}.sql`);
    commentsKept();
    await page.screenshot({ path: join(shots, "notebook.png") });
  });

  await check("notebook: an unknown column is underlined on its line, and the marker clears after a fix", async () => {
    await selectAllInEditor(page, NEW);
    await typeLines(page, ["SELECT name,", "  totl", "FROM order_totals"]);
    await page.keyboard.press("Shift+Enter");
    const error = page.getByTestId(`cell-error-${NEW}`);
    await error.waitFor();
    assert((await error.textContent()).includes("totl"), `error names the column: ${await error.textContent()}`);
    const editor = page.locator(`[data-testid="cell-editor-${NEW}"]`);
    const squiggly = editor.locator(".squiggly-error");
    await squiggly.first().waitFor();
    eq(await squiggly.count(), 1, "one error marker");
    // The marker sits on line 2 (the `totl` line) and spans the word.
    const lines = editor.locator(".view-line");
    const boxes = await Promise.all((await lines.all()).map(async (l) => ({ text: (await l.innerText()).replace(/\u00a0/g, " "), box: await l.boundingBox() })));
    const target = boxes.find((b) => b.text.trim() === "totl");
    const mark = await squiggly.first().boundingBox();
    assert(target && Math.abs(mark.y - target.box.y) < 3, `marker at y=${mark.y}, line 2 at y=${target?.box.y}`);
    const firstLine = boxes.reduce((a, b) => (b.box.y < a.box.y ? b : a));
    assert(Math.abs(mark.y - firstLine.box.y) > 10, "marker is not on line 1");
    assert(mark.width > 15, `marker spans the word (${mark.width}px)`);
    await page.screenshot({ path: join(shots, "notebook-error.png") });

    // Fix the word (select it by double-click) and preview again: the marker goes.
    await page.locator(`[data-testid="cell-editor-${NEW}"] .view-line`, { hasText: "totl" }).dblclick();
    await page.keyboard.type("total", { delay: 15 });
    await page.keyboard.press("Escape");
    await page.keyboard.press("Shift+Enter");
    await page.locator(`[data-testid="cell-preview-${NEW}"][data-status="ok"]`).waitFor();
    await squiggly.first().waitFor({ state: "detached" });
  });

  await check("notebook: an invalid save is refused with the engine's message and keeps the editor text", async () => {
    const before = read(`${NEW}.sql`);
    await selectAllInEditor(page, NEW);
    await typeLines(page, ["SELECT * FROM nowhere"]);
    await page.keyboard.press("Control+s");
    const err = page.getByTestId(`cell-save-error-${NEW}`);
    await err.waitFor();
    assert((await err.textContent()).includes("nowhere"), `save error: ${await err.textContent()}`);
    eq(read(`${NEW}.sql`), before, "file untouched");
    assert(await page.getByTestId(`cell-dirty-${NEW}`).isVisible(), "still unsaved");
    const text = (await page.locator(`[data-testid="cell-editor-${NEW}"] .view-lines`).innerText()).replace(/\u00a0/g, " ");
    assert(text.includes("SELECT * FROM nowhere"), `editor keeps the text: ${text}`);
    // Put back a valid query so the pipeline stays runnable.
    await selectAllInEditor(page, NEW);
    await typeLines(page, ["SELECT name, total FROM order_totals"]);
    await page.keyboard.press("Control+s");
    await page.getByTestId(`cell-dirty-${NEW}`).waitFor({ state: "detached" });
  });

  await check("notebook: Shift+Enter in a source cell previews its file", async () => {
    await page.getByTestId("field-customers-path").click();
    await page.keyboard.press("Shift+Enter");
    await page.locator('[data-testid="cell-preview-customers"][data-status="ok"]').waitFor();
    const stats = await page.getByTestId("cell-preview-stats-customers").textContent();
    const n = CUSTOMERS.trim().split("\n").length - 1;
    assert(stats.startsWith(`${n} rows`), `stats: ${stats}`);
    eq((await gridRows(page, "cell-grid-customers"))[0], ["1", "Ada", "Paris"], "first customer");
  });

  await check("notebook: a settings form saves with Enter through PATCH, comments kept", async () => {
    const field = page.getByTestId("field-totals_check-sample_rows");
    await field.fill("50");
    assert(await page.getByTestId("cell-dirty-totals_check").isVisible(), "unsaved dot on the form");
    await field.press("Enter");
    await page.getByTestId("cell-dirty-totals_check").waitFor({ state: "detached" });
    assert(/^sample_rows = 50$/m.test(read("pipeline.toml")), "sample_rows written");
    commentsKept();
    // A bad value is refused in the form, before the runner is asked.
    await field.fill("lots");
    await field.press("Enter");
    await page.locator('[data-testid="cell-totals_check"] .nb-field.invalid').waitFor();
    assert(/^sample_rows = 50$/m.test(read("pipeline.toml")), "file unchanged");
    await field.fill("50");
    await page.locator('[data-testid="cell-totals_check"] .nb-field.invalid').waitFor({ state: "detached" });
  });

  await check("notebook: a markdown note is rendered (raw HTML as text) and stored in notes.md", async () => {
    await page.getByTestId("add-note-order_totals").click();
    const input = page.locator('[data-testid^="note-input-"]');
    await input.waitFor();
    const id = (await input.getAttribute("data-testid")).slice("note-input-".length);
    await page.keyboard.type("## Paris customers\n\nTotals per **customer** <b>not html</b>", { delay: 5 });
    await page.keyboard.press("Shift+Enter");
    const note = page.getByTestId(`note-${id}`);
    await note.locator("strong").waitFor();
    eq(await note.locator("h2").textContent(), "Paris customers", "heading");
    eq(await note.locator("b").count(), 0, "raw HTML is not injected");
    assert((await note.textContent()).includes("<b>not html</b>"), "raw HTML shown as text");
    // notes.md in the pipeline folder holds the text; the route gives it back after order_totals.
    await page.waitForFunction(() => true);
    const deadline = Date.now() + 5000;
    while (!(existsSync(join(dir, "notes.md")) && read("notes.md").includes("Totals per **customer**")) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    assert(read("notes.md").includes("## Paris customers"), `notes.md: ${existsSync(join(dir, "notes.md")) ? read("notes.md") : "missing"}`);
    const notes = await api(`/api/pipelines/${NAME}/notes`);
    const stored = notes.notes.find((n) => n.text.includes("Paris customers"));
    assert(stored && stored.after === "order_totals", `stored note: ${JSON.stringify(notes)}`);
    commentsKept();
  });

  await check("notebook: light and dark screenshots", async () => {
    await page.getByTestId(`cell-${NEW}`).scrollIntoViewIfNeeded();
    await page.locator(`[data-testid="cell-editor-${NEW}"] .view-lines`).click();
    await page.keyboard.press("Shift+Enter");
    await page.locator(`[data-testid="cell-preview-${NEW}"][data-status="ok"]`).waitFor();
    await page.getByTestId(`cell-grid-${NEW}`).scrollIntoViewIfNeeded();
    await setTheme(page, "light");
    await page.screenshot({ path: join(shots, "notebook-light.png") });
    await setTheme(page, "dark");
    // Monaco follows the app theme.
    await page.waitForFunction(() => !!document.querySelector(".monaco-editor.vs-dark"));
    await page.screenshot({ path: join(shots, "notebook-dark.png") });
    await cell("order_totals").screenshot({ path: join(shots, "notebook-cell-dark.png") });
    await setTheme(page, "light");
  });

  await check("notebook: a pipeline without tasks says how to start", async () => {
    await api("/api/pipelines", { method: "POST", body: JSON.stringify({ name: "nb_empty" }) });
    const spec = await api("/api/pipelines/nb_empty");
    for (const t of [...spec.tasks].reverse()) await api(`/api/pipelines/nb_empty/tasks/${t.id}`, { method: "DELETE" });
    await page.reload();
    await page.getByTestId("pipeline-nb_empty").click();
    const empty = page.getByTestId("notebook-empty");
    await empty.waitFor();
    assert((await empty.textContent()).includes("SQL cell"), "empty-state text");
    await page.getByTestId("add-sql-top").waitFor();
    await page.screenshot({ path: join(shots, "notebook-empty.png") });
    // "+ Source" starts the pipeline with a source cell whose form points at data/*.csv.
    await page.getByTestId("add-source-top").click();
    await page.getByTestId("new-cell-id").fill("raw");
    await page.getByTestId("new-cell-id").press("Enter");
    await cell("raw").waitFor();
    eq(await page.getByTestId("field-raw-path").inputValue(), "data/*.csv", "new source path");
    const after = await api("/api/pipelines/nb_empty");
    eq(after.tasks.map((t) => [t.id, t.kind]), [["raw", "source"]], "nb_empty tasks");
  });

  // Later scenarios expect the canvas (the choice is remembered in localStorage).
  await page.getByTestId("view-canvas").click();
}
