// lib.mjs - what the browser tests of the devices pages share
// (devices.test.mjs, setup.test.mjs): a test's step, checks and log; pages
// whose console errors and failed requests are the test's failures;
// screenshots that refuse a page showing null, undefined or NaN; the
// editor's picture coordinates; and the run itself (Debian's chromium,
// a screenshot of the page on failure, exit status 1).

import { chromium } from 'playwright-core';
import path from 'node:path';

export const T = 30000; // a page's default timeout, ms

// A test named name, its screenshots in shots: { step, check, log,
// newPage, shot, main }. Set t.step before each step: a failure names it.
export function browserTest(name, shots) {
	const t = { step: 'start', current: null, problems: [] };
	t.check = (cond, msg) => {
		if (!cond) throw new Error(`${t.step}: ${msg}`);
	};
	t.log = (msg) => console.log(`${name}: ${msg}`);

	t.newPage = async (browser, opts) => {
		const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 }, ...opts });
		const page = await ctx.newPage();
		page.setDefaultTimeout(T);
		t.current = page;
		page.on('console', (m) => {
			if (m.type() === 'error') t.problems.push(`${t.step}: console: ${m.text()}`);
		});
		page.on('pageerror', (e) => t.problems.push(`${t.step}: page error: ${e.message}`));
		page.on('requestfailed', (r) => {
			const f = r.failure();
			// a request cut short by the page going away (the language
			// switch reloads it) is normal; any other failure is not
			if (f && !/ERR_ABORTED/.test(f.errorText)) t.problems.push(`${t.step}: request failed: ${r.url()} ${f.errorText}`);
		});
		return page;
	};

	// shots/<file>.png, the whole page from the top (the sticky header).
	t.shot = async (page, file, opts) => {
		const text = await page.evaluate(() => document.body.innerText);
		const bad = /\b(null|undefined|NaN)\b/.exec(text);
		t.check(!bad, `${file}: the page shows "${bad && bad[1]}"`);
		const out = path.join(shots, `${file}.png`);
		await page.evaluate(() => window.scrollTo(0, 0));
		await page.screenshot({ path: out, fullPage: true, ...opts });
		t.log(`screenshot ${out}`);
	};

	// Runs run(browser); on failure the page's text and a screenshot
	// (shots/<failure>.png), then exit status 1.
	t.main = (run, failure) => (async () => {
		const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'] });
		try {
			await run(browser);
			if (t.problems.length) throw new Error(t.problems.join('\n'));
		} catch (e) {
			const p = t.current;
			if (p && !p.isClosed()) {
				const text = await p.evaluate(() => document.querySelector('main')?.innerText || '').catch(() => '');
				console.error(`${name}: the page at ${p.url()} shows:\n${text.slice(0, 1500)}`);
				await p.screenshot({ path: path.join(shots, `${failure}.png`), fullPage: true }).catch(() => {});
			}
			throw e;
		} finally {
			await browser.close();
		}
		t.log('ok');
	})().catch((e) => {
		console.error(`${name}: FAIL: ${e.message}`);
		process.exit(1);
	});
	return t;
}

// Once the page has drawn what its address asks for (app.js).
export async function settled(page) {
	await page.waitForFunction(() => document.body.dataset.shown === location.pathname + location.search);
}

// The page's coordinates of the picture's point [x, y] (the lane space)
// in the camera section sel.
export async function screenAt(page, sel, x, y) {
	return page.evaluate(([sel, x, y]) => {
		const s = document.querySelector(`${sel} svg.lanes`);
		const b = s.getBoundingClientRect();
		const [, , w, h] = s.getAttribute('viewBox').split(' ').map(Number);
		return [b.left + (x * b.width) / w, b.top + (y * b.height) / h];
	}, [sel, x, y]);
}

// The lanes drawn in the camera section sel: "x,y x,y ..." per polygon.
export async function drawn(page, sel) {
	return page.$$eval(`${sel} svg.lanes .lane`, (ps) => ps.map((p) => p.getAttribute('points')));
}

// A fresh snapshot in the camera section sel, loaded.
export async function fetchSnapshot(page, sel) {
	await page.click(`${sel} button.snap`);
	await page.waitForFunction((sel) => {
		const i = document.querySelector(`${sel} img.snapshot`);
		return i && !i.hidden && i.complete && i.naturalWidth > 0 && document.querySelector(sel + ' .stage').dataset.snapshot;
	}, sel);
}
