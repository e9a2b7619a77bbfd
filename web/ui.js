// ui.js - the small toolkit every page of the review UI uses.
//
// Everything on screen is built with el() from text (textContent, never
// innerHTML): incident ids, notes and plates come from devices and users, so
// nothing they contain is ever parsed as markup. The hub's Content Security
// Policy (docs/api.md) forbids inline scripts and style attributes, so looks
// come from classes in app.css only.
//
// The session (GET /api/session or the login answer) is kept in `session`:
// the CSRF token every change carries, the user's role and sites. Words
// and times come from i18n.js (the user's language, the hub's zone).

import { t, fmtTime, fmtDuration } from './i18n.js';

export { t, fmtTime, fmtDuration };

export const session = { user: null, role: null, sites: [], csrf: null, tz_offset_s: 0 };

export const OUTCOMES = ['persuaded', 'fined', 'towed', 'false_alarm', 'other'];
// The API's codes in the user's words (the API keeps its codes).
export function outcomeLabel(o) {
	return {
		persuaded: t('persuaded to leave'), fined: t('fined'), towed: t('towed'),
		false_alarm: t('false alarm'), other: t('other'), none: t('not recorded'),
	}[o] || o;
}
export const STATUSES = ['occupied', 'alarm', 'cleared', 'vacated', 'interrupted'];
export function statusLabel(s) {
	return {
		occupied: t('occupied'), alarm: t('alarm'), cleared: t('cleared'), vacated: t('vacated'),
		interrupted: t('interrupted'), unknown: t('unknown'),
	}[s] || s;
}
export function roleLabel(r) {
	return { admin: t('admin'), enforcement: t('enforcement'), property: t('property manager'), installer: t('installer') }[r] || r;
}

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

// The calendar day (YYYY-MM-DD) of a time in the hub's timezone.
export function fmtDay(when) {
	return fmtTime(when).slice(0, 10);
}

// Today in the hub's timezone.
export function today() {
	return fmtDay(Date.now() / 1000);
}

// An age ("12 s ago") of a time against now.
export function fmtAge(when) {
	if (when === null || when === undefined) return t('never');
	return t('{d} ago', { d: fmtDuration(Math.max(0, Date.now() / 1000 - when)) });
}

// An error answer: status, the hub's English detail (message) and its
// machine code (code, docs/api.md), which the UI shows in the user's words.
export class ApiError extends Error {
	constructor(status, message, retryAfter, code) {
		super(message);
		this.status = status;
		this.retryAfter = retryAfter;
		this.code = code;
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
		throw new ApiError(401, 'not logged in', null, 'not_logged_in');
	}
	if (!r.ok) {
		const msg = (data && data.error) || `${r.status} ${r.statusText}`;
		throw new ApiError(r.status, msg, r.headers.get('Retry-After'), data && data.code);
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
	return el(`span.outcome.outcome-${o || 'none'}`, null, outcomeLabel(o || 'none'));
}

export function statusBadge(s) {
	return el(`span.status.status-${s || 'unknown'}`, { dataset: { status: s || 'unknown' } }, statusLabel(s || 'unknown'));
}

// Verified mark: ✓ verified, ✗ failed, – nothing received yet.
// tampered: when the hub found one of its evidence files no longer matching
// what verified (docs/api.md), which outweighs the verdict.
export function verifiedMark(v, tampered) {
	if (tampered != null) return el('span.verified.bad.tampered', { title: t('an evidence file no longer matches what verified') }, '⚠ ' + t('tampered'));
	if (v === 1 || v === true) return el('span.verified.ok', { title: t('evidence signature verified') }, '✓ ' + t('verified'));
	if (v === 0 || v === false) return el('span.verified.bad', { title: t('evidence failed verification') }, '✗ ' + t('failed'));
	return el('span.verified.none', { title: t('no evidence received yet') }, '–');
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

export function setTitle(title) {
	document.title = title ? `${title} – firelane` : 'firelane';
}
