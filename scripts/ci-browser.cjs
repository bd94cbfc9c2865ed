// ci-browser.cjs: the dashboard in headless Chromium, driven by
// playwright-core (scripts/ci-browser.sh starts the agent and the broker,
// and sets the environment below). Every step must pass; the first that
// does not ends the run with its reason and exit 1.
//
//   PLAYWRIGHT   path of the playwright-core module
//   URL          the agent's dashboard, e.g. http://127.0.0.1:8781/
//   HTTP_USER, HTTP_PASSWORD   its basic-auth credentials
//   JOBS         the config's job ids, space-separated
//   EVENTS       a file mosquitto_sub appends the agent's events to
//   PROFILE      a fresh directory for the browser's profile
//   SHOT         where to write a screenshot when a step fails; wide.png
//                and phone.png beside it are the page as it passed
"use strict";
const fs = require("fs");
const { chromium } = require(process.env.PLAYWRIGHT);

const env = k => {
  if (!process.env[k]) throw new Error(k + " is not set");
  return process.env[k];
};
const url = env("URL"), jobs = env("JOBS").split(/\s+/).filter(Boolean), events = env("EVENTS");
const STEP = 30000;

function log(msg) { console.log("ci-browser: " + msg); }

// executed reports whether the events file has, after offset, the
// executed event of a run of job started now, at or after since (ms): a
// run now's scheduled time is the time it was asked for, to the
// microsecond; a cron run's is on the second.
function executed(job, offset, since) {
  const text = fs.readFileSync(events, "utf8").slice(offset);
  return text.split("\n").some(line => {
    const i = line.indexOf("{");
    if (i < 0) return false;
    try {
      const e = JSON.parse(line.slice(i));
      return e.event === "executed" && e.job_id === job && /\.\d+/.test(e.scheduled_time) &&
        Date.parse(e.scheduled_time) >= since - 1000;
    } catch (err) { return false; }
  });
}

async function until(what, fn, ms = STEP) {
  const end = Date.now() + ms;
  for (;;) {
    if (await fn()) return;
    if (Date.now() > end) throw new Error("timed out after " + ms / 1000 + " s waiting for " + what);
    await new Promise(r => setTimeout(r, 200));
  }
}

(async () => {
  const args = ["--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync"];
  if (process.getuid && process.getuid() === 0) args.push("--no-sandbox");
  // launchPersistentContext is how playwright takes --user-data-dir: a
  // fresh one, so no profile, cache or cookie of another run counts.
  const ctx = await chromium.launchPersistentContext(env("PROFILE"), {
    executablePath: "/usr/bin/chromium", headless: true, args,
    httpCredentials: { username: env("HTTP_USER"), password: env("HTTP_PASSWORD") },
    viewport: { width: 1100, height: 900 },
  });
  const page = ctx.pages()[0] || await ctx.newPage();
  const problems = [];
  page.on("pageerror", e => problems.push("page error: " + e.message));
  page.on("console", m => { if (m.type() === "error") problems.push("console error: " + m.text()); });
  page.on("requestfailed", r => problems.push("request failed: " + r.url() + " " + (r.failure() || {}).errorText));
  let step = "load";
  try {
    // 1. The page loads and lists the config's jobs.
    const resp = await page.goto(url);
    if (!resp || resp.status() !== 200) throw new Error("GET " + url + ": " + (resp && resp.status()));
    await page.waitForSelector("#jobs tbody tr", { timeout: STEP });
    await until("every job of the config in the table", async () => {
      const ids = await page.$$eval("#jobs tbody tr", rows => rows.map(r => r.dataset.job));
      return jobs.every(j => ids.includes(j));
    });
    const title = await page.textContent("h1");
    log("loaded: " + title.trim() + ", jobs " + jobs.join(", "));
    await until("the device's MQTT connection", async () => /connected/.test(await page.textContent("#device")) &&
      !/disconnected/.test(await page.textContent("#device")));

    // 2. An actuator command: the fan goes on and its card says so (before
    // the demo's automation switches it, about 40 s after the start).
    step = "actuator";
    const fan = `[data-actuator="sim-fan"]`;
    await page.click(`${fan} button[name=on]`);
    await until("sim-fan ON", async () => /^ON/.test((await page.textContent(`${fan} .val`)).trim()));
    await page.click(`${fan} button[name=off]`);
    await until("sim-fan OFF", async () => /^OFF/.test((await page.textContent(`${fan} .val`)).trim()));
    // A pulse's duration typed in survives the refreshes (every 5 s).
    await page.fill(`${fan} input[aria-label="pulse duration"]`, "7s");
    await page.click("h1");
    await page.waitForTimeout(6000);
    const typed = await page.inputValue(`${fan} input[aria-label="pulse duration"]`);
    if (typed !== "7s") throw new Error("the typed pulse duration became " + JSON.stringify(typed) + " after a refresh");
    log("actuator: on and off shown, a typed duration kept");

    // 3. Run: the demo's minute job runs now; its executed event arrives
    // on MQTT, and its row shows the result. Its own runs are on the
    // minute, and a run now is timed to the microsecond: the event of this
    // run is the one whose scheduled time is not on the minute. The click
    // waits for a second between 2 and 45, so that the run's 5 s pulse is
    // not cut short by the job's own next run.
    step = "run";
    const runJob = "relay-every-minute";
    if (!jobs.includes(runJob)) throw new Error("the config has no job " + runJob);
    const row = `#jobs tr[data-job="${runJob}"]`;
    await until("a second between 8 and 45", () => { const s = new Date().getSeconds(); return s >= 8 && s <= 45; }, 70000);
    const offset = fs.statSync(events).size, clicked = Date.now();
    await page.click(`${row} button[name=run]`);
    await until("an executed event of " + runJob + " on MQTT", () => executed(runJob, offset, clicked), STEP);
    await until("the row's last result ok", async () =>
      (await page.textContent(`${row} td[data-l=Result]`)).trim() === "ok" &&
      !/—/.test(await page.textContent(`${row} td[data-l=Last]`)));
    log("run: executed event seen, row shows ok");

    // 4. Pause: a job of the config file is the file's (its pause button
    // is disabled); a job added over the REST API pauses, and its row
    // changes; resume changes it back.
    step = "pause";
    if (!(await page.isDisabled(`#jobs tr[data-job="relay-every-minute"] button[name=pause]`))) {
      throw new Error("the pause button of a config-file job is enabled");
    }
    const pauseJob = "ci-pause";
    const added = await page.evaluate(async id => {
      const r = await fetch("/scheduler/jobs", {method: "POST", headers: {"Content-Type": "application/json"},
        body: JSON.stringify({id, trigger: {type: "interval", hours: 1}, action: {type: "actuate", actuator: "sim-relay", command: "off"}})});
      return r.status + " " + await r.text();
    }, pauseJob);
    if (!/^201 /.test(added)) throw new Error("POST /scheduler/jobs: " + added);
    const prow = `#jobs tr[data-job="${pauseJob}"]`;
    await page.waitForSelector(`${prow}:not(.paused) button[name=pause]:not([disabled])`, { timeout: STEP });
    await page.click(`${prow} button[name=pause]`);
    await page.waitForSelector(`${prow}.paused button[name=resume]`, { timeout: STEP });
    const next = (await page.textContent(`${prow} td[data-l=Next]`)).trim();
    if (next !== "paused") throw new Error("a paused job's next run reads " + JSON.stringify(next));
    await page.click(`${prow} button[name=resume]`);
    await page.waitForSelector(`${prow}:not(.paused) button[name=pause]`, { timeout: STEP });
    log("pause and resume: the row changed");

    // 5. A sensor's chart draws: a path with points and an extent.
    step = "chart";
    const path = `[data-sensor="sim-temp"] svg path`;
    await page.waitForSelector(path, { timeout: 60000 });
    const drawn = await page.$eval(path, p => ({ d: p.getAttribute("d"), len: p.getTotalLength(), w: p.getBoundingClientRect().width }));
    if (!/^M[\d.]+ [\d.]+/.test(drawn.d || "") || !(drawn.len > 0) || !(drawn.w > 0)) {
      throw new Error("the chart's path is empty: " + JSON.stringify(drawn));
    }
    log("chart: path " + drawn.d.length + " chars, " + drawn.w.toFixed(0) + " px wide");

    await page.screenshot({ path: env("SHOT").replace(/[^/]*$/, "wide.png"), fullPage: true });

    // 6. On a phone's screen nothing is wider than the screen.
    step = "phone";
    await page.setViewportSize({ width: 375, height: 740 });
    await page.waitForTimeout(300);
    const over = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    if (over > 0) throw new Error("on a 375 px screen the page is " + over + " px too wide");
    if (!(await page.isVisible(`#jobs tr[data-job="${runJob}"] button[name=run]`))) throw new Error("no run button on a phone");
    await page.screenshot({ path: env("SHOT").replace(/[^/]*$/, "phone.png"), fullPage: true });
    log("phone: fits 375 px");

    step = "console";
    if (problems.length) throw new Error(problems.join("\n"));
    log("ok");
    await ctx.close();
  } catch (e) {
    console.error("ci-browser: FAIL at step " + step + ": " + e.message);
    if (problems.length) console.error("ci-browser: the page reported:\n  " + problems.join("\n  "));
    try { await page.screenshot({ path: env("SHOT"), fullPage: true }); console.error("ci-browser: screenshot " + env("SHOT")); } catch (err) { /* no screenshot */ }
    await ctx.close().catch(() => {});
    process.exit(1);
  }
})().catch(e => { console.error("ci-browser: FAIL: " + e.message); process.exit(1); });
