// incidents.js - the /incidents page: the queue of incidents, newest first,
// with filters (site, lane, status, outcome, a part of the plate, date range)
// and paging. The filters and the page live in the URL's query (?site=&lane=
// &status=&outcome=&plate=&from=&to=&page=), so reload, back and a copied
// link show the same list.

import {
	api, el, field, select, table, query, fmtTime, fmtDuration, outcomeBadge,
	statusBadge, verifiedMark, blockedSeconds, setTitle, OUTCOMES, outcomeLabel, statusLabel, STATUSES, t,
} from './ui.js';
import { navigate } from './app.js';

const PAGE_SIZE = 25;

// The incident's alarm still, small (GET /api/incidents/ID/still, made by
// the hub once from the verified bundle): asked only for a verified,
// untampered bundle; a 204 (no picture yet) or an error leaves the
// placeholder.
function still(i) {
	const box = el('span.still');
	if (i.verified === 1 && !i.tampered) {
		const img = el('img', {
			src: `/api/incidents/${encodeURIComponent(i.incident_id)}/still`,
			alt: '', loading: 'lazy', decoding: 'async',
		});
		img.addEventListener('error', () => img.remove());
		img.addEventListener('load', () => { if (!img.naturalWidth) img.remove(); });
		box.append(img);
	}
	return box;
}
const FILTERS = ['site', 'lane', 'status', 'outcome', 'plate', 'from', 'to'];

export async function incidentsPage(page, ctx) {
	setTitle(t('Incidents'));
	const p = ctx.params;
	const f = Object.fromEntries(FILTERS.map((k) => [k, p.get(k) || '']));
	const pageNo = Math.max(1, parseInt(p.get('page') || '1', 10) || 1);
	const [sites, list] = await Promise.all([
		api('GET', '/api/sites'),
		api('GET', '/api/incidents' + query({ ...f, limit: PAGE_SIZE, offset: (pageNo - 1) * PAGE_SIZE })),
	]);

	const siteNames = sites.sites.map((s) => s.site);
	if (f.site && !siteNames.includes(f.site)) siteNames.push(f.site);
	const form = el('form#filters', { role: 'search' },
		field(t('Site'), select('site', [['', t('all sites')], ...siteNames.map((s) => [s, s])], f.site)),
		field(t('Lane'), el('input', { name: 'lane', value: f.lane, placeholder: t('any'), size: 10 })),
		field(t('Status'), select('status', [['', t('any')], ...STATUSES.map((s) => [s, statusLabel(s)])], f.status)),
		field(t('Outcome'), select('outcome', [['', t('any')], ['none', outcomeLabel('none')],
			...OUTCOMES.map((o) => [o, outcomeLabel(o)])], f.outcome)),
		field(t('Plate'), el('input', { name: 'plate', value: f.plate, placeholder: t('part of it'), size: 10 })),
		field(t('From'), el('input', { name: 'from', type: 'date', value: f.from })),
		field(t('To'), el('input', { name: 'to', type: 'date', value: f.to })),
		el('div.buttons', null,
			el('button', { type: 'submit' }, t('Filter')),
			el('button.secondary', { type: 'reset' }, t('Clear'))));
	form.addEventListener('submit', (ev) => {
		ev.preventDefault();
		const v = Object.fromEntries(FILTERS.map((k) => [k, form.elements[k].value.trim()]));
		navigate('/incidents' + query(v));
	});
	form.addEventListener('reset', (ev) => {
		ev.preventDefault();
		navigate('/incidents');
	});

	const rows = list.incidents.map((i) => {
		const href = '/incidents/' + encodeURIComponent(i.incident_id);
		// data-label: the column's name, shown beside the value when a
		// phone shows each row as a card (app.css)
		return el('tr', { dataset: { incident: i.incident_id }, class: `row-${i.status}` },
			el('td.thumb', { 'data-label': t('Picture') }, el('a', { href, tabindex: -1 }, still(i))),
			el('td.site', { 'data-label': t('Site') }, el('a', { href, title: i.site }, i.site_name || i.site)),
			el('td', { 'data-label': t('Lane'), title: i.lane }, i.lane_name || i.lane),
			el('td', { 'data-label': t('Camera') }, i.camera),
			el('td', { 'data-label': t('Status') }, statusBadge(i.status)),
			el('td.time', { 'data-label': t('Start') }, el('a', { href }, fmtTime(i.rest_since ?? i.start))),
			el('td.num', { 'data-label': t('Blocked') }, fmtDuration(blockedSeconds(i))),
			el('td', { 'data-label': t('Outcome') }, outcomeBadge(i.outcome)),
			el('td', { 'data-label': t('Evidence') }, verifiedMark(i.verified, i.tampered)));
	});
	const pages = Math.max(1, Math.ceil(list.total / PAGE_SIZE));
	const go = (n) => navigate('/incidents' + query({ ...f, page: n > 1 ? n : '' }));
	const prev = el('button.secondary#prev', { type: 'button', disabled: pageNo <= 1, onclick: () => go(pageNo - 1) }, t('← Newer'));
	const next = el('button.secondary#next', { type: 'button', disabled: pageNo >= pages, onclick: () => go(pageNo + 1) }, t('Older →'));
	const first = list.total ? (pageNo - 1) * PAGE_SIZE + 1 : 0;
	const last = (pageNo - 1) * PAGE_SIZE + list.incidents.length;

	// On a phone the filters fold away unless one is in use.
	const narrow = window.matchMedia('(max-width: 760px)').matches;
	const filtering = FILTERS.some((k) => f[k]);
	page.append(
		el('h1', null, t('Incidents')),
		el('details#filters-box', { open: !narrow || filtering },
			el('summary', null, filtering ? t('Filters (in use)') : t('Filters')), form),
		table({ id: 'incidents', class: 'list' },
			[t('Picture'), t('Site'), t('Lane'), t('Camera'), t('Status'), t('Start'), t('Blocked'), t('Outcome'), t('Evidence')],
			rows.length ? rows : [el('tr.empty', null, el('td', { colspan: 9 }, t('No incidents match.')))]),
		el('nav.pager', { 'aria-label': 'Pages' }, prev,
			el('span#page-info', { 'aria-live': 'polite' },
				t('{first}–{last} of {total} · page {page} of {pages}', { first, last, total: list.total, page: pageNo, pages })),
			next));
}
