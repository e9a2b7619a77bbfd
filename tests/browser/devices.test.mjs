// devices.test.mjs - the lane editor in a real headless Chromium (Debian's
// /usr/bin/chromium driven by playwright-core), against a real hub and a
// real edge live on a generated scene. tests/integration/browser_devices.sh
// sets them up and runs this script with:
//   FL_URL        the hub's base URL
//   FL_SHOTS      where screenshots go
//   FL_DEVICE     the device (live), FL_CAMERA its camera
//   FL_INSTALLER  "user:password" of an installer of the device's site
// The steps, as an installer would do them: log in (the UI in Chinese from
// Accept-Language), open the devices page and the device, fetch a fresh
// snapshot, draw a lane with pointer clicks on the picture, drag one of its
// points, drag the whole lane, add and delete a point, try a lane with crossing edges (refused with the reason shown,
// then deleted), name the lane (Chinese) and set its dwell, save (a new
// version), apply, and wait for the device's answer (applied). Then the
// page in English: a version whose camera cannot be opened is applied, the
// device rolls back and the page says why. Last, a phone-sized touch
// screen (a lane drawn by tapping). The page's console errors and failed requests are failures.

import fs from 'node:fs';
import { browserTest, settled, screenAt as at, drawn as lanesIn, fetchSnapshot as snapIn } from './lib.mjs';

const env = (k) => {
	const v = process.env[k];
	if (!v) throw new Error(`devices.test.mjs: ${k} is not set`);
	return v;
};
const URL0 = env('FL_URL');
const SHOTS = env('FL_SHOTS');
const DEVICE = env('FL_DEVICE');
const CAMERA = env('FL_CAMERA');
const [IUSER, ...ipw] = env('FL_INSTALLER').split(':');
const APPLY_T = 120000; // the edge answers once its cameras deliver frames

fs.mkdirSync(SHOTS, { recursive: true });
const t = browserTest('devices.test', SHOTS);
const { check, log, shot } = t;
const newPage = t.newPage;

async function login(page) {
	await page.goto(URL0 + '/login');
	await page.fill('#login input[name=user]', IUSER);
	await page.fill('#login input[name=password]', ipw.join(':'));
	await Promise.all([
		page.waitForURL((u) => u.pathname !== '/login'),
		page.click('#login button[type=submit]'),
	]);
	await page.waitForSelector('#whoami .user');
}

const stageSel = `section.camera[data-camera="${CAMERA}"]`;
const screenAt = (page, x, y) => at(page, stageSel, x, y);
const drawn = (page) => lanesIn(page, stageSel);
const fetchSnapshot = (page) => snapIn(page, stageSel);

async function statusIs(page, state) {
	await page.waitForFunction(([sel, st]) => document.querySelector(`${sel} .lane-status`)?.dataset.state === st,
		[stageSel, state]);
	return page.textContent(`${stageSel} .lane-status`);
}

async function drawLane(page, points, tap) {
	await page.click(`${stageSel} #new-lane`);
	for (const [x, y] of points) {
		const [sx, sy] = await screenAt(page, x, y);
		if (tap) await page.touchscreen.tap(sx, sy);
		else await page.mouse.click(sx, sy);
	}
	await page.click(`${stageSel} button.finish`);
}

async function run(browser) {
	t.step = 'log in as installer (Chinese)';
	const page = await newPage(browser, { locale: 'zh-CN' });
	await login(page);
	await settled(page);
	check(new URL(page.url()).pathname === '/devices', `an installer lands on ${page.url()}`);
	const nav = await page.$$eval('#nav a[data-nav]', (as) => as.filter((a) => !a.hidden).map((a) => a.dataset.nav));
	check(nav.join() === 'fleet,devices', `the installer's navigation: ${nav}`);
	await page.waitForSelector(`#devices tr[data-device="${DEVICE}"]`);
	await shot(page, 'zh-devices-01-list');

	t.step = 'open the device';
	await page.click(`#devices tr[data-device="${DEVICE}"] a`);
	await settled(page);
	await page.waitForSelector(stageSel);

	t.step = 'fresh snapshot';
	await fetchSnapshot(page);
	const n0 = (await drawn(page)).length;
	check(n0 >= 1, 'the device\'s lanes are not drawn over the picture');

	t.step = 'draw a lane';
	await drawLane(page, [[190, 200], [290, 200], [265, 118], [215, 118]]);
	const ok = await statusIs(page, 'ok');
	check((await drawn(page)).length === n0 + 1, 'the new lane is not drawn');
	log(`drawn: ${ok}`);

	t.step = 'drag a point';
	const before = (await drawn(page))[n0];
	const [hx, hy] = await screenAt(page, 290, 200);
	await page.mouse.move(hx, hy);
	await page.mouse.down();
	const [tx, ty] = await screenAt(page, 296, 204);
	await page.mouse.move(tx, ty, { steps: 5 });
	await page.mouse.up();
	await statusIs(page, 'ok');
	const after = (await drawn(page))[n0];
	check(before !== after && after.includes('296,204'), `the point did not move: ${before} -> ${after}`);

	t.step = 'drag the whole lane';
	const [ix, iy] = await screenAt(page, 240, 170);
	await page.mouse.move(ix, iy);
	await page.mouse.down();
	const [jx, jy] = await screenAt(page, 243, 172);
	await page.mouse.move(jx, jy, { steps: 5 });
	await page.mouse.up();
	await statusIs(page, 'ok');
	const moved = (await drawn(page))[n0];
	check(moved === '193,202 299,206 268,120 218,120', `the lane did not move as a whole: ${after} -> ${moved}`);

	t.step = 'add and delete a point';
	const npts = async () => (await drawn(page))[n0].split(' ').length;
	await page.click(`${stageSel} button.add-point`);
	await statusIs(page, 'ok');
	check(await npts() === 5, `add point: ${(await drawn(page))[n0]}`);
	await page.click(`${stageSel} button.del-point`); // the point just added is selected
	check(await npts() === 4, `delete point: ${(await drawn(page))[n0]}`);
	check((await drawn(page))[n0] === moved, `not the same lane after add and delete: ${(await drawn(page))[n0]}`);

	t.step = 'a lane with crossing edges';
	await drawLane(page, [[20, 20], [120, 120], [120, 20], [20, 120]]);
	const bad = await statusIs(page, 'bad');
	check(/自相交|self-intersecting/.test(bad), `the crossing lane's reason: ${bad}`);
	check(await page.$(`${stageSel} svg.lanes .lane.bad`), 'the crossing lane is not marked');
	await shot(page, 'zh-devices-02-crossing');
	page.once('dialog', (d) => d.accept());
	await page.click(`${stageSel} button.del-lane`);
	await page.waitForFunction(([sel, n]) => document.querySelectorAll(`${sel} svg.lanes .lane`).length === n, [stageSel, n0 + 1]);

	t.step = 'name the lane, set its dwell';
	const [cx, cy] = await screenAt(page, 240, 170);
	await page.mouse.click(cx, cy); // select the new lane (drawn last: on top)
	await page.waitForSelector(`${stageSel} .lane-form input[name="lane-name"]`);
	await page.fill(`${stageSel} .lane-form input[name="lane-name"]`, '新车道');
	await page.fill(`${stageSel} .lane-form input[name="lane-dwell_s"]`, '3');
	await page.press(`${stageSel} .lane-form input[name="lane-dwell_s"]`, 'Tab');
	check((await page.textContent(`${stageSel} .lane-form .setting[data-key="dwell_s"] .help`)).length > 10, 'no help text');

	t.step = 'show what the detector sees';
	await page.check(`${stageSel} input[name=mask]`);
	await page.waitForFunction((sel) => {
		const m = document.querySelector(`${sel} img.mask`);
		return m && !m.hidden && m.complete && m.naturalWidth > 0;
	}, stageSel);
	await shot(page, 'zh-devices-03-lane');

	t.step = 'save';
	await page.click(`${stageSel} button.save`);
	await page.waitForSelector(`${stageSel} .ok:not(:empty)`);
	await page.waitForFunction(() => document.querySelector('#versions tbody tr')?.dataset.version === '2');

	t.step = 'apply';
	await page.click('#apply');
	await page.waitForFunction(() => ['applied', 'refused'].includes(document.querySelector('#apply-state')?.dataset.state),
		null, { timeout: APPLY_T });
	const applied = await page.textContent('#apply-state');
	check(await page.$('#apply-state[data-state="applied"]'), `the device did not apply: ${applied}`);
	await shot(page, 'zh-devices-04-applied');

	t.step = 'English';
	const en = await newPage(browser, { locale: 'en-US' });
	await login(en);
	await en.goto(`${URL0}/devices/${DEVICE}`);
	await settled(en);
	await en.waitForSelector(stageSel);
	check((await en.textContent('#apply-state')).includes('applied'), 'English: not applied');
	await shot(en, 'en-devices-01-device');

	t.step = 'a camera that cannot be opened';
	// a version with a source that does not exist, saved through the API
	// (the editor edits lanes, not sources); applying it: the device rolls
	// back and the page says why
	const sess = await (await en.request.get(`${URL0}/api/session`)).json();
	const conf = await (await en.request.get(`${URL0}/api/devices/${DEVICE}/config`)).json();
	const yaml = conf.yaml.replace(/source: .*/, 'source: /nonexistent/cam.mp4').replace(/^device:\n/m, 'device:\n  apply_timeout_s: 2\n').replace(/^device: \{/m, 'device: {apply_timeout_s: 2, ');
	check(yaml.includes('apply_timeout_s: 2'), `no apply_timeout_s set in: ${yaml}`);
	const put = await en.request.put(`${URL0}/api/devices/${DEVICE}/config`,
		{ headers: { 'X-CSRF-Token': sess.csrf }, data: { base_version: conf.version, yaml } });
	check(put.ok(), `PUT the bad camera: ${put.status()} ${await put.text()}`);
	await en.reload();
	await settled(en);
	await en.click('#apply');
	await en.waitForSelector('#apply-state[data-state="refused"]', { timeout: APPLY_T });
	const refused = await en.textContent('#apply-state');
	check(/rolled back to version 2/.test(refused), `the refusal does not say why: ${refused}`);
	await shot(en, 'en-devices-02-rolled-back');

	t.step = 'a phone, touch';
	const ph = await newPage(browser, { locale: 'zh-CN', viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true });
	await login(ph);
	await ph.goto(`${URL0}/devices/${DEVICE}`);
	await settled(ph);
	await ph.waitForSelector(stageSel);
	await fetchSnapshot(ph);
	const before2 = (await drawn(ph)).length;
	await drawLane(ph, [[30, 250], [120, 250], [100, 200], [40, 200]], true);
	await statusIs(ph, 'ok');
	check((await drawn(ph)).length === before2 + 1, 'no lane drawn by touch');
	const wide = await ph.evaluate(() => document.documentElement.scrollWidth);
	check(wide <= 390 + 1, `the page is wider than the phone: ${wide}`);
	await shot(ph, 'zh-devices-05-phone');
}

t.main(run, 'FAILURE-devices');
