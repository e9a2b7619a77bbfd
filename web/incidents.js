// incidents.js - the /incidents page: the queue of incidents, newest first,
// with filters (site, lane, status, outcome, a part of the plate, date range)
// and paging. The filters and the page live in the URL's query (?site=&lane=
// &status=&outcome=&plate=&from=&to=&page=), so reload, back and a copied
// link show the same list.

import {
	api, el, field, select, table, query, fmtTime, fmtDuration, outcomeBadge,
	statusBadge, verifiedMark, blockedSeconds, setTitle, OUTCOMES, OUTCOME_LABEL, STATUSES,
} from './ui.js';
import { navigate } from './app.js';

const PAGE_SIZE = 25;
const FILTERS = ['site', 'lane', 'status', 'outcome', 'plate', 'from', 'to'];

export async function incidentsPage(page, ctx) {
	setTitle('Incidents');
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
		field('Site', select('site', [['', 'all sites'], ...siteNames.map((s) => [s, s])], f.site)),
		field('Lane', el('input', { name: 'lane', value: f.lane, placeholder: 'any', size: 10 })),
		field('Status', select('status', [['', 'any'], ...STATUSES.map((s) => [s, s])], f.status)),
		field('Outcome', select('outcome', [['', 'any'], ['none', OUTCOME_LABEL.none],
			...OUTCOMES.map((o) => [o, OUTCOME_LABEL[o]])], f.outcome)),
		field('Plate', el('input', { name: 'plate', value: f.plate, placeholder: 'part of it', size: 10 })),
		field('From', el('input', { name: 'from', type: 'date', value: f.from })),
		field('To', el('input', { name: 'to', type: 'date', value: f.to })),
		el('div.buttons', null,
			el('button', { type: 'submit' }, 'Filter'),
			el('button.secondary', { type: 'reset' }, 'Clear')));
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
			el('td.site', { 'data-label': 'Site' }, el('a', { href }, i.site)),
			el('td', { 'data-label': 'Lane' }, i.lane),
			el('td', { 'data-label': 'Camera' }, i.camera),
			el('td', { 'data-label': 'Status' }, statusBadge(i.status)),
			el('td.time', { 'data-label': 'Start' }, el('a', { href }, fmtTime(i.rest_since ?? i.start))),
			el('td.num', { 'data-label': 'Blocked' }, fmtDuration(blockedSeconds(i))),
			el('td', { 'data-label': 'Outcome' }, outcomeBadge(i.outcome)),
			el('td', { 'data-label': 'Evidence' }, verifiedMark(i.verified, i.tampered)));
	});
	const pages = Math.max(1, Math.ceil(list.total / PAGE_SIZE));
	const go = (n) => navigate('/incidents' + query({ ...f, page: n > 1 ? n : '' }));
	const prev = el('button.secondary#prev', { type: 'button', disabled: pageNo <= 1, onclick: () => go(pageNo - 1) }, '← Newer');
	const next = el('button.secondary#next', { type: 'button', disabled: pageNo >= pages, onclick: () => go(pageNo + 1) }, 'Older →');
	const first = list.total ? (pageNo - 1) * PAGE_SIZE + 1 : 0;
	const last = (pageNo - 1) * PAGE_SIZE + list.incidents.length;

	// On a phone the filters fold away unless one is in use.
	const narrow = window.matchMedia('(max-width: 760px)').matches;
	const filtering = FILTERS.some((k) => f[k]);
	page.append(
		el('h1', null, 'Incidents'),
		el('details#filters-box', { open: !narrow || filtering },
			el('summary', null, filtering ? 'Filters (in use)' : 'Filters'), form),
		table({ id: 'incidents', class: 'list' },
			['Site', 'Lane', 'Camera', 'Status', 'Start', 'Blocked', 'Outcome', 'Evidence'],
			rows.length ? rows : [el('tr.empty', null, el('td', { colspan: 8 }, 'No incidents match.'))]),
		el('nav.pager', { 'aria-label': 'Pages' }, prev,
			el('span#page-info', { 'aria-live': 'polite' },
				`${first}–${last} of ${list.total} · page ${pageNo} of ${pages}`),
			next));
}
