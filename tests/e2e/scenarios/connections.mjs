// Connections: the S3 connection `lake` is added in the Connections view (the key id as a
// ${env:…} reference, the secret key typed as a value), which then only says the secret is "set":
// the value is in no page HTML, no API answer and not in connections.toml. Test says ok; a
// wrong secret is refused by the server, the right one restored; an edit that leaves the secret
// empty keeps it. The ClickHouse connection `olap` is added the same way (its password typed) and
// Test logs in. Then examples/lakehouse (its sources and gold sink in s3://polder through `lake`,
// its dashboard table in ClickHouse through `olap`; its first tasks land the shipped day files in
// the bucket) runs from the UI, and ClickHouse holds the gold rows.
// Needs the test S3 server and ClickHouse (scripts/s3-server.sh, scripts/ch-server.sh;
// scripts/test.sh starts them and exports these): POLDER_TEST_S3_ENDPOINT, POLDER_TEST_S3_REGION,
// POLDER_TEST_S3_KEY_ID, POLDER_TEST_S3_SECRET, POLDER_TEST_CH_URL, POLDER_TEST_CH_USER,
// POLDER_TEST_CH_PASSWORD. The runner gets the key id through its environment (main.mjs passes
// process.env on).
import { cpSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { assert, eq } from "../lib/ui.mjs";

const PIPELINE = "lakehouse";
const CONN = "lake";
const OLAP = "olap";
const ENV = [
  "POLDER_TEST_S3_ENDPOINT",
  "POLDER_TEST_S3_REGION",
  "POLDER_TEST_S3_KEY_ID",
  "POLDER_TEST_S3_SECRET",
  "POLDER_TEST_CH_URL",
  "POLDER_TEST_CH_USER",
  "POLDER_TEST_CH_PASSWORD",
];
// The dashboard table the example loads; renamed in the copy so the engine's tests never meet it.
const TABLE = "e2e_lakehouse_daily";
const WRONG = "e2e-wrong-secret-7f3a91";

export function setup({ root, ws }) {
  const src = join(root, "examples", PIPELINE);
  if (!existsSync(src)) return; // run() fails with the reason
  // data/ holds the day files the example lands in the bucket: copied; local outputs and state are not.
  cpSync(src, join(ws, PIPELINE), { recursive: true, filter: (p) => !/\/(out|\.polder)(\/|$)/.test(p.slice(src.length)) });
  const spec = join(ws, PIPELINE, "pipeline.toml");
  writeFileSync(spec, readFileSync(spec, "utf8").replace('table = "daily_revenue"', `table = "${TABLE}"`));
}

/** Runs a query on the test ClickHouse over HTTP; its rows as tab-separated lines. */
async function clickhouse(env, sql) {
  const auth = Buffer.from(`${env.POLDER_TEST_CH_USER}:${env.POLDER_TEST_CH_PASSWORD}`).toString("base64");
  const r = await fetch(`${env.POLDER_TEST_CH_URL}/?query=${encodeURIComponent(`${sql} FORMAT TabSeparatedRaw`)}`, {
    method: "POST",
    headers: { Authorization: `Basic ${auth}` },
  });
  const text = await r.text();
  if (!r.ok) throw new Error(`ClickHouse: ${sql}: ${text}`);
  return text.trim();
}

export async function run({ root, ws, api, check, shots, withOwnPage, login }) {
  const missing = ENV.filter((v) => !process.env[v]);
  if (missing.length || !existsSync(join(root, "examples", PIPELINE))) {
    await check("connections: the test S3 server, ClickHouse and examples/lakehouse are there", async () => {
      if (missing.length) {
        throw new Error(
          `${missing.join(", ")} not set: run the suite with scripts/test.sh, or start the servers with eval "$(scripts/s3-server.sh start && scripts/s3-server.sh env)" and the same for scripts/ch-server.sh`,
        );
      }
      throw new Error(`examples/${PIPELINE} is missing`);
    });
    return;
  }
  const env = Object.fromEntries(ENV.map((v) => [v, process.env[v]]));
  await withOwnPage((page) => steps(page, { ws, api, check, shots, login, env }), 60_000);
}

/** Collects the bodies of the page's /api/ answers (event streams aside: they do not end). */
function watchAnswers(page) {
  const bodies = [];
  const pending = [];
  page.on("response", (r) => {
    if (!new URL(r.url()).pathname.startsWith("/api/")) return;
    if ((r.headers()["content-type"] || "").includes("text/event-stream")) return;
    pending.push(
      r.body().then(
        (b) => bodies.push({ what: `${r.request().method()} ${r.url()} → ${r.status()}`, body: b }),
        // No body to read (204, a redirect, a page gone): nothing that could hold the secret.
        () => {},
      ),
    );
  });
  return {
    /** Every /api/ answer so far, once its body is read. */
    all: async () => {
      await Promise.all(pending);
      return bodies;
    },
  };
}

async function steps(page, { ws, api, check, shots, login, env }) {
  const answers = watchAnswers(page);
  const secret = env.POLDER_TEST_S3_SECRET;
  const form = page.getByTestId("connection-form");
  const field = (key) => page.getByTestId(`connection-field-${key}`);

  /** The secret values are in no API answer the page got, not in its HTML and not in the file. */
  const noLeak = async () => {
    const seen = await answers.all();
    assert(seen.length > 0, "no /api/ answer was seen");
    for (const value of [secret, WRONG, env.POLDER_TEST_CH_PASSWORD]) {
      for (const a of seen) assert(!a.body.includes(value), `an API answer holds a secret value: ${a.what}`);
      assert(!(await page.content()).includes(value), "the page's HTML holds a secret value");
      const file = join(ws, "connections.toml");
      if (existsSync(file)) assert(!readFileSync(file, "utf8").includes(value), "connections.toml holds a secret value");
    }
  };

  /** Saves the open form; fails with the form's message when the runner refuses it. */
  const save = async (name = CONN) => {
    await page.getByTestId("connection-save").click();
    await page.waitForFunction(
      () => !document.querySelector('[data-testid="connection-form"]') || document.querySelector('[data-testid="connection-form-error"]'),
    );
    const err = page.getByTestId("connection-form-error");
    if (await err.count()) throw new Error(`save refused: ${await err.textContent()}`);
    await page.getByTestId(`connection-row-${name}`).waitFor();
  };

  /** Clicks Test and returns the one-line result once it is there. */
  const test = async (name = CONN) => {
    await page.getByTestId(`connection-test-${name}`).click();
    const done = page.locator(`[data-testid="connection-test-result-${name}"][data-state="done"]`);
    await done.waitFor({ timeout: 60_000 });
    return { text: (await done.textContent()).trim(), ok: await done.getAttribute("data-ok") };
  };

  const edit = async () => {
    await page.getByTestId(`connection-edit-${CONN}`).click();
    await form.waitFor();
    assert((await field("name").count()) === 0, "the name of an existing connection is editable");
    eq(await field("secret_access_key").getAttribute("placeholder"), "unchanged", "placeholder of a secret that is set");
    eq(await field("secret_access_key").inputValue(), "", "the secret field of an existing connection");
  };

  await check("connections: the view opens from the top bar and with Ctrl+Shift+K, and offers to add one", async () => {
    await login(page);
    await page.getByTestId("connections-button").click();
    await page.getByTestId("connections-view").waitFor();
    await page.keyboard.press("Escape");
    await page.getByTestId("connections-view").waitFor({ state: "detached" });
    await page.keyboard.press("Control+Shift+K");
    await page.getByTestId("connections-view").waitFor();
    await page.getByTestId("connection-add").waitFor();
  });

  await check("connections: a bad name is refused in the form", async () => {
    await page.getByTestId("connection-add").click();
    await form.waitFor();
    await field("name").fill("my lake");
    await page.getByTestId("connection-save").click();
    const err = page.getByTestId("connection-form-error");
    await err.waitFor();
    const text = await err.textContent();
    assert(text.includes("letters, digits, _ and -"), text);
  });

  await check("connections: lake is added with a referenced key id and a typed secret, shown only as set", async () => {
    await field("name").fill(CONN);
    // Typing clears the earlier message, so a message after Save is this save's.
    await page.getByTestId("connection-form-error").waitFor({ state: "detached" });
    eq(await field("type").inputValue(), "s3", "type");
    await field("endpoint").fill(env.POLDER_TEST_S3_ENDPOINT);
    await field("region").fill(env.POLDER_TEST_S3_REGION);
    await field("bucket").fill("polder");
    await field("path_style").check();
    await page.getByTestId("connection-ref-access_key_id").check();
    await field("access_key_id").fill("${env:POLDER_TEST_S3_KEY_ID}");
    eq(await field("secret_access_key").getAttribute("type"), "password", "the secret's input type");
    await field("secret_access_key").fill(secret);
    await page.screenshot({ path: join(shots, "connections-form.png") });
    await save();
    eq((await page.getByTestId(`connection-secret-${CONN}-secret_access_key`).textContent()).trim(), "set", "secret_access_key");
    eq((await page.getByTestId(`connection-secret-${CONN}-access_key_id`).textContent()).trim(), "set", "access_key_id");
    eq((await page.getByTestId(`connection-status-${CONN}`).textContent()).trim(), "ok", "status");
    const row = await page.getByTestId(`connection-row-${CONN}`).textContent();
    assert(row.includes(env.POLDER_TEST_S3_ENDPOINT), `the row lacks the endpoint: ${row}`);
    // As the runner keeps it: the key id a reference, the secret one in its store.
    const listed = await api("/api/connections");
    const lake = listed.connections.find((c) => c.name === CONN);
    assert(lake, JSON.stringify(listed));
    const s = Object.fromEntries(lake.settings.map((x) => [x.key, x]));
    eq(s.endpoint.value, env.POLDER_TEST_S3_ENDPOINT, "endpoint");
    eq(s.bucket.value, "polder", "bucket");
    eq(s.path_style.value, "true", "path_style");
    eq(s.access_key_id.reference, "${env:POLDER_TEST_S3_KEY_ID}", "access_key_id");
    eq(s.secret_access_key.reference, `\${secret:${CONN}-secret_access_key}`, "secret_access_key");
    assert(listed.secrets.includes(`${CONN}-secret_access_key`), `secrets: ${listed.secrets}`);
    await noLeak();
    await page.screenshot({ path: join(shots, "connections.png") });
  });

  await check("connections: Test reaches the bucket with the credentials", async () => {
    const r = await test();
    assert(r.text.startsWith("ok"), r.text);
    eq(r.ok, "true", "data-ok");
  });

  await check("connections: a wrong secret is refused by the server", async () => {
    await edit();
    await field("secret_access_key").fill(WRONG);
    await save();
    const r = await test();
    assert(r.text.includes("refused the credentials"), r.text);
    eq(r.ok, "false", "data-ok");
    await page.screenshot({ path: join(shots, "connections-refused.png") });
  });

  await check("connections: the right secret restored; an edit that leaves it empty keeps it", async () => {
    await edit();
    await field("secret_access_key").fill(secret);
    await save();
    let r = await test();
    assert(r.text.startsWith("ok"), `after restoring: ${r.text}`);
    await edit();
    await field("region").fill(env.POLDER_TEST_S3_REGION);
    await save();
    eq((await page.getByTestId(`connection-secret-${CONN}-secret_access_key`).textContent()).trim(), "set", "secret_access_key after an edit");
    r = await test();
    assert(r.text.startsWith("ok"), `after an edit without the secret: ${r.text}`);
    await noLeak();
  });

  await check("connections: olap (ClickHouse) is added with a typed password, and Test logs in", async () => {
    await page.getByTestId("connection-add").click();
    await form.waitFor();
    await field("name").fill(OLAP);
    await field("type").selectOption("clickhouse");
    await field("url").fill(env.POLDER_TEST_CH_URL);
    await field("user").fill(env.POLDER_TEST_CH_USER);
    eq(await field("password").getAttribute("type"), "password", "the password's input type");
    await field("password").fill(env.POLDER_TEST_CH_PASSWORD);
    await save(OLAP);
    eq((await page.getByTestId(`connection-secret-${OLAP}-password`).textContent()).trim(), "set", "password");
    const r = await test(OLAP);
    assert(r.text.startsWith(`ok: ${OLAP} at ${env.POLDER_TEST_CH_URL} answers (ClickHouse`), r.text);
    assert(r.text.includes(`accepts user '${env.POLDER_TEST_CH_USER}'`), r.text);
    await noLeak();
  });

  await check("connections: the lakehouse example runs through lake and olap, writes gold and fills the dashboard table", async () => {
    await page.getByTestId("connections-close").click();
    await page.getByTestId("connections-view").waitFor({ state: "detached" });
    await page.getByTestId(`pipeline-${PIPELINE}`).click();
    await page.waitForFunction((n) => document.querySelector(".toolbar .title")?.textContent === n, PIPELINE);
    // No run yet: the run view shown next is this one's (not the previously selected pipeline's).
    await page.getByTestId("runs-empty").waitFor();
    await page.getByTestId("run-pipeline").click();
    const h = await page.waitForFunction(
      () => {
        const el = document.querySelector('[data-testid="run-detail"]');
        const st = el?.getAttribute("data-status");
        return st && st !== "running" ? [Number(el.getAttribute("data-run")), st] : null;
      },
      null,
      { timeout: 180_000 },
    );
    const [id, status] = await h.jsonValue();
    const d = await api(`/api/runs/${id}`);
    eq(d.run.pipeline, PIPELINE, `pipeline of run ${id}`);
    if (status !== "success" || d.run.status !== "success") {
      const failed = d.tasks.filter((t) => t.error).map((t) => `${t.task_id}: ${t.error}`);
      throw new Error(`run ${id} ${d.run.status}: ${d.run.error ?? ""}\n${failed.join("\n")}`);
    }
    const gold = d.tasks.find((t) => t.task_id === "gold");
    assert(gold && gold.status === "success", `gold: ${JSON.stringify(gold)}`);
    eq(await page.getByTestId("runtask-gold").getAttribute("data-state"), "success", "gold in the run view");
    eq(await page.getByTestId("runtask-dashboard").getAttribute("data-state"), "success", "dashboard in the run view");
    // ClickHouse holds gold's rows: count, sums and the first row, as the run's own output says.
    const daily = await api(`/api/runs/${id}/tasks/daily/output?limit=1000`);
    const rows = daily.rows;
    eq(rows.length, daily.total_rows, "daily rows on one page");
    assert(rows.length > 0, "daily is empty");
    const sum = (k) => rows.reduce((a, r) => a + Number(r[k]), 0);
    const [count, events, users, revenue] = (
      await clickhouse(env, `SELECT count(), sum(events), sum(users), round(sum(revenue), 2) FROM ${TABLE}`)
    ).split("\t");
    eq(Number(count), rows.length, "rows in ClickHouse");
    eq(Number(events), sum("events"), "events in ClickHouse");
    eq(Number(users), sum("users"), "users in ClickHouse");
    assert(Math.abs(Number(revenue) - sum("revenue")) < 0.005, `revenue in ClickHouse ${revenue} vs ${sum("revenue")}`);
    const first = [...rows].sort((a, b) => `${a.day}${a.country}`.localeCompare(`${b.day}${b.country}`))[0];
    eq(
      await clickhouse(env, `SELECT toString(day), country, events FROM ${TABLE} ORDER BY day, country LIMIT 1`),
      `${first.day}\t${first.country}\t${first.events}`,
      "the first row in ClickHouse",
    );
    await page.screenshot({ path: join(shots, "lakehouse-run.png") });
    await noLeak();
  });
}
