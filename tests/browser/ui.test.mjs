// ui.test.mjs - firelane-hub's review web UI in a real headless Chromium
// (Debian's /usr/bin/chromium driven by playwright-core), against a real hub
// with real incidents and evidence. tests/integration/browser_ui.sh sets up
// the hub, the data and the users, then runs this script with:
//   FL_URL            the hub's base URL (http://127.0.0.1:PORT)
//   FL_SHOTS          where screenshots (and the weekly report's PDF) go
//   FL_INCIDENT       an incident of FL_SITE with a verified evidence bundle
//   FL_OTHER_INCIDENT an incident of FL_OTHER_SITE (no evidence)
//   FL_SITE, FL_OTHER_SITE
//   FL_DEVICE         FL_INCIDENT's device
//   FL_ADMIN, FL_OFFICER, FL_PM   "user:password" of an admin, an
//                     enforcement officer and a property manager of FL_SITE
//   FL_TAMPER         the path on disk of FL_INCIDENT's composite.jpg: after
//                     every other page that shows it, this script flips a
//                     byte in it (its mtime put back) and checks the pages
//                     showing it tampered (docs/security.md, section 2)
// Every step checks what a person would see; the first failure stops the
// run with a message naming the step, and exit status 1. The page's console
// errors, failed requests and CSP violations are failures too.

import { chromium } from 'playwright-core';
import fs from 'node:fs';
import path from 'node:path';

const env = (k) => {
	const v = process.env[k];
	if (!v) throw new Error(`ui.test.mjs: ${k} is not set`);
	return v;
};
const URL0 = env('FL_URL');
const SHOTS = env('FL_SHOTS');
const ID = env('FL_INCIDENT');
const OTHER = env('FL_OTHER_INCIDENT');
const SITE = env('FL_SITE');
const OTHER_SITE = env('FL_OTHER_SITE');
const DEVICE = env('FL_DEVICE');
const creds = (k) => {
	const [user, ...rest] = env(k).split(':');
	return { user, password: rest.join(':') };
};
const ADMIN = creds('FL_ADMIN'), OFFICER = creds('FL_OFFICER'), PM = creds('FL_PM');
const TAMPER = env('FL_TAMPER');
const T = 30000; // generous: the hub may run under ASan on a busy machine

fs.mkdirSync(SHOTS, { recursive: true });

let step = 'start';
let current = null; // the page in use: shown on a failure
// The error answers a step provokes on purpose (the browser logs each as a
// console error); any other error answer is a failure.
const EXPECTED = {
	'wrong password': [401],
	'the picture link': [404], // the image viewer asks for /favicon.ico
	'admin': [400],
	'property manager on a phone': [403],
	'the property manager sees only their site': [404],
	'the resident register: a bad file': [400],
	'enter the plate': [400], // 'not a plate' refused
	'login rate limit': [401, 429],
};
const problems = [];
function check(cond, msg) {
	if (!cond) throw new Error(msg);
}
function log(msg) {
	console.log(`ui.test: ${msg}`);
}

// A page that records console errors, uncaught exceptions and failed
// requests (a broken image or script shows up here).
async function newPage(browser, opts) {
	const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 }, ...opts });
	const page = await ctx.newPage();
	page.setDefaultTimeout(T);
	current = page;
	page.on('console', (m) => {
		if (m.type() !== 'error') return;
		const st = /status of (\d{3})/.exec(m.text());
		if (st && (EXPECTED[step] || []).includes(Number(st[1]))) return;
		// An evidence file opened on its own is shown by the browser's image
		// viewer, whose inline styles the hub's CSP (sent with every answer,
		// docs/api.md) blocks: the picture shows, on a white page.
		if (step === 'the picture link' && /Applying inline style violates/.test(m.text())) return;
		problems.push(`[${step}] console error: ${m.text()}`);
	});
	page.on('pageerror', (e) => problems.push(`[${step}] page error: ${e.message}`));
	page.on('requestfailed', (r) => {
		const f = r.failure();
		// a clip request cut short by the player seeking is normal
		if (f && !/ERR_ABORTED/.test(f.errorText)) problems.push(`[${step}] request failed: ${r.url()} ${f.errorText}`);
	});
	return page;
}

// Every page photographed is also read: a value the page failed to format
// shows up as the words null, undefined or NaN.
async function shot(page, name, opts) {
	const text = await page.evaluate(() => document.body.innerText);
	const bad = /\b(null|undefined|NaN)\b/.exec(text);
	check(!bad, `${name}: the page shows "${bad && bad[1]}": ...${bad && text.slice(Math.max(0, bad.index - 60), bad.index + 20)}`);
	const file = path.join(SHOTS, `${name}.png`);
	await page.screenshot({ path: file, ...opts });
	log(`screenshot ${file}`);
}

async function login(page, who, next) {
	await page.goto(URL0 + '/login' + (next ? '?next=' + encodeURIComponent(next) : ''));
	await page.fill('#login input[name=user]', who.user);
	await page.fill('#login input[name=password]', who.password);
	await Promise.all([
		page.waitForURL((u) => u.pathname !== '/login', { timeout: T }),
		page.click('#login button[type=submit]'),
	]);
	await page.waitForSelector('#whoami .user');
	check((await page.textContent('#whoami .user')) === who.user, `${who.user} not shown in #whoami`);
}

// Until the page on screen is the one of the current URL (app.js marks it
// on <body>): after a click, the old page stays until the new one is drawn.
async function settled(page) {
	await page.waitForFunction(() => document.body.dataset.shown === location.pathname + location.search);
}

async function imagesLoaded(page, selector) {
	await page.waitForFunction((sel) => {
		const imgs = [...document.querySelectorAll(sel)];
		return imgs.length && imgs.every((i) => i.complete);
	}, selector, { timeout: T });
	return page.$$eval(selector, (imgs) => imgs.map((i) => ({ src: i.getAttribute('src'), w: i.naturalWidth, h: i.naturalHeight })));
}

// The UI in Chinese (docs/i18n.md): chosen from Accept-Language, every
// page in the catalogue's words, times in the hub's zone (+08:00) whatever
// the browser's own (New York here), the header's switch to English and
// back, which sticks across reloads and pages (the fl_lang cookie).
// Screenshots zh-*.png beside the English ones.
async function chinese(browser) {
	step = 'Chinese from Accept-Language';
	const zp = await newPage(browser, { locale: 'zh-CN', timezoneId: 'America/New_York' });
	await zp.goto(URL0 + '/login');
	await zp.waitForSelector('#login input[name=user]');
	check(await zp.evaluate(() => document.documentElement.lang) === 'zh-CN', 'zh: <html lang> is not zh-CN');
	check((await zp.textContent('#login button[type=submit]')) === '登录', 'zh: the login button is not 登录');
	await shot(zp, 'zh-01-login');
	await login(zp, OFFICER, `/incidents?site=${SITE}`);
	await zp.waitForSelector(`#incidents tr[data-incident="${ID}"] td.thumb img`);
	const nav = await zp.$$eval('#nav a[data-nav]', (as) => as.filter((a) => !a.hidden).map((a) => a.textContent));
	check(nav.join() === '事件,报表,设备', `zh: the navigation says ${nav}`);
	const heads = await zp.$$eval('#incidents thead th', (ths) => ths.map((x) => x.textContent));
	check(heads.join() === '照片,小区,通道,摄像头,状态,开始时间,占用时长,处理结果,证据', `zh: the list's columns ${heads}`);
	const row = await zp.textContent(`#incidents tr[data-incident="${ID}"]`);
	for (const w of ['已恢复', '✓ 已验证']) check(row.includes(w), `zh: the list row lacks "${w}": ${row}`);
	check(/\d+分\d\d秒|\d+秒|\d+小时\d\d分/.test(row), `zh: no Chinese duration in the row: ${row}`);
	// the hub's zone, not the browser's: the start as the API has it, +8 h
	const inc = await (await zp.request.get(`${URL0}/api/incidents/${ID}`)).json();
	const local = new Date(((inc.rest_since ?? inc.start) + 8 * 3600) * 1000).toISOString().slice(0, 19).replace('T', ' ');
	check(row.includes(local), `zh: the row does not show the start in +08:00 (${local}): ${row}`);
	check((await zp.textContent('#whoami .role')) === '执法人员', 'zh: the role is not 执法人员');
	// the names people read (the device's site_name and lane name), the ids as titles
	await zp.goto(`${URL0}/incidents?site=${OTHER_SITE}`);
	await zp.waitForSelector(`#incidents tr[data-incident="${OTHER}"]`);
	const named = await zp.$eval(`#incidents tr[data-incident="${OTHER}"]`, (r) => [r.querySelector('td.site a').textContent,
		r.querySelector('td.site a').title, r.children[2].textContent, r.children[2].title]);
	check(named.join() === `北区 7 号楼,${OTHER_SITE},北侧消防通道,lane-n`, `zh: ${OTHER}'s names: ${named}`);
	await zp.goto(`${URL0}/incidents?site=${SITE}`);
	await zp.waitForSelector(`#incidents tr[data-incident="${ID}"] td.thumb img`);
	await shot(zp, 'zh-02-incidents');

	step = 'Chinese: the incident';
	await Promise.all([zp.waitForURL(`**/incidents/${ID}`), zp.click(`#incidents tr[data-incident="${ID}"] a >> nth=0`)]);
	await zp.waitForSelector(`#incident[data-incident="${ID}"]`);
	await imagesLoaded(zp, 'img.scene');
	const facts = await zp.textContent('dl.facts');
	for (const w of ['小区', '通道', '停留开始', `${local} +08:00`]) check(facts.includes(w), `zh: the facts lack "${w}": ${facts}`);
	check((await zp.textContent('#signature-h')) === '签名检查', 'zh: the signature heading');
	check(/✓ 证据已验证/.test(await zp.textContent('#signature')), 'zh: the signature verdict');
	// the device clock as the manifest recorded it (docs/clock.md): this
	// machine's, synchronised or not
	check(/设备时钟(已同步|未同步|的误差)/.test(await zp.textContent('#signature .clock')), 'zh: the device clock line');
	check((await zp.textContent('#timeline')).includes('+08:00'), 'zh: the timeline has no offset');
	await shot(zp, 'zh-03-incident', { fullPage: true });

	step = 'Chinese: reports and fleet';
	await zp.goto(`${URL0}/reports?site=${SITE}`);
	await zp.waitForSelector('#report-totals');
	check((await zp.textContent('main h1')) === '报表', 'zh: the reports heading');
	check((await zp.textContent('#report-outcomes')).includes('拖车'), 'zh: the outcome tallies');
	await shot(zp, 'zh-04-reports', { fullPage: true });
	await zp.goto(`${URL0}/fleet`);
	await zp.waitForSelector('#fleet');
	check((await zp.textContent('main h1')) === '设备', 'zh: the fleet heading');
	await shot(zp, 'zh-05-fleet');

	step = 'the language switch sticks';
	await zp.goto(`${URL0}/incidents?site=${SITE}`);
	await zp.waitForSelector(`#incidents tr[data-incident="${ID}"]`);
	await Promise.all([zp.waitForNavigation(), zp.selectOption('#lang-switch', 'en')]);
	await zp.waitForSelector(`#incidents tr[data-incident="${ID}"]`);
	check((await zp.textContent('#nav a[data-nav=incidents]')) === 'Incidents', 'the switch to English did not change the page');
	const cookies = await zp.context().cookies();
	check(cookies.some((c) => c.name === 'fl_lang' && c.value === 'en'), `no fl_lang=en cookie: ${JSON.stringify(cookies.map((c) => c.name))}`);
	const other = await zp.context().newPage();
	await other.goto(`${URL0}/reports?site=${SITE}`);
	await other.waitForSelector('#report-totals');
	check((await other.textContent('main h1')) === 'Reports', 'English does not stick on another page of a zh browser');
	await other.close();
	await shot(zp, 'zh-06-switched-to-en');
	await Promise.all([zp.waitForNavigation(), zp.selectOption('#lang-switch', 'zh-CN')]);
	await zp.waitForSelector(`#incidents tr[data-incident="${ID}"]`);
	check((await zp.textContent('#nav a[data-nav=incidents]')) === '事件', 'the switch back to Chinese');
	await zp.context().close();

	step = 'Chinese: adding a device by code';
	const za = await newPage(browser, { locale: 'zh-CN', timezoneId: 'America/New_York' });
	await login(za, ADMIN, '/admin');
	await za.waitForSelector('#add-device');
	check((await za.textContent('#add-device h3')) === '添加设备（一次性登记码）', 'zh: the add-device heading');
	await za.fill('#add-device input[name=device]', 'zh-gate');
	await za.fill('#add-device input[name=site]', SITE);
	await za.click('#add-device button[type=submit]');
	await za.waitForSelector('#enrol-code[data-device="zh-gate"]');
	await imagesLoaded(za, '#enrol-qr');
	const said = await za.textContent('#enrol-code');
	for (const w of ['zh-gate', '的登记码', '仅可使用一次']) check(said.includes(w), `zh: the code box lacks "${w}": ${said}`);
	await shot(za, 'zh-07-admin-enrol-code');
	za.once('dialog', (d) => d.accept());
	await za.click('#enrol-codes tr[data-device="zh-gate"] button');
	await za.waitForSelector('#enrol-codes tr[data-device="zh-gate"]', { state: 'detached' });
	await za.context().close();
}

async function main() {
	const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'] });
	try {
		await run(browser);
	} catch (e) {
		if (current && !current.isClosed()) {
			const text = await current.evaluate(() => document.querySelector('main')?.innerText || '').catch(() => '');
			console.error(`ui.test: the page at ${current.url()} shows:\n${text.slice(0, 1500)}`);
			await current.screenshot({ path: path.join(SHOTS, 'FAILURE.png'), fullPage: true }).catch(() => {});
		}
		throw e;
	} finally {
		await browser.close();
	}
}

async function run(browser) {
	const page = await newPage(browser);

	step = 'alert link without a session';
	await page.goto(`${URL0}/incidents/${ID}`);
	check(new URL(page.url()).pathname === '/login', `an incident link without a session went to ${page.url()}, not /login`);
	check(new URL(page.url()).searchParams.get('next') === `/incidents/${ID}`, `next= is not the incident: ${page.url()}`);
	await page.waitForSelector('#login input[name=user]');
	await shot(page, '01-login');

	step = 'wrong password';
	await page.fill('#login input[name=user]', OFFICER.user);
	await page.fill('#login input[name=password]', 'not the password');
	await page.click('#login button[type=submit]');
	await page.waitForFunction(() => document.querySelector('#login-error').textContent.length > 0);
	const err = await page.textContent('#login-error');
	check(/wrong user name or password/i.test(err), `#login-error says "${err}"`);

	step = 'login returns to the alert link';
	await page.fill('#login input[name=password]', OFFICER.password);
	await Promise.all([page.waitForURL(`**/incidents/${ID}`), page.click('#login button[type=submit]')]);
	await page.waitForSelector(`#incident[data-incident="${ID}"]`);
	check(await page.isHidden('#nav-admin'), 'the admin link is shown to an enforcement officer');
	check((await page.textContent('#whoami')).includes('enforcement'), '#whoami does not show the role');

	step = 'incident list';
	await page.click('#nav a[href="/incidents"]');
	await page.waitForSelector(`#incidents tr[data-incident="${ID}"]`);
	check(await page.isVisible(`#incidents tr[data-incident="${OTHER}"]`), `enforcement does not see ${OTHER} of ${OTHER_SITE}`);
	const row = await page.textContent(`#incidents tr[data-incident="${ID}"]`);
	for (const s of [SITE, 'cleared', '✓ verified', 'not recorded']) check(row.includes(s), `list row lacks "${s}": ${row}`);
	check(/\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}/.test(row), `list row has no YYYY-MM-DD HH:MM:SS time: ${row}`);
	const options = await page.$$eval('#filters select[name=site] option', (os) => os.map((o) => o.value));
	check(options.includes(SITE) && options.includes(OTHER_SITE), `site filter options ${options}`);
	// the alarm still as the row's thumbnail: the verified incident's
	// loads (320 px, made by the hub); one without evidence has none
	const thumbs = await imagesLoaded(page, `#incidents tr[data-incident="${ID}"] td.thumb img`);
	check(thumbs.length === 1 && thumbs[0].w === 320 && thumbs[0].h > 100 && thumbs[0].h < 320,
		`the thumbnail of ${ID}: ${JSON.stringify(thumbs)}`);
	check(await page.$(`#incidents tr[data-incident="${OTHER}"] td.thumb img`) === null, `${OTHER} has a thumbnail`);
	await shot(page, '02-incidents');

	step = 'paging';
	const info1 = await page.textContent('#page-info');
	const total = Number(/of (\d+) ·/.exec(info1)[1]);
	check(total > 25, `expected more than one page of incidents: ${info1}`);
	check(await page.isDisabled('#prev') && await page.isEnabled('#next'), 'paging buttons on page 1');
	const first = await page.$$eval('#incidents tbody tr', (rs) => rs.map((r) => r.dataset.incident));
	await Promise.all([page.waitForURL((u) => u.searchParams.get('page') === '2'), page.click('#next')]);
	await settled(page);
	await page.waitForFunction(() => /page 2 of/.test((document.querySelector('#page-info')?.textContent || '')));
	const second = await page.$$eval('#incidents tbody tr', (rs) => rs.map((r) => r.dataset.incident));
	check(second.length === total - 25 && !second.some((id) => first.includes(id)), `page 2: ${second.length} rows, overlap with page 1`);
	await page.reload();
	await page.waitForFunction(() => /page 2 of/.test((document.querySelector('#page-info')?.textContent || '')));
	check(await page.isEnabled('#prev') && await page.isDisabled('#next'), 'paging buttons on the last page');
	await page.goBack();
	await settled(page);
	await page.waitForFunction(() => /page 1 of/.test((document.querySelector('#page-info')?.textContent || '')));
	await page.waitForSelector(`#incidents tr[data-incident="${ID}"]`);

	step = 'filters in the URL';
	await page.selectOption('#filters select[name=site]', OTHER_SITE);
	await page.selectOption('#filters select[name=outcome]', 'none');
	await Promise.all([page.waitForURL((u) => u.searchParams.get('site') === OTHER_SITE), page.click('#filters button[type=submit]')]);
	await settled(page);
	await page.waitForSelector(`#incidents tr[data-incident="${OTHER}"]`);
	check(await page.$(`#incidents tr[data-incident="${ID}"]`) === null, `site filter ${OTHER_SITE} still lists ${ID}`);
	await page.reload();
	await settled(page);
	await page.waitForSelector(`#incidents tr[data-incident="${OTHER}"]`);
	check(await page.inputValue('#filters select[name=site]') === OTHER_SITE, 'the site filter is lost on reload');
	check(await page.inputValue('#filters select[name=outcome]') === 'none', 'the outcome filter is lost on reload');
	const sitesShown = await page.$$eval('#incidents tbody tr td.site a', (as) => [...new Set(as.map((a) => a.title))]);
	check(sitesShown.join() === OTHER_SITE, `site filter ${OTHER_SITE} shows ${sitesShown}`);
	await page.selectOption('#filters select[name=status]', 'cleared');
	await Promise.all([page.waitForURL((u) => u.searchParams.get('status') === 'cleared'), page.click('#filters button[type=submit]')]);
	await page.waitForSelector('#incidents tr.empty');
	await page.goBack();
	await page.waitForSelector(`#incidents tr[data-incident="${OTHER}"]`);
	await page.goto(URL0 + `/incidents?site=${SITE}&from=2000-01-01&to=2000-01-02`);
	await page.waitForSelector('#incidents tr.empty');
	await page.goto(URL0 + `/incidents?site=${SITE}`);

	step = 'open the incident from the list';
	await Promise.all([page.waitForURL(`**/incidents/${ID}`), page.click(`#incidents tr[data-incident="${ID}"] a >> nth=0`)]);
	await page.waitForSelector(`#incident[data-incident="${ID}"]`);

	step = 'evidence images';
	const scenes = await imagesLoaded(page, 'img.scene');
	check(scenes.length >= 3, `${scenes.length} scene images, expected at least 3`);
	for (const i of scenes) check(i.w > 0 && i.h > 0, `scene image ${i.src} did not load`);
	const times = await page.$$eval('.scenes figcaption', (f) => f.map((x) => x.querySelector('time')?.textContent || ''));
	// evidence times carry the hub's offset (docs/i18n.md)
	check(times.every((t) => /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} \+08:00$/.test(t)), `scene captions lack times with offset: ${times}`);
	check(times.join() === [...times].sort().join(), `scene images not in time order: ${times}`);
	for (const sel of ['#composite', '#closeup']) {
		const [im] = await imagesLoaded(page, sel);
		check(im.w > 0, `${sel} did not load`);
	}
	check(await page.$('#no-evidence') === null, 'an incident with evidence says it has none');

	step = 'signature check';
	check(await page.$eval('#signature', (s) => s.classList.contains('ok')), `#signature is not ok: ${await page.textContent('#signature')}`);
	check((await page.textContent('#signature .report')).length > 10, '#signature shows no verify report');
	check(/device clock/i.test(await page.textContent('#signature .clock')), '#signature does not say how the device clock stood');

	step = 'timeline';
	const types = await page.$$eval('#timeline li', (ls) => ls.map((l) => l.dataset.type));
	for (const t of ['occupied', 'alarm', 'evidence', 'cleared']) check(types.includes(t), `timeline lacks ${t}: ${types}`);
	check(types.indexOf('occupied') < types.indexOf('alarm') && types.indexOf('alarm') < types.indexOf('cleared'), `timeline order ${types}`);
	const ltimes = await page.$$eval('#timeline li time', (ts) => ts.map((t) => t.textContent));
	check(ltimes.every((t) => /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} \+08:00$/.test(t)), `timeline times ${ltimes}`);
	await shot(page, '03-incident-top');

	step = 'enlarge an image';
	await page.click('img.scene >> nth=0');
	await page.waitForSelector('#lightbox[open] img.large');
	await page.waitForFunction(() => document.querySelector('#lightbox img.large').naturalWidth > 0);
	await shot(page, '04-incident-enlarged');
	await page.keyboard.press('Escape');
	await page.waitForSelector('#lightbox', { state: 'hidden' });

	step = 'the clip plays';
	check(await page.getAttribute('#clip', 'src') === `/evidence/${ID}/clip.mp4`, `clip src ${await page.getAttribute('#clip', 'src')}`);
	check(await page.$eval('#clip', (v) => v.controls), 'the clip has no controls');
	const played = await page.$eval('#clip', (v) => v.play().then(() => 'ok', (e) => `play() refused: ${e.name} ${e.message}`));
	check(played === 'ok', `H.264 clip: ${played}`);
	try {
		await page.waitForFunction(() => {
			const v = document.querySelector('#clip');
			return v.error || (v.currentTime > 0.5 && v.readyState >= 2);
		}, null, { timeout: T });
	} catch (e) {
		throw new Error(`the clip did not reach 0.5 s: ${JSON.stringify(await page.$eval('#clip', (v) => ({ t: v.currentTime, rs: v.readyState, ns: v.networkState })))}`);
	}
	const vstate = await page.$eval('#clip', (v) => ({ err: v.error && `${v.error.code} ${v.error.message}`, t: v.currentTime, rs: v.readyState, w: v.videoWidth, d: v.duration }));
	check(!vstate.err, `THE CLIP DOES NOT PLAY in Debian chromium: MediaError ${vstate.err}`);
	check(vstate.w > 0, `the clip has no picture: ${JSON.stringify(vstate)}`);
	await page.$eval('#clip', (v) => v.pause());
	log(`clip played to ${vstate.t.toFixed(2)} s of ${vstate.d.toFixed(1)} s, ${vstate.w} px wide, readyState ${vstate.rs}`);

	step = 'enter the plate';
	// read off the evidence by the officer: audited, and it stands over
	// the device's reads (docs/api.md)
	await page.fill('#plate-form input[name=plate]', '粤B99999');
	await page.click('#plate-form button[type=submit]');
	await page.waitForFunction(() => /粤B99999/.test(document.querySelector('#plate-saved')?.textContent || ''));
	check(await page.textContent('#plate-error') === '', `plate error: ${await page.textContent('#plate-error')}`);
	await page.fill('#plate-form input[name=plate]', 'not a plate');
	await page.click('#plate-form button[type=submit]');
	await page.waitForFunction(() => (document.querySelector('#plate-error')?.textContent || '') !== '');
	check(await page.inputValue('#plate-form input[name=plate]') === 'not a plate', 'the refused plate was not left to correct');

	step = 'record outcomes';
	check(await page.textContent('#outcome-history'), 'no outcome history table');
	const allOpts = await page.$$eval('#outcome-form select[name=outcome] option', (os) => os.map((o) => o.value));
	check(['persuaded', 'fined', 'towed', 'false_alarm', 'other'].every((o) => allOpts.includes(o)), `officer's outcome options ${allOpts}`);
	await page.selectOption('#outcome-form select[name=outcome]', 'persuaded');
	await page.fill('#outcome-form textarea[name=note]', 'driver called, said five minutes');
	await page.click('#outcome-form button[type=submit]');
	await page.waitForFunction(() => document.querySelectorAll('#outcome-history tbody tr:not(.empty)').length === 1);
	await page.selectOption('#outcome-form select[name=outcome]', 'towed');
	const note = 'still there after 30 min; towed by city management, ticket T-0042 <b>not bold</b>';
	await page.fill('#outcome-form textarea[name=note]', note);
	await page.click('#outcome-form button[type=submit]');
	await page.waitForFunction(() => document.querySelectorAll('#outcome-history tbody tr:not(.empty)').length === 2);
	check(await page.textContent('#outcome-error') === '', `outcome error: ${await page.textContent('#outcome-error')}`);
	await page.reload();
	await page.waitForSelector(`#incident[data-incident="${ID}"]`);
	const hist = await page.$$eval('#outcome-history tbody tr', (rs) => rs.map((r) => [...r.cells].map((c) => c.textContent)));
	check(hist.length === 2, `history after reload: ${JSON.stringify(hist)}`);
	check(hist[0][0] === 'persuaded to leave' && hist[1][0] === 'towed', `history order (oldest first): ${JSON.stringify(hist)}`);
	check(hist[1][1] === note, `the note came back as "${hist[1][1]}"`);
	check(hist[1][2] === OFFICER.user, `recorded by "${hist[1][2]}"`);
	check(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/.test(hist[1][3]), `recorded at "${hist[1][3]}"`);
	check(await page.$('#outcome-history b') === null, 'a note was rendered as HTML');
	check((await page.textContent('#outcome .current')).includes('towed'), 'the current outcome is not towed');
	check(await page.inputValue('#plate-form input[name=plate]') === '粤B99999', 'the entered plate after reload');
	check((await page.textContent('#plate-by')) === `entered by ${OFFICER.user}`, `the plate's source: ${await page.textContent('#plate-by')}`);
	check(await page.getAttribute('#export', 'href') === `/api/incidents/${ID}/export`, 'export link');
	const zip = await page.evaluate(async (u) => {
		const r = await fetch(u);
		const b = new Uint8Array(await r.arrayBuffer());
		return { status: r.status, type: r.headers.get('Content-Type'), magic: String.fromCharCode(b[0], b[1]), n: b.length };
	}, `/api/incidents/${ID}/export`);
	check(zip.status === 200 && zip.magic === 'PK', `export: ${JSON.stringify(zip)}`);
	await page.click('#access-log summary');
	await page.waitForSelector('#incident-audit tr[data-action="outcome"]');
	const seen = await page.$$eval('#incident-audit tbody tr', (rs) => rs.map((r) => r.dataset.action));
	for (const a of ['incident_view', 'evidence_view', 'outcome', 'export', 'plate']) check(seen.includes(a), `the access log lacks ${a}: ${seen}`);
	await page.$eval('#outcome', (e) => e.scrollIntoView());
	await shot(page, '05-incident-outcome', { fullPage: false });
	await shot(page, '05b-incident-full', { fullPage: true });
	const startDay = await page.$eval('.facts', (dl) => {
		const dts = [...dl.querySelectorAll('dt')];
		const i = dts.findIndex((d) => d.textContent === 'At rest since');
		return dl.querySelectorAll('dd')[i].textContent.slice(0, 10);
	});
	check(/^\d{4}-\d{2}-\d{2}$/.test(startDay), `start day ${startDay}`);

	step = 'an incident without evidence';
	await page.goto(`${URL0}/incidents/${OTHER}`);
	await page.waitForSelector(`#incident[data-incident="${OTHER}"]`);
	check(/no evidence received \(yet\)/i.test(await page.textContent('#no-evidence')), 'no "no evidence received (yet)" message');
	check(await page.$$eval('#incident img, #incident video', (n) => n.length) === 0, 'an incident without evidence shows images or a clip');
	check(await page.$eval('#signature', (s) => !s.classList.contains('ok') && !s.classList.contains('bad')), 'an incident without evidence has a signature verdict');
	await shot(page, '05c-incident-no-evidence');

	step = 'reports';
	await page.goto(`${URL0}/reports?site=${SITE}&period=week&date=${startDay}`);
	await page.waitForSelector('#report');
	const towedTally = Number(await page.textContent('#report-outcomes td[data-outcome=towed]'));
	check(towedTally >= 1, `reports: towed tally ${towedTally}`);
	check(Number(await page.textContent('#report-incidents')) >= 1, 'reports: no incidents');
	check(/\d+ s|min/.test(await page.textContent('#ttc-median')), `median time to clear "${await page.textContent('#ttc-median')}"`);
	check(/\d+ s|min/.test(await page.textContent('#ttc-p90')), `p90 time to clear "${await page.textContent('#ttc-p90')}"`);
	check(await page.$$eval('svg#chart-days rect.bar.incidents', (r) => r.length) === 7, 'the week chart has not 7 day bars');
	check(await page.$$eval('svg#chart-days rect.bar.incidents', (r) => r.some((x) => Number(x.getAttribute('height')) > 0)), 'the week chart is empty');
	check(await page.$eval('svg#chart-outcomes rect.bar.outcome-towed', (r) => Number(r.getAttribute('width')) > 0), 'the outcome chart has no towed bar');
	const csvHref = await page.getAttribute('#report-csv', 'href');
	check(csvHref.startsWith('/api/reports.csv?') && csvHref.includes(`site=${SITE}`), `CSV link ${csvHref}`);
	const csv = await page.evaluate(async (u) => {
		const r = await fetch(u);
		return { status: r.status, type: r.headers.get('Content-Type'), text: await r.text() };
	}, csvHref);
	check(csv.status === 200 && /csv/.test(csv.type) && csv.text.includes(startDay), `CSV: ${JSON.stringify(csv).slice(0, 300)}`);
	await shot(page, '06-reports', { fullPage: true });

	step = 'weekly report';
	await Promise.all([page.waitForURL('**/reports/weekly?**'), page.click('#weekly-link')]);
	await page.waitForSelector(`#weekly-incidents tr[data-incident="${ID}"]`);
	const wrow = await page.textContent(`#weekly-incidents tr[data-incident="${ID}"]`);
	check(wrow.includes('towed'), `weekly row of ${ID} does not say towed: ${wrow}`);
	const wsites = await page.$$eval('#weekly-incidents tbody tr td:nth-child(2)', (tds) => [...new Set(tds.map((t) => t.title))]);
	check(wsites.join() === SITE, `the weekly report of ${SITE} lists sites ${wsites}`);
	check(Number(await page.textContent('#weekly td[data-outcome=towed]')) >= 1, 'weekly towed tally');
	check((await page.textContent('#weekly-site')) === SITE, 'weekly header site');
	check(/^\d{4}-\d{2}-\d{2} – \d{4}-\d{2}-\d{2}$/.test(await page.textContent('#weekly-range')), `week range "${await page.textContent('#weekly-range')}"`);
	await shot(page, '07-weekly', { fullPage: true });
	await page.emulateMedia({ media: 'print' });
	check(await page.isHidden('#top'), 'the nav prints');
	check(await page.isHidden('.toolbar'), 'the toolbar prints');
	const bg = await page.$eval('body', (b) => getComputedStyle(b).backgroundColor);
	check(bg === 'rgb(255, 255, 255)', `print background ${bg}`);
	const pdfFile = path.join(SHOTS, '07-weekly.pdf');
	await page.pdf({ path: pdfFile, format: 'A4', printBackground: true, preferCSSPageSize: true });
	const pdf = fs.readFileSync(pdfFile, 'latin1');
	check(pdf.startsWith('%PDF-'), 'page.pdf() wrote no PDF');
	const pages = (pdf.match(/\/Type\s*\/Page[^s]/g) || []).length;
	const box = /\/MediaBox\s*\[\s*0\s+0\s+([\d.]+)\s+([\d.]+)\s*\]/.exec(pdf);
	check(box && Math.abs(box[1] - 595.9) < 2 && Math.abs(box[2] - 842) < 2, `the weekly PDF is not A4: MediaBox ${box && box.slice(1)}`);
	check(pages >= 2, `the weekly PDF has ${pages} pages (the incident list starts a new page)`);
	log(`weekly PDF: ${pages} A4 pages, ${fs.statSync(pdfFile).size} bytes`);
	await page.setViewportSize({ width: 794, height: 1123 });
	await shot(page, '07c-weekly-print', { fullPage: true });
	await page.setViewportSize({ width: 1280, height: 900 });
	await page.emulateMedia({ media: 'screen' });

	step = 'fleet';
	await page.click('#nav a[href="/fleet"]');
	await page.waitForSelector(`#fleet tr[data-device="${DEVICE}"]`);
	const frow = await page.textContent(`#fleet tr[data-device="${DEVICE}"]`);
	check(/online|offline|stopped/.test(frow), `fleet row has no status: ${frow}`);
	check(/fps/.test(frow) && /ago/.test(frow), `fleet row has no heartbeat figures: ${frow}`);
	// the hub's own state, from GET /api/hub: taking messages here
	const hstate = await page.getAttribute('#hub-state', 'data-state');
	const htext = await page.textContent('#hub-state');
	check(hstate === 'ok' && /Hub taking messages \(\d+ stored/.test(htext), `hub state on the fleet page: ${hstate} ${htext}`);
	await shot(page, '08-fleet', { fullPage: true });

	step = 'admin is for admins';
	await page.goto(URL0 + '/admin');
	await page.waitForSelector('#not-allowed');

	step = 'logout';
	await Promise.all([page.waitForURL('**/login'), page.click('#logout')]);
	await page.goto(URL0 + '/incidents');
	check(new URL(page.url()).pathname === '/login', 'after logout /incidents is still shown');
	await page.context().close();

	step = 'the picture link';
	const ap = await newPage(browser);
	// the alert's picture link: the login first, then the picture
	const pic = `/evidence/${ID}/composite.jpg`;
	await ap.goto(URL0 + pic);
	check(new URL(ap.url()).searchParams.get('next') === pic, `the picture link without a session went to ${ap.url()}`);
	await ap.fill('#login input[name=user]', ADMIN.user);
	await ap.fill('#login input[name=password]', ADMIN.password);
	await Promise.all([ap.waitForURL(URL0 + pic), ap.click('#login button[type=submit]')]);
	check(await ap.evaluate(() => document.images.length === 1 && document.images[0].naturalWidth > 0), 'the picture link shows no picture after the login');
	// ?next= never leads off the hub
	await ap.context().clearCookies();
	await login(ap, ADMIN, '//evil.example/x');
	check(new URL(ap.url()).origin === new URL(URL0).origin && new URL(ap.url()).pathname === '/incidents', `next=//evil.example led to ${ap.url()}`);

	step = 'admin';
	check(await ap.isVisible('#nav-admin'), 'no admin link for the admin');
	await ap.click('#nav-admin');
	await ap.waitForSelector(`#users tr[data-user="${PM.user}"]`);
	await ap.fill('#add-user input[name=name]', 'ui-temp');
	await ap.fill('#add-user input[name=password]', 'temp-password-1');
	await ap.selectOption('#add-user select[name=role]', 'property');
	await ap.fill('#add-user input[name=sites]', SITE);
	await ap.click('#add-user button[type=submit]');
	await ap.waitForSelector('#users tr[data-user="ui-temp"]');
	check((await ap.textContent('#users tr[data-user="ui-temp"]')).includes(SITE), 'the new user has no site');
	await ap.fill('#add-user input[name=name]', 'ui-temp');
	await ap.fill('#add-user input[name=password]', 'x');
	await ap.click('#add-user button[type=submit]');
	await ap.waitForFunction(() => document.querySelector('#add-user-error').textContent.length > 0);
	ap.once('dialog', (d) => d.accept());
	await ap.click('#users tr[data-user="ui-temp"] button');
	await ap.waitForSelector('#users tr[data-user="ui-temp"]', { state: 'detached' });
	check(await ap.$$eval('#audit tbody tr:not(.empty)', (r) => r.length) > 0, 'the audit log is empty');
	const actions = await ap.$$eval('#audit tbody tr', (rs) => rs.map((r) => r.dataset.action));
	for (const a of ['outcome', 'export']) check(actions.includes(a), `audit log lacks ${a}: ${actions}`);
	check(await ap.$$eval('#quarantine tbody tr:not(.empty)', (r) => r.length) > 0, 'no quarantine rows shown');
	// a device by one-time code: the code, its QR code, the pending list, revoke
	await ap.fill('#add-device input[name=device]', 'ui-gate');
	await ap.fill('#add-device input[name=site]', SITE);
	await ap.click('#add-device button[type=submit]');
	await ap.waitForSelector('#enrol-code[data-device="ui-gate"]');
	check(/^[234679ACDEFGHJKMNPQRTUVWXYZ]{8}$/.test(await ap.textContent('#enrol-code-text')), 'no code shown');
	await imagesLoaded(ap, '#enrol-qr');
	const qr = await ap.$eval('#enrol-qr', (i) => [i.naturalWidth, i.getBoundingClientRect().width]);
	check(qr[0] > 0 && qr[1] >= 100, `the QR code is not shown: ${qr}`);
	check((await ap.textContent('#enrol-code pre')).includes('--enrol ' + URL0), 'no command line with the hub URL');
	await ap.waitForSelector('#enrol-codes tr[data-device="ui-gate"]');
	await shot(ap, '09b-admin-enrol-code');
	ap.once('dialog', (d) => d.accept());
	await ap.click('#enrol-codes tr[data-device="ui-gate"] button');
	await ap.waitForSelector('#enrol-codes tr[data-device="ui-gate"]', { state: 'detached' });
	await shot(ap, '09-admin', { fullPage: true });
	await ap.context().close();

	step = 'property manager on a phone';
	const pp = await newPage(browser, { viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true });
	await login(pp, PM, `/incidents/${ID}`);
	await pp.waitForSelector(`#incident[data-incident="${ID}"]`);
	await imagesLoaded(pp, 'img.scene');
	await imagesLoaded(pp, '#composite');
	const width = await pp.evaluate(() => [document.documentElement.scrollWidth, window.innerWidth]);
	check(width[0] <= width[1] + 1, `the incident page is wider than the phone: ${width}`);
	await shot(pp, '10-phone-incident');
	await shot(pp, '10b-phone-incident-full', { fullPage: true });
	const pmOpts = await pp.$$eval('#outcome-form select[name=outcome] option', (os) => os.map((o) => o.value));
	check(!pmOpts.includes('fined') && !pmOpts.includes('towed'), `the property manager is offered ${pmOpts}`);
	check(pmOpts.includes('persuaded') && pmOpts.includes('false_alarm'), `the property manager lacks options: ${pmOpts}`);
	const forged = await pp.evaluate(async (id) => {
		const s = await (await fetch('/api/session')).json();
		const r = await fetch(`/api/incidents/${id}/outcome`, {
			method: 'POST', headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': s.csrf },
			body: JSON.stringify({ outcome: 'fined', note: 'forged' }),
		});
		return { status: r.status, body: await r.text() };
	}, ID);
	check(forged.status === 403, `a forged "fined" by the property manager answered ${forged.status} ${forged.body}`);

	step = 'the property manager sees only their site';
	await pp.goto(URL0 + '/incidents');
	await pp.waitForSelector(`#incidents tr[data-incident="${ID}"]`);
	check(await pp.$(`#incidents tr[data-incident="${OTHER}"]`) === null, `the property manager sees ${OTHER} of ${OTHER_SITE}`);
	const pmRows = await pp.$$eval('#incidents tbody tr td.site a', (as) => [...new Set(as.map((a) => a.title))]);
	check(pmRows.join() === SITE, `the property manager's list shows sites ${pmRows}`);
	const pmSites = await pp.$$eval('#filters select[name=site] option', (os) => os.map((o) => o.value));
	check(!pmSites.includes(OTHER_SITE), `site filter offers ${OTHER_SITE} to the property manager`);
	await shot(pp, '11-phone-incidents');
	await pp.goto(`${URL0}/incidents/${OTHER}`);
	await pp.waitForSelector('#not-found');
	check(await pp.$('#incident') === null, 'another site\'s incident was drawn');
	await pp.goto(`${URL0}/reports/weekly?site=${SITE}&date=${startDay}`);
	await pp.waitForSelector(`#weekly-incidents tr[data-incident="${ID}"]`);

	// The resident vehicle register (docs/api.md): a bad file is refused
	// naming its row, a good one imported; the owner of a recorded
	// incident's plate (A12345) shown with the phone masked, revealed on
	// request and the reveal audited.
	step = 'the list by a part of the plate';
	await pp.goto(`${URL0}/incidents?plate=a123`);
	await pp.waitForSelector('#incidents tr[data-incident="scene-edge-rec00-lane-a-1"]');
	const byPlate = await pp.$$eval('#incidents tbody tr[data-incident]', (rs) => rs.map((r) => r.dataset.incident).sort());
	check(byPlate.join() === 'scene-edge-rec00-lane-a-1,scene-edge-rec01-lane-a-1', `plate=a123 lists ${byPlate}`);

	step = 'the resident register: a bad file';
	await pp.goto(`${URL0}/register?site=${SITE}`);
	await pp.waitForSelector('#register-import');
	const residentsCsv = (text) => ({ name: 'residents.csv', mimeType: 'text/csv', buffer: Buffer.from(text, 'utf-8') });
	await pp.setInputFiles('#register-file', residentsCsv('plate,owner,unit,phone\nA12345,王先生,3 栋 2 单元,12\n'));
	await pp.click('#register-import button[type=submit]');
	await pp.waitForFunction(() => /row 2: phone/.test(document.querySelector('#register-error').textContent));
	check(await pp.$('#register tbody tr[data-plate]') === null, 'a refused file left rows');
	step = 'the resident register: import';
	await pp.setInputFiles('#register-file', residentsCsv('plate,owner,building/unit,phone\nA12345,王先生,3 栋 2 单元,138-1234-1234\n粤B00001,李女士,1 栋,13900001111\n'));
	await pp.click('#register-import button[type=submit]');
	await pp.waitForFunction(() => /2 vehicles imported/.test(document.querySelector('#register-ok').textContent));
	await pp.waitForSelector('#register tr[data-plate="A12345"]');
	const regPhone = await pp.$eval('#register tr[data-plate="A12345"] td.phone', (td) => td.textContent);
	check(regPhone === '138****1234', `the register shows the phone ${regPhone}`);
	await shot(pp, '11b-phone-register');
	step = 'the resident register: the owner on the incident';
	const REC = 'scene-edge-rec00-lane-a-1';
	await pp.goto(`${URL0}/incidents/${REC}`);
	await pp.waitForSelector('#owner');
	const owner = await pp.$eval('#owner', (e) => e.textContent);
	check(/3 栋 2 单元 王先生/.test(owner) && /138\*\*\*\*1234/.test(owner), `the owner line: ${owner}`);
	check(!(await pp.content()).includes('13812341234'), 'the page holds the phone in full before the reveal');
	await pp.click('#owner-reveal');
	await pp.waitForFunction(() => document.querySelector('#owner-phone').textContent === '13812341234');
	// (the reveal's audit row is checked in the store by browser_ui.sh)
	await shot(pp, '11c-phone-owner');
	await pp.context().close();

	await chinese(browser);
	await tampered(browser);

	step = 'login rate limit';
	const rp = await newPage(browser);
	await rp.goto(URL0 + '/login');
	let msg = '';
	for (let i = 0; i < 8 && !/try again/.test(msg); i++) {
		await rp.fill('#login input[name=user]', 'nobody-' + process.pid);
		await rp.fill('#login input[name=password]', 'guess-' + i);
		await rp.click('#login button[type=submit]');
		// the error was emptied after the last try: any text is this try's
		// answer (the same words twice in a row are still an answer)
		await rp.waitForFunction(() => document.querySelector('#login-error').textContent.length > 0);
		msg = await rp.textContent('#login-error');
		await rp.$eval('#login-error', (e) => { e.textContent = ''; });
	}
	check(/try again in \d+ s/.test(msg), `after repeated failures the login says "${msg}"`);
	await rp.evaluate((m) => { document.querySelector('#login-error').textContent = m; }, msg);
	await shot(rp, '12-login-rate-limited');
	await rp.context().close();
}

// The incident with a tampered file (docs/security.md, "2. Verified evidence
// is immutable"): one byte of composite.jpg flipped on disk, its mtime put
// back; the hub finds it when the file is asked for (410). Then the list's
// evidence column says tampered; the incident page leads its signature
// check with it, shows a marked box instead of the file and never asks for
// it (a 410 there is a failed request, which fails the run), and marks its
// row in the file table, not linked.
async function tampered(browser) {
	const TAMPERED = path.basename(TAMPER);
	const page = await newPage(browser);

	step = 'tampered: found on request';
	const st = fs.statSync(TAMPER);
	fs.chmodSync(TAMPER, 0o644);
	const fd = fs.openSync(TAMPER, 'r+');
	const b = Buffer.alloc(1);
	fs.readSync(fd, b, 0, 1, st.size >> 1);
	b[0] ^= 0x20;
	fs.writeSync(fd, b, 0, 1, st.size >> 1);
	fs.closeSync(fd);
	fs.chmodSync(TAMPER, 0o444);
	fs.utimesSync(TAMPER, st.atime, st.mtime);
	await login(page, OFFICER, `/incidents?site=${SITE}`);
	const r = await page.request.get(`${URL0}/evidence/${ID}/${TAMPERED}`);
	check(r.status() === 410 && /tampered/.test(await r.text()), `the tampered ${TAMPERED} answered ${r.status()}`);

	step = 'tampered: the list';
	await page.goto(`${URL0}/incidents?site=${SITE}`);
	await page.waitForSelector(`#incidents tr[data-incident="${ID}"]`);
	const row = await page.textContent(`#incidents tr[data-incident="${ID}"]`);
	check(row.includes('⚠ tampered') && !row.includes('✓ verified'), `the list row does not say tampered: ${row}`);
	check(await page.$(`#incidents tr[data-incident="${ID}"] td.thumb img`) === null, 'the tampered incident shows its thumbnail');
	const still = await page.request.get(`${URL0}/api/incidents/${ID}/still`);
	check(still.status() === 204, `the tampered incident's still answered ${still.status()}`);
	await shot(page, '13-incidents-tampered');

	step = 'tampered: the incident';
	await Promise.all([page.waitForURL(`**/incidents/${ID}`), page.click(`#incidents tr[data-incident="${ID}"] a >> nth=0`)]);
	await page.waitForSelector(`#incident[data-incident="${ID}"]`);
	const sig = await page.textContent('#signature');
	check(await page.$eval('#signature', (x) => x.classList.contains('bad')) && /TAMPERED/.test(sig) && sig.includes(TAMPERED),
		`#signature does not say ${TAMPERED} is tampered: ${sig}`);
	await page.waitForSelector(`.tampered-file[data-file="${TAMPERED}"]`);
	const srcs = await page.$$eval('#evidence img, #evidence video', (xs) => xs.map((x) => x.getAttribute('src') || ''));
	check(!srcs.some((x) => x.endsWith('/' + TAMPERED)), `the page asks for the tampered ${TAMPERED}: ${srcs}`);
	check(srcs.length > 0, 'the untouched files are not shown');
	await imagesLoaded(page, 'img.scene');
	const frow = await page.textContent(`#evidence-files tr.tampered[data-file="${TAMPERED}"]`);
	check(/tampered/.test(frow), `the file table's row of ${TAMPERED}: ${frow}`);
	check(await page.$(`#evidence-files tr[data-file="${TAMPERED}"] a`) === null, `${TAMPERED} is linked in the file table`);
	await shot(page, '14-incident-tampered', { fullPage: true });
	await page.context().close();
}

main().then(() => {
	if (problems.length) {
		console.error('ui.test: FAIL: the pages logged errors:\n  ' + problems.join('\n  '));
		process.exit(1);
	}
	log('ok');
}, (e) => {
	console.error(`ui.test: FAIL at "${step}": ${e.message}`);
	if (problems.length) console.error('  also:\n  ' + problems.join('\n  '));
	process.exit(1);
});
