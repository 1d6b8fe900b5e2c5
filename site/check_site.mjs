// The browser half of `make check-site` (scripts/check_site.py runs it; read that file first).
//   node site/check_site.mjs PLAN.json  -> prints one JSON report on stdout
// PLAN: {"base": "http://127.0.0.1:PORT/", "pages": [{"path": "book/rl_basics.html", ...}], "width": 1280}
// Every request that does not go to the local server is blocked and counted: the site must work offline.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import puppeteer from 'puppeteer-core';

const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];

async function browserPath() {
  if (process.env.CHROME) return process.env.CHROME;
  for (const name of ['chromium', 'chromium-browser', 'google-chrome']) {
    try { return execFileSync('which', [name]).toString().trim(); } catch { /* not installed */ }
  }
  const chromium = (await import('@sparticuz/chromium')).default;  // npm's headless Chromium
  return await chromium.executablePath();
}

// Runs inside the page once MathJax has finished.
function inspect() {
  const article = document.querySelector('article') || document.querySelector('main') || document.body;
  const clone = article.cloneNode(true);
  clone.querySelectorAll('pre, code, script, style, mjx-container, .highlight, .MathJax').forEach((n) => n.remove());
  const text = clone.textContent;
  const roles = text.match(/\{[A-Za-z][\w:+-]*\}`[^`\n]{0,60}`?/g) || [];
  const fences = text.match(/(^|\n)\s*(:::+|```+)\s*\{[\w:-]+\}/g) || [];
  const rawTex = (text.match(/\\\(|\\\[|\$\$/g) || []).length;
  const mathSpans = [...article.querySelectorAll('.math')];
  const unrendered = mathSpans.filter((m) => !m.querySelector('mjx-container')).length;
  const containers = [...article.querySelectorAll('mjx-container')];
  const errors = article.querySelectorAll('mjx-merror, [data-mjx-error]').length;
  const col = article.getBoundingClientRect();
  const clipped = [];
  for (const c of containers.filter((c) => c.getAttribute('display') === 'true')) {
    const style = getComputedStyle(c);
    const scrolls = ['auto', 'scroll'].includes(style.overflowX);
    const r = c.getBoundingClientRect();
    const inner = c.firstElementChild ? c.firstElementChild.getBoundingClientRect() : r;
    if (!scrolls && (c.scrollWidth > c.clientWidth + 1 || inner.right > col.right + 1)) {
      clipped.push(c.textContent.slice(0, 60));
    }
  }
  const wide = containers.filter((c) => c.getAttribute('display') === 'true' && c.scrollWidth > c.clientWidth + 1).length;
  const imgs = [...document.querySelectorAll('img')];
  const broken = imgs.filter((i) => !(i.complete && i.naturalWidth > 0)).map((i) => i.getAttribute('src'));
  const colab = [...document.querySelectorAll('a[href*="colab.research.google.com"]')].map((a) => a.href);
  const tables = [...article.querySelectorAll('table')];
  const cutTables = tables.filter((t) => {
    const r = t.getBoundingClientRect();
    return r.right > col.right + 1 && !['auto', 'scroll'].includes(getComputedStyle(t).overflowX)
      && !['auto', 'scroll'].includes(getComputedStyle(t.parentElement).overflowX);
  }).length;
  // NumPy scalar reprs in printed outputs ("np.float64(0.705)" where a reader expects "0.705")
  const outputs = [...article.querySelectorAll('.cell_output')].map((o) => o.textContent).join('\n');
  const npReprs = (outputs.match(/np\.(float|int|uint|bool)\w*\(/g) || []).length;
  return {
    np_reprs: npReprs,
    math_spans: mathSpans.length,
    formulas: containers.length, math_unrendered: unrendered, raw_tex: rawTex, math_errors: errors,
    formulas_clipped: clipped, formulas_scrolling: wide, images: imgs.length, images_broken: broken,
    myst_visible: [...roles, ...fences].map((s) => s.trim()), colab: [...new Set(colab)],
    tables: tables.length, tables_cut: cutTables, title: document.title,
  };
}

const plan = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const profile = mkdtempSync(join(tmpdir(), 'genrl-chromium-'));
const browser = await puppeteer.launch({
  executablePath: await browserPath(), headless: 'shell',
  args: [...FLAGS, `--user-data-dir=${profile}`],
});
const report = { browser: await browser.version(), pages: [] };
try {
  for (const pg of plan.pages) {
    const page = await browser.newPage();
    await page.setViewport({ width: plan.width || 1280, height: 900 });
    const blocked = [];
    const failed = [];
    await page.setRequestInterception(true);
    page.on('request', (req) => {
      const url = req.url();
      if (url.startsWith(plan.base) || url.startsWith('data:') || url.startsWith('blob:')) req.continue();
      else { blocked.push(url); req.abort(); }
    });
    page.on('requestfailed', (req) => { if (req.url().startsWith(plan.base)) failed.push(req.url()); });
    page.on('response', (res) => { if (res.status() >= 400) failed.push(`${res.status()} ${res.url()}`); });
    let result;
    try {
      await page.goto(plan.base + pg.path, { waitUntil: 'networkidle0', timeout: 60000 });
      const mathjax = await page.evaluate(async () => {
        if (!window.MathJax || !MathJax.startup || !MathJax.startup.promise) return false;
        await MathJax.startup.promise;
        return MathJax.version || true;
      });
      result = { ...(await page.evaluate(inspect)), mathjax };
    } catch (e) {
      result = { error: String(e) };
    }
    report.pages.push({ ...pg, ...result, blocked: [...new Set(blocked)], failed: [...new Set(failed)] });
    await page.close();
  }
} finally {
  await browser.close();
  rmSync(profile, { recursive: true, force: true });
}
process.stdout.write(JSON.stringify(report));
