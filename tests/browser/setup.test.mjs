// setup.test.mjs - the whole set-up of a device by an installer, in a real
// headless Chromium (Debian's /usr/bin/chromium driven by playwright-core),
// against a real hub behind nginx with TLS. tests/integration/
// setup_browser.sh sets the parts up and runs this script with:
//   FL_URL        the hub's base URL (https, a self-signed certificate)
//   FL_SHOTS      where screenshots go (setup-* names)
//   FL_INSTALLER  "user:password" of an installer of FL_SITE
//   FL_SITE       the installer's site
//   FL_DEVICE     the id of the device to add, FL_CAMERA its camera
//   FL_CODE_FILE  where this script writes the enrolment code it got
//   FL_READY_FILE made by setup_browser.sh once the device has enrolled
//                 with that code and its edge is online
//   FL_LANE       the lane to draw, "x,y x,y ..." in the picture's pixels
//   FL_LANE_NAME  its name (Chinese)
// The steps, as an installer would do them, in Chinese (Accept-Language):
// log in, add the device on the devices page and read its one-time code;
// (the shell script enrols the device with the code and starts its edge;)
// see the device online, open it, fetch a fresh snapshot, draw the lane
// with pointer clicks, name it, set a dwell of 3 s, save, apply, and wait
// until the page says the device applied it. Last, the header's language
// switch to English and the main pages again. A screenshot of each step.
// The page's console errors and failed requests are failures. The roll-back
// of a camera that cannot be opened is tested once, in devices.test.mjs.

import fs from 'node:fs';
import { browserTest, settled, screenAt, drawn, fetchSnapshot } from './lib.mjs';

const env = (k) => {
	const v = process.env[k];
	if (!v) throw new Error(`setup.test.mjs: ${k} is not set`);
	return v;
};
const URL0 = env('FL_URL');
const SHOTS = env('FL_SHOTS');
const [IUSER, ...ipw] = env('FL_INSTALLER').split(':');
const SITE = env('FL_SITE');
const DEVICE = env('FL_DEVICE');
const CAMERA = env('FL_CAMERA');
const CODE_FILE = env('FL_CODE_FILE');
const READY_FILE = env('FL_READY_FILE');
const LANE = env('FL_LANE').split(' ').map((p) => p.split(',').map(Number));
const LANE_NAME = env('FL_LANE_NAME');
const READY_T = 180000; // enrolment and the edge's start, by the shell script
const APPLY_T = 120000;

fs.mkdirSync(SHOTS, { recursive: true });
const t = browserTest('setup.test', SHOTS);
const { check, log } = t;
const shot = (page, name) => t.shot(page, `setup-${name}`);
const sleep = (ms) => new Promise((res) => setTimeout(res, ms));
const stageSel = `section.camera[data-camera="${CAMERA}"]`;

async function run(browser) {
	t.step = 'log in as installer (Chinese)';
	const page = await t.newPage(browser, { locale: 'zh-CN', ignoreHTTPSErrors: true });
	await page.goto(URL0 + '/login');
	// the words come after the page's load: the header's language switch
	// is drawn once they are there
	await page.waitForSelector('#lang-switch', { state: 'attached' });
	check(await page.evaluate(() => document.documentElement.lang) === 'zh-CN', 'the login page is not in Chinese');
	await page.fill('#login input[name=user]', IUSER);
	await page.fill('#login input[name=password]', ipw.join(':'));
	await Promise.all([page.waitForURL((u) => u.pathname !== '/login'), page.click('#login button[type=submit]')]);
	await settled(page);
	check(new URL(page.url()).pathname === '/devices', `an installer lands on ${page.url()}`);
	check(!(await page.$(`#devices tr[data-device="${DEVICE}"]`)), 'the device is listed before it was added');
	await shot(page, 'zh-01-devices');

	t.step = 'add the device, get its code';
	await page.fill('#add-device input[name=device]', DEVICE);
	check(await page.inputValue('#add-device select[name=site]') === SITE, 'the site is not the installer\'s');
	await page.click('#add-device button[type=submit]');
	await page.waitForSelector('#enrol-code-text');
	const code = (await page.textContent('#enrol-code-text')).trim();
	check(/^[234679ACDEFGHJKMNPQRTUVWXYZ]{8}$/.test(code), `the code: ${code}`);
	check(await page.isVisible('#enrol-qr'), 'no QR code');
	check((await page.textContent('#add-device-out pre')).includes(`--enrol ${URL0} ${code}`), 'the command does not name the hub and the code');
	await page.waitForSelector(`#enrol-codes tr[data-device="${DEVICE}"]`);
	await shot(page, 'zh-02-code');
	fs.writeFileSync(CODE_FILE + '.tmp', code + '\n');
	fs.renameSync(CODE_FILE + '.tmp', CODE_FILE);
	log(`code ${code} for ${DEVICE}`);

	t.step = 'wait for the device (enrolled, its edge started)';
	for (const t0 = Date.now(); !fs.existsSync(READY_FILE); await sleep(200))
		check(Date.now() - t0 < READY_T, 'the device was not enrolled and online in time');

	t.step = 'the device online';
	await page.goto(URL0 + '/devices');
	await settled(page);
	await page.waitForSelector(`#devices tr[data-device="${DEVICE}"] .dev-online`);
	check(!(await page.$(`#enrol-codes tr[data-device="${DEVICE}"]`)), 'the used code is still pending');
	await shot(page, 'zh-03-online');

	t.step = 'open the device, fresh snapshot';
	await page.click(`#devices tr[data-device="${DEVICE}"] a`);
	await settled(page);
	await page.waitForSelector(stageSel);
	await fetchSnapshot(page, stageSel);
	const n0 = (await drawn(page, stageSel)).length;
	await shot(page, 'zh-04-snapshot');

	t.step = 'draw the lane';
	await page.click(`${stageSel} #new-lane`);
	for (const [x, y] of LANE) {
		const [sx, sy] = await screenAt(page, stageSel, x, y);
		await page.mouse.click(sx, sy);
	}
	await page.click(`${stageSel} button.finish`);
	await page.waitForFunction((sel) => document.querySelector(`${sel} .lane-status`)?.dataset.state === 'ok', stageSel);
	const lanes = await drawn(page, stageSel);
	check(lanes.length === n0 + 1 && lanes[n0] === LANE.map((p) => p.join(',')).join(' '), `the lane drawn: ${lanes}`);

	t.step = 'name the lane, a short dwell';
	const cx = LANE.reduce((s, p) => s + p[0], 0) / LANE.length;
	const cy = LANE.reduce((s, p) => s + p[1], 0) / LANE.length;
	const [px, py] = await screenAt(page, stageSel, cx, cy);
	await page.mouse.click(px, py); // select it (drawn last: on top)
	await page.waitForSelector(`${stageSel} .lane-form input[name="lane-name"]`);
	await page.fill(`${stageSel} .lane-form input[name="lane-name"]`, LANE_NAME);
	await page.fill(`${stageSel} .lane-form input[name="lane-dwell_s"]`, '3');
	await page.press(`${stageSel} .lane-form input[name="lane-dwell_s"]`, 'Tab');
	await shot(page, 'zh-05-lane');

	t.step = 'save and apply';
	await page.click(`${stageSel} button.save`);
	await page.waitForSelector(`${stageSel} .ok:not(:empty)`);
	await page.waitForFunction(() => document.querySelector('#versions tbody tr')?.dataset.version === '2');
	await page.click('#apply');
	await page.waitForFunction(() => ['applied', 'refused'].includes(document.querySelector('#apply-state')?.dataset.state),
		null, { timeout: APPLY_T });
	const applied = await page.textContent('#apply-state');
	check(await page.$('#apply-state[data-state="applied"]'), `the device did not apply: ${applied}`);
	log(`applied: ${applied}`);
	await shot(page, 'zh-06-applied');

	t.step = 'English (the header\'s switch)';
	await Promise.all([page.waitForNavigation(), page.selectOption('#lang-switch', 'en')]);
	await settled(page);
	await page.waitForSelector(stageSel);
	check(await page.evaluate(() => document.documentElement.lang) === 'en', 'the switch did not change the language');
	check((await page.textContent('#apply-state')).includes('applied'), 'English: not applied');
	await shot(page, 'en-01-device');
	await page.goto(URL0 + '/devices');
	await settled(page);
	await page.waitForSelector(`#devices tr[data-device="${DEVICE}"] .dev-online`);
	await shot(page, 'en-02-devices');
	await page.goto(URL0 + '/fleet');
	await settled(page);
	await shot(page, 'en-03-fleet');
}

t.main(run, 'setup-FAILURE');
