// fleet.js - the /fleet page: every capture device the user may see, its
// status (online; offline = the broker published its last will; stopped =
// it shut down cleanly), the age of its last message, the health figures of
// its last heartbeat (fps and load per camera, spool, free disk, clock) and
// the hub's camera health (offline, frozen, covered, moved, overloaded) where the hub
// has it. Above them, the hub's own state (GET /api/hub): taking messages,
// or degraded - its storage refuses writes, nothing is acknowledged until it
// takes them again (docs/hub.md, "Degraded mode"). Refreshed every 15 s while the
// page is open.

import { api, el, table, fmtAge, fmtTime, setTitle, t } from './ui.js';

const REFRESH_MS = 15000;

// The hub's camera health codes in the user's words.
const camState = (s) => ({ offline: t('offline'), frozen: t('frozen'), covered: t('covered'), moved: t('moved'), overloaded: t('overloaded') })[s] || s;

function statusCell(d) {
	const s = d.status || (d.last_seen == null ? 'never' : 'unknown');
	const text = { online: '● ' + t('online'), offline: '✖ ' + t('offline'), stopped: '■ ' + t('stopped'), never: t('never seen') }[s] || `? ${s}`;
	return el('td', null, el(`span.device-status.dev-${s}`, { title: t('status {s} since the last status message', { s }) }, text));
}

function camerasCell(d) {
	const hb = d.heartbeat || {};
	const byId = {};
	for (const c of hb.cameras || []) byId[c.id] = { id: c.id, hb: c };
	for (const c of d.cameras || []) (byId[c.camera] ||= { id: c.camera }).health = c;
	const cams = Object.values(byId);
	if (!cams.length) return el('td', null, '–');
	return el('td', null, el('ul.cams', null, cams.map((c) => {
		const h = c.health;
		const state = h ? h.state : (c.hb && c.hb.online === false ? 'offline' : 'ok');
		const problems = h && h.problems && h.problems.length ? h.problems.join(', ') : '';
		return el(`li.cam.cam-${state === 'ok' ? 'ok' : 'bad'}`, { dataset: { camera: c.id, state } },
			el('strong', null, c.id), ' ',
			el('span.cam-state', null, state === 'ok' ? '✓ ' + t('ok') : `⚠ ${camState(state)}`),
			problems ? ` (${problems})` : '',
			h && h.since ? el('span.since', null, ' ' + t('since {when}', { when: fmtTime(h.since, true) })) : '',
			c.hb ? el('span.fps', null, ' · ' + t('{fps} fps, load {load} %', { fps: Number(c.hb.fps).toFixed(1), load: (100 * Number(c.hb.load)).toFixed(1) })) : '',
			// a device from before these keys sends no "overloaded"
			c.hb && c.hb.overloaded ? el('span.overloaded', null, ' · ⚠ ' + t('overloaded: {lag} s behind, {n} frames not analysed', { lag: Number(c.hb.lag_s).toFixed(1), n: c.hb.skipped })) : '');
	})));
}

function row(d) {
	const hb = d.heartbeat || {};
	const sp = hb.spool || {};
	return el('tr', { dataset: { device: d.device, status: d.status || 'unknown' } },
		el('td', null, el('strong', null, d.device)),
		el('td', null, d.site),
		statusCell(d),
		el('td', { title: fmtTime(d.last_seen) }, fmtAge(d.last_seen)),
		camerasCell(d),
		el('td.num', null, d.heartbeat ? t('{n} msgs, {kib} KiB', { n: sp.messages ?? 0, kib: Math.round((sp.bytes ?? 0) / 1024) }) +
			(sp.dropped || sp.refused ? ' ' + t('(dropped {d}, refused {r})', { d: sp.dropped || 0, r: sp.refused || 0 }) : '') +
			// evidence still without the hub's receipt (docs/mqtt.md, "Heartbeat")
			(hb.undelivered && hb.undelivered.bundles > 0 ? ' · ' + t('{n} bundles without receipt', { n: hb.undelivered.bundles }) : '') : '–'),
		el('td.num', null, hb.disk_free_mb != null ? `${(hb.disk_free_mb / 1024).toFixed(1)} GiB` : '–'),
		el('td', null, hb.clock || '–'),
		el('td', null, hb.uptime_s != null ? t('{n} min', { n: Math.round(hb.uptime_s / 60) }) : '–'));
}

function hubState(h) {
	if (!h) return el('p.hub-state#hub-state', null, t('Hub state unknown.'));
	if (h.status !== 'degraded')
		return el('p.hub-state.hub-ok#hub-state', { dataset: { state: 'ok' } },
			t('✓ Hub taking messages ({stored} stored, {quarantined} quarantined since start)', { stored: h.stored, quarantined: h.quarantined }));
	return el('p.hub-state.hub-degraded#hub-state', { dataset: { state: 'degraded' } },
		t('⚠ Hub degraded since {when}: {reason}. Nothing is acknowledged until its storage takes writes again; devices keep their messages.', { when: fmtTime(h.since, true), reason: h.reason }));
}

async function hubNow() {
	try {
		return await api('GET', '/api/hub');
	} catch (e) {
		return null; // an older hub, or none kept: say unknown
	}
}

function draw(box, devices, hub) {
	const counts = { online: 0, offline: 0, stopped: 0 };
	for (const d of devices) if (d.status in counts) counts[d.status]++;
	box.replaceChildren(
		hubState(hub),
		el('p.summary#fleet-summary', null,
			t('{n} devices: ', { n: devices.length }),
			el('span.dev-online', null, t('{n} online', { n: counts.online })), ', ',
			el('span.dev-offline', null, t('{n} offline', { n: counts.offline })), ', ',
			el('span.dev-stopped', null, t('{n} stopped', { n: counts.stopped })),
			' · ' + t('updated {when}', { when: fmtTime(Date.now() / 1000) })),
		table({ id: 'fleet' },
			[t('Device'), t('Site'), t('Status'), t('Last heard'), t('Cameras (health, fps, load)'), t('Spool'), t('Disk free'), t('Clock'), t('Uptime')],
			devices.length ? devices.map(row) : [el('tr.empty', null, el('td', { colspan: 9 }, t('No devices enrolled.')))]));
}

export async function fleetPage(page, ctx) {
	setTitle(t('Fleet'));
	const box = el('div#fleet-box');
	draw(box, (await api('GET', '/api/devices')).devices, await hubNow());
	page.append(el('h1', null, t('Fleet')), box);
	const timer = setInterval(async () => {
		try {
			draw(box, (await api('GET', '/api/devices')).devices, await hubNow());
		} catch (e) {
			// keep the last view; the next tick tries again
		}
	}, REFRESH_MS);
	ctx.onLeave(() => clearInterval(timer));
}
