// The output grid over a 10,000,000-row output: scroll to the last row and read it, sort on the
// server from the header, filter to 10 rows, copy cells as TSV, export the view as CSV; both themes.
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const ROWS = 10_000_000;
const PIPE = "big";

export function setup({ ws, polder }) {
  const dir = join(ws, PIPE);
  mkdirSync(dir, { recursive: true });
  // id, tripled, label as the check reads them; day and ratio exercise date and NULL display.
  const sql =
    "SELECT range AS id, range * 3 AS tripled, 'row ' || range AS label, " +
    "DATE '2020-01-01' + CAST(range % 1000 AS INTEGER) AS day, " +
    "CASE WHEN range % 7 = 0 THEN NULL ELSE range / 8 END AS ratio " +
    `FROM range(${ROWS})`;
  writeFileSync(
    join(dir, "pipeline.toml"),
    `[pipeline]\nname = "${PIPE}"\n\n[[task]]\nid = "numbers"\nkind = "sql"\nengine = "duckdb"\nsql = "${sql}"\n`,
  );
  polder("--workspace", ws, "run", dir);
}

/** The grid canvas' box and glide's fixed geometry (row marker width as OutputGrid sets it). */
async function geometry(page) {
  const box = await page.getByTestId("output-grid").locator("canvas[data-testid=data-grid-canvas]").boundingBox();
  const marker = 14 + String(ROWS).length * 7;
  return { box, marker, header: 42, row: 24 };
}

const status = (page) => page.getByTestId("grid-cell-value");

async function waitStatus(page, text) {
  await page.waitForFunction(
    (t) => document.querySelector('[data-testid="grid-cell-value"]')?.textContent === t,
    text,
    { timeout: 20_000 },
  ).catch(async () => {
    throw new Error(`status line shows "${await status(page).textContent()}", expected "${text}"`);
  });
}

async function waitTotal(page, n) {
  await page.waitForFunction(
    (n) => document.querySelector('[data-testid="output-total"]')?.getAttribute("data-total") === String(n),
    n,
    { timeout: 60_000 },
  );
}

export async function run({ page, check, login, shots, api }) {
  await check("grid: the 10M-row output opens with its row count and header stats", async () => {
    // Exports fall back to a download, which Playwright can catch (a native save picker cannot be driven).
    await page.addInitScript(() => {
      delete window.showSaveFilePicker;
    });
    await page.context().grantPermissions(["clipboard-read", "clipboard-write"]);
    await login();
    await page.getByTestId(`pipeline-${PIPE}`).click();
    await page.getByTestId("node-numbers").click();
    await page.getByTestId("output-grid").waitFor();
    await waitTotal(page, ROWS);
    const text = await page.getByTestId("output-total").textContent();
    if (text !== "10,000,000 rows") throw new Error(`total reads "${text}"`);
    // Stats arrive after the first page; the header is canvas, so check the route answers what the grid asked.
    const stats = await api(`/api/pipelines/${PIPE}/tasks/numbers/stats`);
    const id = stats.find((c) => c.name === "id");
    if (id.max !== "9999999" || id.null_count !== 0) throw new Error(`stats of id: ${JSON.stringify(id)}`);
    await page.waitForTimeout(300);
    await page.screenshot({ path: join(shots, "grid-10m-top.png") });
  });

  await check("grid: scrolling to the end and Ctrl+End read the last row's values", async () => {
    const g = await geometry(page);
    // Real scrolling of glide's scroller: a jump to the bottom, then wheel steps.
    await page.evaluate(() => {
      const s = document.querySelector('[data-testid="output-grid"] .dvn-scroller');
      s.scrollTop = s.scrollHeight;
    });
    await page.mouse.move(g.box.x + g.box.width / 2, g.box.y + g.box.height / 2);
    for (let i = 0; i < 5; i++) await page.mouse.wheel(0, 400);
    // glide's accessibility table mirrors the visible cells: the last row must be among them.
    await page.waitForFunction(
      (last) => {
        const td = document.querySelector(`[data-testid="output-grid"] #glide-cell-1-${last}`);
        return td && td.textContent === String(last);
      },
      ROWS - 1,
      { timeout: 20_000 },
    );
    // Select a visible cell, then Ctrl+End (last row, last column) and walk left to id.
    await page.mouse.click(g.box.x + g.marker + 20, g.box.y + g.header + g.row * 2 + 12);
    // The selection is React state: let it land before the next key reads it.
    await page.waitForFunction(() => /^row [0-9,]+ · id = /.test(document.querySelector('[data-testid="grid-cell-value"]')?.textContent ?? ""));
    await page.keyboard.press("Control+End");
    await page.waitForFunction(() => /^row 10,000,000 · /.test(document.querySelector('[data-testid="grid-cell-value"]')?.textContent ?? ""));
    for (let i = 0; i < 4; i++) await page.keyboard.press("ArrowLeft");
    await waitStatus(page, "row 10,000,000 · id = 9999999");
    await page.keyboard.press("ArrowRight");
    await waitStatus(page, "row 10,000,000 · tripled = 29999997");
    await page.screenshot({ path: join(shots, "grid-10m-last-row.png") });
  });

  await check("grid: sorting id descending from the header puts 9999999 first", async () => {
    const g = await geometry(page);
    const hx = g.box.x + g.marker + 20;
    const hy = g.box.y + 14;
    await page.mouse.click(hx, hy); // asc
    await page.waitForFunction(() => document.querySelector('[data-testid="output-grid"]')?.dataset.sort === "id:asc");
    await page.mouse.click(hx, hy); // desc
    await page.waitForFunction(() => document.querySelector('[data-testid="output-grid"]')?.dataset.sort === "id:desc");
    await waitTotal(page, ROWS);
    await page.mouse.click(g.box.x + g.marker + 20, g.box.y + g.header + 12); // row 1, id
    await waitStatus(page, "row 1 · id = 9999999");
    await page.keyboard.press("ArrowDown");
    await waitStatus(page, "row 2 · id = 9999998");
    await page.screenshot({ path: join(shots, "grid-10m-sorted.png") });
  });

  await check("grid: copying a whole 10M-row column is refused with a reason", async () => {
    const g = await geometry(page);
    await page.keyboard.down("Control");
    await page.mouse.click(g.box.x + g.marker + 20, g.box.y + 14); // Ctrl+click: select the column, no sort
    await page.keyboard.up("Control");
    await page.keyboard.press("Control+c");
    await page.getByTestId("grid-notice").filter({ hasText: "Selection too big to copy: 10,000,000 cells" }).waitFor();
    const sort = await page.getByTestId("output-grid").getAttribute("data-sort");
    if (sort !== "id:desc") throw new Error(`Ctrl+click changed the sort to ${sort}`);
  });

  await check("grid: filter id < 10 shows 10 of 10,000,000 rows", async () => {
    await page.getByTestId("grid-filter-add").click();
    await page.getByTestId("grid-filter-column").selectOption("id");
    await page.getByTestId("grid-filter-op").selectOption("lt");
    await page.getByTestId("grid-filter-value").fill("10");
    await page.getByTestId("grid-filter-apply").click();
    await waitTotal(page, 10);
    const text = await page.getByTestId("output-total").textContent();
    if (text !== "10 of 10,000,000 rows") throw new Error(`total reads "${text}"`);
    await page.getByTestId("grid-filter-chip-0").waitFor();
  });

  await check("grid: Ctrl+C copies the selected cells as TSV", async () => {
    const g = await geometry(page);
    // Rows 1-3 of columns id..label (sorted desc: 9, 8, 7); shift-click extends the selection.
    await page.mouse.click(g.box.x + g.marker + 20, g.box.y + g.header + 12);
    await waitStatus(page, "row 1 · id = 9");
    await page.keyboard.press("Shift+ArrowDown");
    await page.keyboard.press("Shift+ArrowDown");
    await page.keyboard.press("Shift+ArrowRight");
    await page.keyboard.press("Shift+ArrowRight");
    await page.keyboard.press("Control+c");
    await page.getByTestId("grid-notice").filter({ hasText: "Copied 9 cells" }).waitFor();
    const clip = await page.evaluate(() => navigator.clipboard.readText());
    const want = "9\t27\trow 9\n8\t24\trow 8\n7\t21\trow 7";
    if (clip !== want) throw new Error(`clipboard: ${JSON.stringify(clip)}`);
  });

  await check("grid: export the filtered, sorted view as CSV", async () => {
    const [download] = await Promise.all([
      page.waitForEvent("download", { timeout: 30_000 }),
      (async () => {
        await page.getByTestId("grid-export").click();
        await page.getByTestId("grid-export-csv").click();
      })(),
    ]);
    const csv = readFileSync(await download.path(), "utf8").trim().split("\n");
    if (csv.length !== 11) throw new Error(`export has ${csv.length} lines: ${csv.slice(0, 3).join(" | ")}`);
    if (!csv[0].startsWith("id,tripled,label")) throw new Error(`header: ${csv[0]}`);
    if (!csv[1].startsWith("9,27,row 9")) throw new Error(`first row: ${csv[1]}`);
    await page.screenshot({ path: join(shots, "grid-10m-filtered.png") });
  });

  await check("grid: dark theme repaints the grid", async () => {
    // theme-toggle cycles system → light → dark: click until dark.
    for (let i = 0; i < 3; i++) {
      if ((await page.evaluate(() => document.documentElement.dataset.theme)) === "dark") break;
      await page.getByTestId("theme-toggle").click();
    }
    const theme = await page.evaluate(() => document.documentElement.dataset.theme);
    if (theme !== "dark") throw new Error(`theme is ${theme}`);
    // Remove the filter: the full 10M view again, sorted desc.
    await page.getByTestId("grid-filter-chip-0").getByRole("button").click();
    await waitTotal(page, ROWS);
    await page.waitForTimeout(300);
    await page.screenshot({ path: join(shots, "grid-10m-dark.png") });
    for (let i = 0; i < 3; i++) {
      if ((await page.evaluate(() => document.documentElement.dataset.theme)) !== "dark") break;
      await page.getByTestId("theme-toggle").click();
    }
  });
}
