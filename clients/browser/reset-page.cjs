// Walks the reset page in Debian's headless Chromium as a reader would, and prints what it saw
// as one JSON object; a screenshot of each state goes to the `screenshots` folder.
//
//   node reset-page.cjs with-script    '{"base","link","token","email","newPassword","screenshots"}'
//   node reset-page.cjs without-script '{"base","link","newPassword","screenshots"}'
//
// NODE_PATH names the node_modules holding playwright-core; CHROMIUM the browser binary.
"use strict";
const { chromium } = require("playwright-core");
const path = require("path");
const fs = require("fs");

// Debian's chromium as root on a machine without a network: no sandbox, no GPU, no calls home.
const CHROMIUM_ARGS = [
  "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
  "--disable-background-networking", "--disable-component-update", "--disable-sync",
];

async function withBrowser(work) {
  // Playwright starts each browser with a new, empty profile (its own --user-data-dir).
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    headless: true,
    args: CHROMIUM_ARGS,
  });
  try {
    return await work(browser);
  } finally {
    await browser.close();
  }
}

// A page that records every request to another origin and the sites of its form posts.
async function openPage(browser, base, options) {
  const context = await browser.newContext({ viewport: { width: 320, height: 640 }, ...options });
  const page = await context.newPage();
  const watch = { external: [], postSites: [], postOrigins: [] };
  page.on("request", async (request) => {
    if (!request.url().startsWith(base + "/")) {
      watch.external.push(request.url());
    } else if (request.method() === "POST") {
      const headers = await request.allHeaders();
      watch.postSites.push(headers["sec-fetch-site"] || "");
      watch.postOrigins.push(headers["origin"] || "");
    }
  });
  return { page, watch };
}

function shooter(page, folder) {
  fs.mkdirSync(folder, { recursive: true });
  return (name) => page.screenshot({ path: path.join(folder, `${name}.png`), fullPage: true });
}

const text = async (page, selector) => ((await page.textContent(selector)) || "").trim();

async function submit(page, selector) {
  await Promise.all([page.waitForNavigation(), page.click(selector)]);
}

async function withScript(args) {
  return withBrowser(async (browser) => {
    const { page, watch } = await openPage(browser, args.base, { locale: "en-GB" });
    const shot = shooter(page, args.screenshots);
    const seen = {};

    await page.goto(args.link);
    await page.waitForSelector("#reset-form");
    seen.tokenLeftInAddressBar = page.url().includes(args.token) || page.url().includes("token=");
    seen.tokenKeptInForm = (await page.inputValue("input[name=token]")) === args.token;
    seen.lang = await page.getAttribute("html", "lang");
    seen.everyInputLabelled = await page.evaluate(() =>
      Array.from(document.querySelectorAll("input:not([type=hidden])")).every(
        (input) => input.labels.length > 0));
    seen.fitsIn320px = await page.evaluate(
      () => document.documentElement.scrollWidth <= window.innerWidth);
    await page.keyboard.press("Tab");
    seen.focusOutline = await page.evaluate(
      () => getComputedStyle(document.activeElement).outlineStyle);
    await shot("01-form");

    await page.fill("#password", "too short");
    seen.tooShortShown = await text(page, "#feedback");
    await shot("02-too-short");

    await page.fill("#password", args.newPassword);
    await page.fill("#confirm", args.newPassword + "x");
    seen.mismatchShown = await text(page, "#feedback");
    await page.click("#reset-form button[type=submit]");
    seen.stayedOnFormAfterMismatch = (await page.$("#reset-form")) !== null;
    seen.focusAfterMismatch = await page.evaluate(() => document.activeElement.id);
    await shot("03-mismatch");

    await page.fill("#password", "password1234");
    await page.fill("#confirm", "password1234");
    await submit(page, "#reset-form button[type=submit]");
    seen.weakShown = await text(page, "#feedback");
    seen.weakAnnounced = await page.getAttribute("#feedback", "role");
    await shot("04-weak");

    await page.fill("#password", args.newPassword);
    await page.fill("#confirm", args.newPassword);
    await submit(page, "#reset-form button[type=submit]");
    seen.doneShown = await text(page, ".success");
    await shot("05-done");

    await page.goto(args.link);
    seen.spentShown = await text(page, ".error");
    seen.forgotFormShown = (await page.$("#forgot-form")) !== null;
    await shot("06-spent");
    await page.fill("#email", args.email);
    await submit(page, "#forgot-form button[type=submit]");
    seen.sentShown = await text(page, ".success");
    await shot("07-new-link-sent");

    seen.formPostSite = [...new Set(watch.postSites)].join(",");
    seen.formPostOrigin = [...new Set(watch.postOrigins)].join(",");
    seen.externalRequests = watch.external;
    return seen;
  });
}

async function withoutScript(args) {
  return withBrowser(async (browser) => {
    const { page, watch } = await openPage(browser, args.base, {
      locale: "sv-SE",
      javaScriptEnabled: false,
    });
    const shot = shooter(page, args.screenshots);
    const seen = {};

    await page.goto(args.link);
    await page.waitForSelector("#reset-form");
    seen.lang = await page.getAttribute("html", "lang");
    await shot("08-sv-no-script-form");

    await page.fill("#password", args.newPassword);
    await page.fill("#confirm", args.newPassword + "x");
    await submit(page, "#reset-form button[type=submit]");
    seen.mismatchShown = await text(page, "#feedback");
    await shot("09-sv-no-script-mismatch");

    await page.fill("#password", "password1234");
    await page.fill("#confirm", "password1234");
    await submit(page, "#reset-form button[type=submit]");
    seen.weakShown = await text(page, "#feedback");
    await shot("10-sv-no-script-weak");

    await page.fill("#password", args.newPassword);
    await page.fill("#confirm", args.newPassword);
    await submit(page, "#reset-form button[type=submit]");
    seen.doneShown = await text(page, ".success");
    await shot("11-sv-no-script-done");

    const finnish = await openPage(browser, args.base, { locale: "fi-FI" });
    await finnish.page.goto(`${args.base}/forgot`);
    seen.finnishForgotLang = await finnish.page.getAttribute("html", "lang");
    seen.finnishForgotButton = await text(finnish.page, "#forgot-form button");
    await shooter(finnish.page, args.screenshots)("12-fi-forgot");

    seen.externalRequests = watch.external.concat(finnish.watch.external);
    return seen;
  });
}

const scenarios = { "with-script": withScript, "without-script": withoutScript };

async function main() {
  const [name, json] = process.argv.slice(2);
  const scenario = scenarios[name];
  if (!scenario || !json) {
    throw new Error(`usage: reset-page.cjs ${Object.keys(scenarios).join("|")} JSON`);
  }
  console.log(JSON.stringify(await scenario(JSON.parse(json))));
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
