// ui.js - the small toolkit every page of the review UI uses.
//
// Everything on screen is built with el() from text (textContent, never
// innerHTML): incident ids, notes and plates come from devices and users, so
// nothing they contain is ever parsed as markup. The hub's Content Security
// Policy (docs/api.md) forbids inline scripts and style attributes, so looks
// come from classes in app.css only.
//
// The session (GET /api/session or the login answer) is kept in `session`:
// the CSRF token every change carries, the user's role and sites, and the
// hub's timezone offset, in which every time is shown.

export const session = { user: null, role: null, sites: [], csrf: null, tz_offset_s: 0 };

export const OUTCOMES = ['persuaded', 'fined', 'towed', 'false_alarm', 'other'];
export const OUTCOME_LABEL = {
	persuaded: 'persuaded to leave', fined: 'fined', towed: 'towed',
	false_alarm: 'false alarm', other: 'other', none: 'not recorded',
};
export const STATUSES = ['occupied', 'alarm', 'cleared', 'vacated', 'interrupted'];

// el('tag.class#id', {attr: value, onclick: fn}, child...): an element.
// Children are nodes or text; null/undefined/false are skipped.
export function el(spec, attrs, ...children) {
	const m = /^([a-z0-9]+)((?:[.#][\w-]+)*)$/i.exec(spec);
	const node = document.createElement(m[1]);
	for (const part of m[2].match(/[.#][\w-]+/g) || []) {
		if (part[0] === '.') node.classList.add(part.slice(1));
		else node.id = part.slice(1);
	}
	setAttrs(node, attrs);
	append(node, children);
	return node;
}

// svg('rect', {x, y, ...}): an SVG element (charts).
export function svg(tag, attrs, ...children) {
	const node = document.createElementNS('http://www.w3.org/2000/svg', tag);
	setAttrs(node, attrs);
	append(node, children);
	return node;
}

function setAttrs(node, attrs) {
	for (const [k, v] of Object.entries(attrs || {})) {
		if (v === null || v === undefined || v === false) continue;
		if (k.startsWith('on')) node.addEventListener(k.slice(2), v);
		else if (k === 'dataset') Object.assign(node.dataset, v);
		else node.setAttribute(k, v === true ? '' : String(v));
	}
}

function append(node, children) {
	for (const c of children.flat(Infinity)) {
		if (c === null || c === undefined || c === false) continue;
		node.append(c instanceof Node ? c : document.createTextNode(String(c)));
	}
}

// A time (unix seconds) as YYYY-MM-DD HH:MM:SS in the hub's timezone; '' for
// none.
export function fmtTime(t) {
	if (t === null || t === undefined || !isFinite(t)) return '';
	const d = new Date((t + session.tz_offset_s) * 1000);
	return d.toISOString().slice(0, 19).replace('T', ' ');
}

// The calendar day (YYYY-MM-DD) of a time in the hub's timezone.
export function fmtDay(t) {
	return fmtTime(t).slice(0, 10);
}

// Today in the hub's timezone.
export function today() {
	return fmtDay(Date.now() / 1000);
}

// A duration in seconds as "42 s", "3 min 05 s", "2 h 07 min".
export function fmtDuration(s) {
	if (s === null || s === undefined || !isFinite(s)) return '–';
	s = Math.round(s);
	if (s < 60) return `${s} s`;
	if (s < 3600) return `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, '0')} s`;
	const h = Math.floor(s / 3600);
	return `${h} h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')} min`;
}

// An age ("12 s ago") of a time against now.
export function fmtAge(t) {
	if (t === null || t === undefined) return 'never';
	return `${fmtDuration(Math.max(0, Date.now() / 1000 - t))} ago`;
}

export class ApiError extends Error {
	constructor(status, message, retryAfter) {
		super(message);
		this.status = status;
		this.retryAfter = retryAfter;
	}
}

// api(method, path, body): the JSON answer, or throws ApiError with the
// hub's {"error"} text. A 401 outside the login sends the user to the login
// page (the session expired), returning here afterwards.
export async function api(method, path, body) {
	const headers = { Accept: 'application/json' };
	if (method !== 'GET') headers['X-CSRF-Token'] = session.csrf || '';
	if (body !== undefined) headers['Content-Type'] = 'application/json';
	const r = await fetch(path, {
		method, headers, credentials: 'same-origin',
		body: body === undefined ? undefined : JSON.stringify(body),
	});
	let data = null;
	try {
		data = await r.json();
	} catch (e) {
		data = null;
	}
	if (r.status === 401 && path !== '/api/login' && path !== '/api/session') {
		const next = location.pathname + location.search;
		location.assign('/login?next=' + encodeURIComponent(next));
		throw new ApiError(401, 'not logged in');
	}
	if (!r.ok) {
		const msg = (data && data.error) || `${r.status} ${r.statusText}`;
		throw new ApiError(r.status, msg, r.headers.get('Retry-After'));
	}
	return data;
}

// The query string of an object, leaving out empty values.
export function query(obj) {
	const q = new URLSearchParams();
	for (const [k, v] of Object.entries(obj)) {
		if (v !== null && v !== undefined && v !== '') q.set(k, v);
	}
	const s = q.toString();
	return s ? '?' + s : '';
}

// A table wrapped so that it scrolls sideways on a phone instead of
// widening the page.
export function table(attrs, head, rows, caption) {
	return el('div.table-wrap', null,
		el('table', attrs,
			caption ? el('caption', null, caption) : null,
			el('thead', null, el('tr', null, head.map((h) => el('th', { scope: 'col' }, h)))),
			el('tbody', null, rows)));
}

// A labelled form field: <label>Text <input|select ...></label>.
export function field(label, control) {
	return el('label.field', null, el('span.label', null, label), control);
}

export function select(name, options, value) {
	return el('select', { name },
		options.map(([v, text]) => el('option', { value: v, selected: v === value }, text)));
}

export function outcomeBadge(o) {
	return el(`span.outcome.outcome-${o || 'none'}`, null, OUTCOME_LABEL[o || 'none'] || o);
}

export function statusBadge(s) {
	return el(`span.status.status-${s || 'unknown'}`, null, s || 'unknown');
}

// Verified mark: ✓ verified, ✗ failed, – nothing received yet.
// tampered: when the hub found one of its evidence files no longer matching
// what verified (docs/api.md), which outweighs the verdict.
export function verifiedMark(v, tampered) {
	if (tampered != null) return el('span.verified.bad.tampered', { title: 'an evidence file no longer matches what verified' }, '⚠ tampered');
	if (v === 1 || v === true) return el('span.verified.ok', { title: 'evidence signature verified' }, '✓ verified');
	if (v === 0 || v === false) return el('span.verified.bad', { title: 'evidence failed verification' }, '✗ failed');
	return el('span.verified.none', { title: 'no evidence received yet' }, '–');
}

// The time an incident has blocked the lane: from the object coming to rest
// (or the first message) to the all-clear, or until now while still open.
export function blockedSeconds(inc) {
	const from = inc.rest_since ?? inc.start;
	if (from === null || from === undefined) return null;
	const end = inc.cleared ?? inc.closed ?? (isOpen(inc) ? Date.now() / 1000 : null);
	return end === null ? null : end - from;
}

export function isOpen(inc) {
	return inc.status === 'occupied' || inc.status === 'alarm';
}

export function setTitle(t) {
	document.title = t ? `${t} – firelane` : 'firelane';
}
