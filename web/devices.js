// devices.js - the /devices pages (admins and installers; docs/devices.md):
// the devices of the user's sites with their status and "add a device"
// (enrol.js: a one-time code for one of the user's sites), and per device
// (/devices/ID) its cameras, each with a fresh snapshot fetched from the
// device and the lanes drawn over it - the lane editor.
//
// A note on the editor. The picture is an <img>; the lanes are an <svg>
// over it whose viewBox is the lane coordinate space (the camera's frame in
// pixels, as the snapshot says), so a lane's points are the file's numbers
// and the browser does the scaling. Mouse, pen and touch are one thing:
// Pointer Events on the svg (touch-action: none in app.css), with the
// pointer captured while a point or a lane is dragged. A click on the
// picture adds a point to the lane being drawn, a drag of a handle moves
// that point, a drag inside a lane moves the whole lane. The edge's rules
// (3..16 points, no crossing edges, an area) are never written again here:
// every change asks the hub (POST /api/lanes/check, the edge's own code)
// and the lane turns red with the reason. Saving sends the camera's lanes
// (PUT .../config: a new version); applying sends a version to the device
// and polls until the device's outcome is in.

import { api, el, svg, table, field, fmtTime, fmtAge, setTitle, t } from './ui.js';
import { enrolCodeSection } from './enrol.js';

const POLL_MS = 1000;
const MAX_POINTS = 16;

// A machine code of this page's answers in the user's words.
function why(e) {
	const words = {
		invalid_config: t('the configuration is not valid'),
		no_answer: t('the device did not answer'),
		device_refused: t('the device refused'),
	}[e.code];
	return words ? `${words}: ${e.message}` : e.code ? `${t(`error.${e.code}`)}: ${e.message}` : e.message;
}

function statusText(s) {
	return { online: '● ' + t('online'), offline: '✖ ' + t('offline'), stopped: '■ ' + t('stopped') }[s] || t('never seen');
}

// ---- the list --------------------------------------------------------------

// The version the device says it runs (its heartbeat's config_version; 0:
// its own file, never applied from the hub).
function configRunning(hb) {
	const v = hb && hb.config_version;
	if (v === undefined || v === null) return '–';
	return v ? t('version {v}', { v }) : t('its own file');
}

export async function devicesPage(page) {
	setTitle(t('Devices'));
	const [devices, codes] = await Promise.all([api('GET', '/api/devices').then((j) => j.devices),
		api('GET', '/api/devices/enrol-codes').then((j) => j.codes)]);
	page.append(el('h1', null, t('Devices')),
		el('p.hint', null, t('Choose a device to see its cameras and draw its lanes.')),
		table({ id: 'devices' }, [t('Device'), t('Site'), t('Status'), t('Last heard'), t('Configuration running')],
			devices.length ? devices.map((d) => el('tr', { dataset: { device: d.device } },
				el('td', null, el('a', { href: `/devices/${encodeURIComponent(d.device)}` }, d.device)),
				el('td', null, d.site),
				el('td', null, el(`span.device-status.dev-${d.status || 'never'}`, null, statusText(d.status))),
				el('td', null, fmtAge(d.last_seen)),
				el('td', null, configRunning(d.heartbeat)))) :
				[el('tr.empty', null, el('td', { colspan: 5 }, t('No devices enrolled.')))]),
		enrolCodeSection(codes));
}

// ---- one device --------------------------------------------------------------

export async function devicePage(page, ctx) {
	const id = decodeURIComponent(ctx.match[1]);
	setTitle(t('Device {id}', { id }));
	const base = `/api/devices/${encodeURIComponent(id)}`;
	const [conf, schema] = await Promise.all([api('GET', `${base}/config`), api('GET', '/api/schema/lane')]);
	const state = { conf, schema: schema.settings, base, timers: [] };
	ctx.onLeave(() => state.timers.forEach(clearInterval));
	const box = el('div#device-box');
	page.append(el('p', null, el('a', { href: '/devices' }, '← ' + t('Devices'))),
		el('h1', null, t('Device {id}', { id })), box);
	drawDevice(box, state);
}

function drawDevice(box, state) {
	const c = state.conf;
	const cams = c.cameras.map((cam) => cameraEditor(cam, state, () => reload(box, state)));
	box.replaceChildren(...[
		el('p.summary#config-summary', null, t('Site {site}, configuration version {v}', { site: c.site_name || c.site, v: c.version })),
		c.invalid ? el('p.error#config-invalid', { role: 'alert' }, t('The stored configuration is not valid: {why}', { why: c.invalid.error })) : null,
		...cams,
		applySection(box, state),
		versionsSection(c.versions),
	].filter(Boolean));
}

async function reload(box, state) {
	state.conf = await api('GET', `${state.base}/config`);
	drawDevice(box, state);
}

// ---- apply and versions -------------------------------------------------------

// A version's outcome: never sent (applied null), sent and waiting
// (apply_ok null; applied: when), applied or refused (applied: when).
function outcome(v) {
	if (v.applied == null) return '';
	if (v.apply_ok == null) return '⏳ ' + t('sent, waiting for the device');
	return v.apply_ok ? '✓ ' + t('applied {when}', { when: fmtTime(v.applied) }) : '✗ ' + t('refused: {why}', { why: v.apply_error || '' });
}

function applySection(box, state) {
	const latest = state.conf.versions[0];
	const msg = el('p#apply-state', { 'aria-live': 'polite', dataset: { state: latest ? stateOf(latest) : 'none' } }, latest ? outcome(latest) : '');
	const btn = el('button#apply', {
		type: 'button',
		onclick: async () => {
			btn.disabled = true;
			try {
				await api('POST', `${state.base}/config/apply`, { version: state.conf.version });
				msg.dataset.state = 'pending';
				msg.textContent = '⏳ ' + t('sent, waiting for the device');
				poll(box, state, state.conf.version, msg);
			} catch (e) {
				btn.disabled = false;
				msg.dataset.state = 'error';
				msg.textContent = why(e);
			}
		},
	}, t('Apply version {v} to the device', { v: state.conf.version }));
	return el('section.section#apply-box', null, el('h2', null, t('Apply')),
		el('p.hint', null, t('The device checks the configuration, applies it and keeps the previous one; if a camera does not deliver pictures with it, the device goes back to the previous one and says why.')),
		el('div.buttons', null, btn), msg);
}

function stateOf(v) {
	if (v.apply_ok == null) return v.applied == null ? 'none' : 'pending';
	return v.apply_ok ? 'applied' : 'refused';
}

function poll(box, state, version, msg) {
	const timer = setInterval(async () => {
		let c;
		try {
			c = await api('GET', `${state.base}/config`);
		} catch (e) {
			return; // the next tick tries again
		}
		const v = c.versions.find((x) => x.version === version);
		if (!v || v.apply_ok == null) return;
		clearInterval(timer);
		state.conf = c;
		drawDevice(box, state);
	}, POLL_MS);
	state.timers.push(timer);
}

function versionsSection(versions) {
	return el('section.section#versions-box', null, el('h2', null, t('Versions')),
		table({ id: 'versions' }, [t('Version'), t('Author'), t('Saved'), t('Note'), t('Sent to the device')],
			versions.map((v) => el('tr', { dataset: { version: v.version, state: stateOf(v) } },
				el('td.num', null, String(v.version)), el('td', null, v.author), el('td.time', null, fmtTime(v.created)),
				el('td', null, v.note || ''), el('td', null, outcome(v))))));
}

// ---- one camera: the picture and its lanes ------------------------------------

function cameraEditor(cam, state, saved) {
	const ed = {
		cam, state,
		lanes: structuredClone(cam.lanes),
		width: cam.width || 0, height: cam.height || 0,
		sel: -1, selPoint: -1, drawing: false, problems: {},
	};
	const img = el('img.snapshot', { alt: t('Snapshot of camera {cam}', { cam: cam.id }), hidden: true });
	const mask = el('img.mask', { alt: '', hidden: true });
	const layer = svg('svg', { class: 'lanes', preserveAspectRatio: 'none' });
	const stage = el('div.stage', { dataset: { camera: cam.id } }, img, mask, layer);
	const status = el('p.lane-status', { 'aria-live': 'polite' });
	const form = el('div.lane-form');
	const showMask = el('input', { type: 'checkbox', name: 'mask' });
	const snapBtn = el('button.snap', { type: 'button' }, t('Fresh snapshot'));
	const err = el('p.error', { role: 'alert' });
	const ok = el('p.ok', { 'aria-live': 'polite' });
	Object.assign(ed, { img, mask, layer, stage, status, form, err, ok, showMask });

	snapBtn.addEventListener('click', () => snapshot(ed, snapBtn));
	showMask.addEventListener('change', () => {
		if (showMask.checked && !ed.maskUrl) snapshot(ed, snapBtn);
		mask.hidden = !(showMask.checked && ed.maskUrl);
	});
	layer.addEventListener('pointerdown', (ev) => pointerDown(ed, ev));
	layer.addEventListener('pointermove', (ev) => pointerMove(ed, ev));
	layer.addEventListener('pointerup', (ev) => pointerUp(ed, ev));
	layer.addEventListener('pointercancel', () => { ed.drag = null; });

	const tools = el('div.buttons.lane-tools', null,
		el('button#new-lane', { type: 'button', onclick: () => startLane(ed) }, t('New lane')),
		el('button.finish', { type: 'button', onclick: () => finishLane(ed) }, t('Finish lane')),
		el('button.add-point', { type: 'button', onclick: () => addPoint(ed) }, t('Add point')),
		el('button.del-point', { type: 'button', onclick: () => deletePoint(ed) }, t('Delete point')),
		el('button.danger.del-lane', { type: 'button', onclick: () => deleteLane(ed) }, t('Delete lane')));
	const save = el('button.save', { type: 'button', onclick: () => saveLanes(ed, saved) }, t('Save as a new version'));
	const section = el('section.section.camera', { dataset: { camera: cam.id } },
		el('h2', null, t('Camera {cam}', { cam: cam.id })),
		el('div.buttons.snap-tools', null, snapBtn,
			el('label.check', null, showMask, ' ' + t('Show what the detector sees'))),
		stage, status, tools,
		el('p.hint', null, t('Click or tap on the picture to add points to a new lane; drag a point to move it, drag inside a lane to move the whole lane.')),
		form, el('div.buttons', null, save), err, ok);
	if (ed.width && ed.height) setSize(ed, ed.width, ed.height);
	draw(ed);
	if (cam.snapshot) showSnapshot(ed, cam.snapshot); // the last one fetched
	return section;
}

function setSize(ed, w, h) {
	ed.width = w;
	ed.height = h;
	ed.layer.setAttribute('viewBox', `0 0 ${w} ${h}`);
	ed.stage.classList.add('sized');
}

function showPicture(ed, url, w, h) {
	ed.imgUrl = url;
	ed.img.src = url;
	ed.img.hidden = false;
	if (!ed.width || !ed.height) setSize(ed, w, h);
}

// A snapshot's answer ({time, width, height, url, mask_url}) on the stage.
function showSnapshot(ed, s) {
	setSize(ed, s.width, s.height);
	showPicture(ed, s.url, s.width, s.height);
	ed.maskUrl = s.mask_url || null;
	if (ed.maskUrl) ed.mask.src = ed.maskUrl;
	ed.mask.hidden = !(ed.showMask.checked && ed.maskUrl);
	ed.stage.dataset.snapshot = String(s.time);
	ed.status.textContent = t('Picture of {when}', { when: fmtTime(s.time) });
	draw(ed);
}

async function snapshot(ed, btn) {
	btn.disabled = true;
	ed.err.textContent = '';
	ed.status.textContent = '⏳ ' + t('asking the device for a picture…');
	try {
		showSnapshot(ed, await api('POST', `${ed.state.base}/cameras/${encodeURIComponent(ed.cam.id)}/snapshot`, { mask: true }));
	} catch (e) {
		ed.status.textContent = '';
		ed.err.textContent = why(e);
	}
	btn.disabled = false;
}

// ---- drawing -----------------------------------------------------------------

function draw(ed) {
	const r = Math.max(4, Math.round((ed.width || 640) / 90));
	const items = [];
	ed.lanes.forEach((lane, i) => {
		const pts = lane.polygon || [];
		const bad = ed.problems[i];
		const cls = `lane${i === ed.sel ? ' selected' : ''}${bad ? ' bad' : ''}`;
		const closed = !(ed.drawing && i === ed.sel);
		items.push(svg(closed ? 'polygon' : 'polyline', {
			class: cls, points: pts.map((p) => p.join(',')).join(' '), dataset: { lane: i },
		}));
		if (pts.length)
			items.push(svg('text', { class: 'lane-name', x: pts[0][0], y: pts[0][1] - r }, lane.name || lane.id));
		if (i === ed.sel)
			pts.forEach((p, k) => items.push(svg('circle', {
				class: `handle${k === ed.selPoint ? ' on' : ''}`, cx: p[0], cy: p[1], r, dataset: { lane: i, point: k },
			})));
	});
	ed.layer.replaceChildren(...items);
	ed.stage.dataset.lanes = String(ed.lanes.length);
	drawForm(ed);
}

// The picture's coordinates of a pointer event.
function at(ed, ev) {
	const b = ed.layer.getBoundingClientRect();
	const x = ((ev.clientX - b.left) * ed.width) / b.width;
	const y = ((ev.clientY - b.top) * ed.height) / b.height;
	return [Math.round(Math.min(ed.width, Math.max(0, x))), Math.round(Math.min(ed.height, Math.max(0, y)))];
}

function pointerDown(ed, ev) {
	if (!ed.width) return;
	ev.preventDefault();
	const d = ev.target.dataset || {};
	const p = at(ed, ev);
	ed.drag = { start: p, moved: false, lane: -1, point: -1 };
	if (!ed.drawing && d.point !== undefined) {
		ed.sel = Number(d.lane);
		ed.selPoint = Number(d.point);
		ed.drag.lane = ed.sel;
		ed.drag.point = ed.selPoint;
	} else if (!ed.drawing && d.lane !== undefined) {
		ed.sel = Number(d.lane);
		ed.selPoint = -1;
		ed.drag.lane = ed.sel;
		ed.drag.orig = structuredClone(ed.lanes[ed.sel].polygon);
	} else if (!ed.drawing) {
		ed.sel = -1;
		ed.selPoint = -1;
	}
	ed.layer.setPointerCapture(ev.pointerId);
	draw(ed);
}

function pointerMove(ed, ev) {
	const g = ed.drag;
	if (!g || g.lane < 0) return;
	const p = at(ed, ev);
	const dx = p[0] - g.start[0];
	const dy = p[1] - g.start[1];
	if (!g.moved && Math.hypot(dx, dy) < 2) return;
	g.moved = true;
	const lane = ed.lanes[g.lane];
	if (g.point >= 0) lane.polygon[g.point] = p;
	else lane.polygon = g.orig.map(([x, y]) => [clamp(x + dx, ed.width), clamp(y + dy, ed.height)]);
	draw(ed);
}

function clamp(v, hi) {
	return Math.min(hi, Math.max(0, v));
}

function pointerUp(ed, ev) {
	const g = ed.drag;
	ed.drag = null;
	if (!g) return;
	if (ed.drawing && !g.moved) {
		const lane = ed.lanes[ed.sel];
		if (lane.polygon.length >= MAX_POINTS) {
			ed.status.textContent = t('A lane has at most {n} points.', { n: MAX_POINTS });
			return;
		}
		lane.polygon.push(at(ed, ev));
		draw(ed);
		if (lane.polygon.length >= 3) check(ed, ed.sel);
		return;
	}
	if (g.moved) check(ed, g.lane);
}

// The edge's rules for lane i, from the hub; the lane turns red with the
// reason until it is right.
async function check(ed, i) {
	const lane = ed.lanes[i];
	if (!lane) return;
	const poly = structuredClone(lane.polygon);
	let r;
	try {
		r = await api('POST', '/api/lanes/check', { polygon: poly });
	} catch (e) {
		ed.status.textContent = why(e);
		return;
	}
	if (ed.lanes[i] !== lane || JSON.stringify(lane.polygon) !== JSON.stringify(poly)) return; // changed meanwhile
	if (r.ok) delete ed.problems[i];
	else ed.problems[i] = r.reason;
	ed.status.textContent = r.ok ? t('Lane {name}: ok', { name: lane.name || lane.id }) :
		'⚠ ' + t('Lane {name}: {why}', { name: lane.name || lane.id, why: r.reason });
	ed.status.dataset.state = r.ok ? 'ok' : 'bad';
	draw(ed);
}

function newId(ed) {
	for (let n = ed.lanes.length + 1; ; n++) {
		const id = `lane-${n}`;
		if (!ed.lanes.some((l) => l.id === id)) return id;
	}
}

function startLane(ed) {
	if (!ed.width) {
		ed.err.textContent = t('Fetch a snapshot first.');
		return;
	}
	const id = newId(ed);
	ed.lanes.push({ id, name: id, polygon: [] });
	ed.sel = ed.lanes.length - 1;
	ed.selPoint = -1;
	ed.drawing = true;
	ed.status.textContent = t('Click or tap the corners of the lane, then "Finish lane".');
	draw(ed);
}

function finishLane(ed) {
	if (!ed.drawing) return;
	const lane = ed.lanes[ed.sel];
	if (lane.polygon.length < 3) {
		ed.status.textContent = t('A lane needs at least 3 points.');
		return;
	}
	ed.drawing = false;
	draw(ed);
	check(ed, ed.sel);
}

// A point in the middle of the selected point's next edge (or of the
// longest edge).
function addPoint(ed) {
	const lane = ed.lanes[ed.sel];
	if (!lane || ed.drawing) return;
	const p = lane.polygon;
	if (p.length >= MAX_POINTS) {
		ed.status.textContent = t('A lane has at most {n} points.', { n: MAX_POINTS });
		return;
	}
	let k = ed.selPoint;
	if (k < 0) {
		let best = -1;
		p.forEach((a, j) => {
			const b = p[(j + 1) % p.length];
			const len = Math.hypot(b[0] - a[0], b[1] - a[1]);
			if (len > best) { best = len; k = j; }
		});
	}
	const a = p[k];
	const b = p[(k + 1) % p.length];
	p.splice(k + 1, 0, [Math.round((a[0] + b[0]) / 2), Math.round((a[1] + b[1]) / 2)]);
	ed.selPoint = k + 1;
	draw(ed);
	check(ed, ed.sel);
}

function deletePoint(ed) {
	const lane = ed.lanes[ed.sel];
	if (!lane || ed.selPoint < 0) return;
	if (lane.polygon.length <= 3 && !ed.drawing) {
		ed.status.textContent = t('A lane needs at least 3 points.');
		return;
	}
	lane.polygon.splice(ed.selPoint, 1);
	ed.selPoint = -1;
	draw(ed);
	if (!ed.drawing) check(ed, ed.sel);
}

function deleteLane(ed) {
	const lane = ed.lanes[ed.sel];
	if (!lane || !confirm(t('Delete lane {name}?', { name: lane.name || lane.id }))) return;
	ed.lanes.splice(ed.sel, 1);
	ed.problems = {};
	ed.status.textContent = '';
	delete ed.status.dataset.state;
	ed.sel = -1;
	ed.selPoint = -1;
	ed.drawing = false;
	draw(ed);
}

// ---- the selected lane's settings -----------------------------------------------

function settingInput(ed, lane, s) {
	const v = lane[s.key] ?? s.default;
	const set = (x) => { lane[s.key] = x; };
	const name = `lane-${s.key}`;
	if (s.type === 'bool')
		return el('input', { type: 'checkbox', name, checked: v === true, onchange: (e) => set(e.target.checked) });
	if (s.type === 'number' || s.type === 'integer')
		return el('input', {
			type: 'number', name, value: v, min: s.min, max: s.max, step: s.type === 'integer' ? 1 : 'any',
			onchange: (e) => set(e.target.value === '' ? undefined : Number(e.target.value)),
		});
	if (s.type === 'list') // unset: empty, the table's default as the hint
		return el('input', {
			name, value: Array.isArray(v) ? v.join(', ') : '', placeholder: String(s.default ?? s.format),
			onchange: (e) => set(e.target.value.split(',').map((x) => x.trim()).filter(Boolean)),
		});
	return el('input', {
		name, value: v ?? '', required: s.required, onchange: (e) => {
			set(e.target.value);
			draw(ed);
		},
	});
}

function drawForm(ed) {
	const lane = ed.lanes[ed.sel];
	if (!lane || ed.drawing) {
		ed.form.replaceChildren(...(ed.lanes.length ? [el('p.hint', null, t('Select a lane on the picture to see its settings.'))] : []));
		delete ed.form.dataset.lane;
		return;
	}
	if (ed.form.dataset.lane === String(ed.sel) && ed.form.dataset.id === lane.id && ed.form.childElementCount) return;
	ed.form.dataset.lane = String(ed.sel);
	ed.form.dataset.id = lane.id;
	const rows = ed.state.schema.filter((s) => s.type !== 'polygon').map((s) =>
		el('div.setting', { dataset: { key: s.key } },
			field(`${settingLabel(s.key)}${s.unit ? ` (${s.unit})` : ''}`, settingInput(ed, lane, s)),
			el('small.help', null, t(s.help))));
	ed.form.replaceChildren(el('h3', null, t('Lane {name}', { name: lane.name || lane.id })), el('div.settings', null, rows));
}

// The lane table's keys in the user's words; their help texts are the
// table's own, translated by their English text in the catalogues
// (tests/browser/i18n_keys.mjs reads them from docs/config.md).
function settingLabel(k) {
	return {
		id: t('Lane id'), name: t('Lane name'), dwell_s: t('Dwell before the alarm'), clear_s: t('Clear time'),
		occlusion_s: t('Hidden obstruction held'), min_size_px: t('Smallest object (pixels)'),
		min_size_m: t('Smallest object (metres)'), width_m: t('Lane width'), min_overlap: t('Overlap that counts'),
		clear_width_m: t('Width left clear'), obstructions: t('What obstructs'), active: t('Active hours'),
		warn_s: t('On-site warning after'), warn_repeat_s: t('Warning repeats every'),
		warn_max_repeats: t('Warning repeats at most'), quiet_hours: t('Quiet hours'), disabled: t('Alarms off'),
		escalate_s: t('Escalation after'),
	}[k] || k;
}

// ---- saving ------------------------------------------------------------------

async function saveLanes(ed, saved) {
	ed.err.textContent = '';
	ed.ok.textContent = '';
	if (ed.drawing) finishLane(ed);
	if (Object.keys(ed.problems).length) {
		ed.err.textContent = t('Fix the lanes marked red first.');
		return;
	}
	try {
		const r = await api('PUT', `${ed.state.base}/config`, {
			base_version: ed.state.conf.version,
			cameras: [{ id: ed.cam.id, lanes: ed.lanes }],
		});
		ed.ok.textContent = t('Saved as version {v}.', { v: r.version });
		setTimeout(saved, 400);
	} catch (e) {
		ed.err.dataset.key = (e.body && e.body.key) || '';
		ed.err.textContent = e.status === 409 ? t('Someone saved a newer version meanwhile: reload the page.') : why(e);
	}
}
