// Named checks for the node test harnesses (browser and desktop): each check runs, prints
// `ok`/`FAIL` with its time or error, and the summary says how many failed.

/** A check runner: `check(name, fn)` and `summary(label)`, which returns the number of failures. */
export function createChecks() {
  const results = [];
  async function check(name, fn) {
    const t0 = Date.now();
    try {
      await fn();
      results.push([name, null]);
      console.log(`ok   ${name} (${Date.now() - t0} ms)`);
    } catch (e) {
      results.push([name, e]);
      console.log(`FAIL ${name}: ${e?.stack || e}`);
    }
  }
  function summary(label) {
    const failed = results.filter(([, e]) => e).length;
    console.log(`\n${results.length - failed}/${results.length} ${label} checks passed`);
    return failed;
  }
  return { check, summary };
}
