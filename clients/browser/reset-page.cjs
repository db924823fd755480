// Walks the reset page in a real headless Chromium, as a user would, and prints what it saw
// as one JSON object. Screenshots of each state go to SCREENSHOTS.
//
//   node reset-page.cjs BASE_URL TOKEN EMAIL NEW_PASSWORD SCREENSHOTS
const { chromium } = require("playwright-core");
const path = require("path");
const fs = require("fs");

async function main() {
  const [base, token, email, newPassword, screenshots] = process.argv.slice(2);
  fs.mkdirSync(screenshots, { recursive: true });
  // Playwright gives each launch a fresh, empty profile of its own.
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    args: [
      "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync",
    ],
  });
  const page = await browser.newPage({ viewport: { width: 360, height: 740 } });
  const external = [];
  page.on("request", (request) => {
    if (!request.url().startsWith(base)) external.push(request.url());
  });
  const shot = (name) => page.screenshot({ path: path.join(screenshots, name), fullPage: true });
  const seen = {};

  await page.goto(`${base}/reset?token=${token}`);
  await page.waitForSelector("#reset-form");
  seen.tokenLeftInAddressBar = page.url().includes(token);
  await shot("1-form.png");

  await page.fill("#password", newPassword);
  await page.fill("#confirm", newPassword + "x");
  seen.mismatchShown = (await page.textContent("#feedback")).trim();
  await shot("2-mismatch.png");
  await page.click("button[type=submit]");
  seen.stayedOnFormAfterMismatch = (await page.$("#reset-form")) !== null;

  await page.fill("#password", "password1234");
  await page.fill("#confirm", "password1234");
  await Promise.all([page.waitForNavigation(), page.click("button[type=submit]")]);
  seen.weakShown = (await page.textContent("#feedback")).trim();
  await shot("3-weak.png");

  await page.fill("#password", newPassword);
  await page.fill("#confirm", newPassword);
  await Promise.all([page.waitForNavigation(), page.click("button[type=submit]")]);
  seen.doneShown = (await page.textContent(".success")).trim();
  await shot("4-done.png");

  await page.goto(`${base}/reset?token=${token}`);
  seen.spentShown = (await page.textContent(".error")).trim();
  seen.forgotFormShown = (await page.$("#forgot-form")) !== null;
  await shot("5-spent.png");
  await page.fill("#email", email);
  await Promise.all([page.waitForNavigation(), page.click("#forgot-form button")]);
  seen.sentShown = (await page.textContent(".success")).trim();
  await shot("6-new-link-sent.png");

  seen.externalRequests = external;
  await browser.close();
  console.log(JSON.stringify(seen));
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
