// Helpers shared by the e2e scenarios: assertions, waiting, real mouse drags on the canvas,
// typing into Monaco, and reading glide's accessibility table. Each one is proven by the
// scenario it came from (40-canvas for the canvas, 20-notebook for Monaco and the grid).

export function assert(cond, msg) {
  if (!cond) throw new Error(msg);
}

export const eq = (a, b, what) => assert(JSON.stringify(a) === JSON.stringify(b), `${what}: got ${JSON.stringify(a)}, expected ${JSON.stringify(b)}`);

/** Polls `fn` (sync or async) until it gives a truthy value, which it returns. */
export async function until(fn, what, ms = 10_000) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The comments of a TOML text (from each line's `#` on). */
export const tomlComments = (text) => text.split("\n").filter((l) => l.includes("#")).map((l) => l.slice(l.indexOf("#")));

export const center = async (loc) => {
  const b = await loc.boundingBox();
  assert(b, "element not visible");
  return { x: b.x + b.width / 2, y: b.y + b.height / 2 };
};

/** Drags between two elements with real mouse moves (xyflow follows pointer events). */
export async function mouseDrag(page, from, to) {
  const a = await center(from);
  const b = await center(to);
  await page.mouse.move(a.x, a.y);
  await page.mouse.down();
  await page.mouse.move((a.x + b.x) / 2, (a.y + b.y) / 2, { steps: 8 });
  await page.mouse.move(b.x, b.y, { steps: 8 });
  await page.mouse.up();
}

/** Waits until the canvas has no edit in flight (its files are written). */
export async function waitCanvasIdle(page) {
  await page.waitForFunction(() => document.querySelector('[data-testid="dag-canvas"]')?.getAttribute("data-busy") === "false");
}

/** Text of the grid's cells, row by row, from glide's accessibility table (once it has rows). */
export async function gridRows(page, testId) {
  await page.waitForFunction((id) => document.querySelector(`[data-testid="${id}"] tbody tr[role="row"] td`), testId);
  return page.$$eval(`[data-testid="${testId}"] tbody tr[role="row"]`, (trs) =>
    trs.map((tr) => [...tr.querySelectorAll('td[role="gridcell"]')].map((td) => td.textContent)),
  );
}

/** Column names of a grid, from its accessibility table's header. */
export const gridColumns = (page, testId) => page.$$eval(`[data-testid="${testId}"] thead th`, (ths) => ths.map((t) => t.textContent));

/** Types into the focused Monaco editor line by line, closing the suggestion list before each Enter. */
export async function typeLines(page, lines) {
  for (let i = 0; i < lines.length; i++) {
    if (i > 0) {
      await page.keyboard.press("Escape");
      await page.keyboard.press("Enter");
      // Monaco keeps the previous line's indentation: start each line at column 1.
      await page.keyboard.press("Shift+Home");
      await page.keyboard.press("Delete");
    }
    await page.keyboard.type(lines[i], { delay: 15 });
  }
  await page.keyboard.press("Escape");
}

/** Focuses a notebook cell's editor and empties it. */
export async function clearEditor(page, task) {
  await page.locator(`[data-testid="cell-editor-${task}"] .view-lines`).click();
  await page.keyboard.press("Control+A");
  await page.keyboard.press("Delete");
}

/** A cell editor's visible text (Monaco renders spaces as U+00A0). */
export async function editorText(page, task) {
  return (await page.locator(`[data-testid="cell-editor-${task}"] .view-lines`).innerText()).replace(/\u00a0/g, " ");
}

/**
 * Types `prefix` in the focused editor, waits for Monaco's suggestion list to focus `label`,
 * and accepts it with Enter; returns the labels that were on offer. `whileShown` (optional) runs
 * with the list open, e.g. for a screenshot.
 */
export async function acceptSuggestion(page, prefix, label, whileShown) {
  await page.keyboard.type(prefix, { delay: 40 });
  const suggest = page.locator(".suggest-widget.visible");
  await suggest.waitFor();
  await page.waitForFunction((l) => document.querySelector(".suggest-widget.visible .monaco-list-row.focused .label-name")?.textContent === l, label);
  const offered = await suggest.locator(".monaco-list-row .label-name").allTextContents();
  if (whileShown) await whileShown();
  await page.keyboard.press("Enter");
  await suggest.waitFor({ state: "hidden" });
  return offered;
}

/** Opens the UI, signing in unless an earlier scenario already did on this page. */
export async function openUi(page, base, login) {
  await page.goto(base);
  const form = page.getByTestId("login-token");
  await page.locator('[data-testid="login-token"], [data-testid^="pipeline-"]').first().waitFor();
  if (await form.isVisible()) await login();
}

export async function setTheme(page, want) {
  const toggle = page.getByTestId("theme-toggle");
  for (let i = 0; i < 3 && (await page.evaluate(() => document.documentElement.dataset.theme)) !== want; i++) await toggle.click();
  assert((await page.evaluate(() => document.documentElement.dataset.theme)) === want, `theme ${want}`);
}
