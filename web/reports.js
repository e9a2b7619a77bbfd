// reports.js - /reports (a site or all, a day, week or month) and
// /reports/weekly (the printable weekly report).
//
// The figures are the store's report (docs/store.md, 6) through
// GET /api/reports: totals, time to clear (alarm -> cleared; median and p90),
// outcome tallies (the current outcome of each incident), repeat spots and
// repeat plates, and a per-day series. The charts are SVG drawn here from
// that series, so they print as sharp as the text. The store lists only days
// with incidents; the charts show every day of the period, the empty ones
// as zero.

import {
	session, api, el, svg, field, select, table, query, fmtDay, fmtTime,
	fmtDuration, outcomeBadge, statusBadge, today, setTitle, OUTCOMES, outcomeLabel, t,
} from './ui.js';
import { navigate } from './app.js';

const PERIODS = ['day', 'week', 'month'];
const periodLabel = (p) => ({ day: t('day'), week: t('week (Monday to Sunday)'), month: t('month') })[p] || p;

// Every day (YYYY-MM-DD, hub time) of [from, to) with the report's counts.
function allDays(rep) {
	const byDay = Object.fromEntries((rep.days || []).map((d) => [d.day, d]));
	const out = [];
	if (rep.from == null || rep.to == null) return rep.days || [];
	for (let at = rep.from; at < rep.to && out.length < 62; at += 86400) {
		const day = fmtDay(at + 3600); // an hour in: robust to a leap second or a DST-free offset
		if (out.length && out[out.length - 1].day === day) continue;
		out.push(byDay[day] || { day, incidents: 0, alarms: 0 });
	}
	return out;
}

// A bar chart of incidents (and alarms) per day.
function dayChart(rep) {
	const days = allDays(rep);
	const W = 640, H = 220, left = 34, bottom = 40, top = 14;
	const max = Math.max(1, ...days.map((d) => d.incidents || 0));
	const step = (W - left - 8) / Math.max(1, days.length);
	const bw = Math.max(3, step * 0.7);
	const y = (v) => top + (H - top - bottom) * (1 - v / max);
	const ticks = max <= 5 ? Array.from({ length: max + 1 }, (_, i) => i) : [0, Math.round(max / 2), max];
	const g = svg('svg', {
		id: 'chart-days', class: 'chart', viewBox: `0 0 ${W} ${H}`, role: 'img',
		'aria-label': t('Incidents per day, {n} days, at most {max} a day', { n: days.length, max }),
	}, svg('title', null, t('Incidents and alarms per day')));
	for (const v of ticks) {
		g.append(svg('line', { class: 'grid', x1: left, x2: W - 4, y1: y(v), y2: y(v) }),
			svg('text', { class: 'axis', x: left - 6, y: y(v) + 4, 'text-anchor': 'end' }, String(v)));
	}
	days.forEach((d, i) => {
		const x = left + i * step + (step - bw) / 2;
		const n = d.incidents || 0, a = d.alarms || 0;
		g.append(svg('rect', { class: 'bar incidents', x, y: y(n), width: bw, height: y(0) - y(n), dataset: { day: d.day } },
			svg('title', null, t('{day}: {n} incidents, {a} alarms', { day: d.day, n, a }))));
		if (a) g.append(svg('rect', { class: 'bar alarms', x: x + bw * 0.25, y: y(a), width: bw * 0.5, height: y(0) - y(a) }));
		if (n) g.append(svg('text', { class: 'value', x: x + bw / 2, y: y(n) - 3, 'text-anchor': 'middle' }, String(n)));
		const every = Math.ceil(days.length / 10);
		if (i % every === 0) {
			g.append(svg('text', { class: 'axis', x: x + bw / 2, y: H - bottom + 14, 'text-anchor': 'middle' },
				days.length > 7 ? d.day.slice(8) : d.day.slice(5)));
		}
	});
	g.append(svg('rect', { class: 'legend incidents', x: left, y: H - 16, width: 10, height: 10 }),
		svg('text', { class: 'axis', x: left + 14, y: H - 7 }, t('incidents')),
		svg('rect', { class: 'legend alarms', x: left + 90, y: H - 16, width: 10, height: 10 }),
		svg('text', { class: 'axis', x: left + 104, y: H - 7 }, t('alarms')));
	return el('figure.chart-box', null, g, el('figcaption', null, t('Incidents per day')));
}

// A horizontal bar chart of the outcome tallies.
function outcomeChart(rep) {
	const keys = [...OUTCOMES, 'none'];
	const oc = rep.outcomes || {};
	const max = Math.max(1, ...keys.map((k) => oc[k] || 0));
	const W = 640, row = 26, left = 150, H = keys.length * row + 10;
	const g = svg('svg', {
		id: 'chart-outcomes', class: 'chart', viewBox: `0 0 ${W} ${H}`, role: 'img',
		'aria-label': t('Outcomes') + ': ' + keys.map((k) => `${outcomeLabel(k)} ${oc[k] || 0}`).join(', '),
	}, svg('title', null, t('Outcomes')));
	keys.forEach((k, i) => {
		const v = oc[k] || 0, w = (W - left - 50) * v / max, yy = 6 + i * row;
		g.append(svg('text', { class: 'axis', x: left - 8, y: yy + 15, 'text-anchor': 'end' }, outcomeLabel(k)),
			svg('rect', { class: `bar outcome-${k}`, x: left, y: yy + 2, width: Math.max(v ? 2 : 0, w), height: row - 8 }),
			svg('text', { class: 'value', x: left + w + 6, y: yy + 15 }, String(v)));
	});
	return el('figure.chart-box', null, g, el('figcaption', null, t('Outcomes (current outcome of each incident)')));
}

function figures(rep) {
	const ttc = rep.time_to_clear_s || {};
	const blk = rep.blocked_s || {};
	const stat = (label, value, id, sub) => el('div.stat', null,
		el('div.value', { id }, value), el('div.label', null, label), sub ? el('div.sub', null, sub) : null);
	return el('div.stats#report-totals', null,
		stat(t('incidents'), String(rep.incidents ?? 0), 'report-incidents'),
		stat(t('alarms'), String(rep.alarms ?? 0), 'report-alarms'),
		stat(t('median time to clear'), fmtDuration(ttc.median), 'ttc-median', t('alarm → cleared, n = {n}', { n: ttc.n ?? 0 })),
		stat(t('p90 time to clear'), fmtDuration(ttc.p90), 'ttc-p90', t('alarm → cleared, n = {n}', { n: ttc.n ?? 0 })),
		stat(t('median time blocked'), fmtDuration(blk.median), 'blocked-median', t('at rest → cleared, n = {n}', { n: blk.n ?? 0 })));
}

function outcomeTable(rep) {
	const oc = rep.outcomes || {};
	const keys = [...OUTCOMES, 'none'];
	return table({ id: 'report-outcomes' }, keys.map((k) => outcomeLabel(k)),
		[el('tr', null, keys.map((k) => el('td.num', { dataset: { outcome: k } }, String(oc[k] || 0))))],
		t('Outcome tallies'));
}

function repeatTables(rep) {
	const spots = rep.repeat_spots || [];
	const plates = rep.repeat_plates || [];
	return el('div.two', null,
		el('section.section', null, el('h2', null, t('Repeat spots')),
			table({ id: 'repeat-spots' }, [t('Site'), t('Camera'), t('Lane'), t('Incidents')],
				spots.length ? spots.map((s) => el('tr', null, el('td', null, s.site), el('td', null, s.camera),
					el('td', null, s.lane), el('td.num', null, String(s.incidents)))) :
					[el('tr.empty', null, el('td', { colspan: 4 }, t('No spot blocked twice.')))])),
		el('section.section', null, el('h2', null, t('Repeat vehicles (plates)')),
			table({ id: 'repeat-plates' }, [t('Plate'), t('Incidents'), t('Sites')],
				plates.length ? plates.map((p) => el('tr', null, el('td.plate', null, p.plate),
					el('td.num', null, String(p.incidents)), el('td', null, Array.isArray(p.sites) ? p.sites.join(', ') : (p.sites || '')))) :
					[el('tr.empty', null, el('td', { colspan: 3 }, t('No plate seen twice.')))])));
}

function periodText(rep) {
	if (rep.from == null || rep.to == null) return '';
	return `${fmtDay(rep.from)} – ${fmtDay(rep.to - 1)}`;
}

export async function reportsPage(page, ctx) {
	setTitle(t('Reports'));
	const p = ctx.params;
	const sites = (await api('GET', '/api/sites')).sites.map((s) => s.site);
	// A property manager with one site sees that site; the hub requires a
	// site when they have several.
	const defSite = session.role === 'property' && session.sites.length ? session.sites[0] : '';
	const site = p.get('site') ?? defSite;
	const period = PERIODS.includes(p.get('period')) ? p.get('period') : 'week';
	const date = /^\d{4}-\d{2}-\d{2}$/.test(p.get('date') || '') ? p.get('date') : today();
	const q = { site, period, date };
	const rep = await api('GET', '/api/reports' + query(q));

	const siteOptions = session.role === 'property' && session.sites.length > 1 ?
		sites.map((s) => [s, s]) : [['', t('all sites')], ...sites.map((s) => [s, s])];
	if (site && !sites.includes(site)) siteOptions.push([site, site]);
	const form = el('form#report-form', null,
		field(t('Site'), select('site', siteOptions, site)),
		field(t('Period'), select('period', PERIODS.map((v) => [v, periodLabel(v)]), period)),
		field(t('Date'), el('input', { name: 'date', type: 'date', value: date, required: true })),
		el('div.buttons', null, el('button', { type: 'submit' }, t('Show'))));
	form.addEventListener('submit', (ev) => {
		ev.preventDefault();
		navigate('/reports' + query({ site: form.elements.site.value, period: form.elements.period.value, date: form.elements.date.value }));
	});
	page.append(
		el('h1', null, t('Reports')),
		form,
		el('section#report', { dataset: { period, site: site || 'all' } },
			el('h2', null, `${site || t('All sites')} · ${periodLabel(period)} ${periodText(rep)}`),
			figures(rep),
			el('div.two', null, dayChart(rep), outcomeChart(rep)),
			outcomeTable(rep),
			repeatTables(rep),
			el('p.links', null,
				el('a#report-csv.button', { href: '/api/reports.csv' + query(q), download: `firelane-report-${site || 'all'}-${period}-${date}.csv` }, t('Download CSV')),
				' ',
				el('a#weekly-link.button', { href: '/reports/weekly' + query({ site, date }) }, t('Printable weekly report')))));
}

// All incidents that started in [from, to) for the weekly list (paged
// through the API at its maximum page size).
async function incidentsOfWeek(site, from, to) {
	const out = [];
	for (let offset = 0; ; offset += 1000) {
		const r = await api('GET', '/api/incidents' + query({ site, from: Math.floor(from), to: Math.floor(to), limit: 1000, offset }));
		out.push(...r.incidents);
		if (!r.incidents.length || out.length >= r.total) break;
	}
	return out.reverse(); // oldest first reads as a week's log
}

export async function weeklyPage(page, ctx) {
	const p = ctx.params;
	const defSite = session.role === 'property' && session.sites.length ? session.sites[0] : '';
	const site = p.get('site') ?? defSite;
	const date = /^\d{4}-\d{2}-\d{2}$/.test(p.get('date') || '') ? p.get('date') : today();
	const rep = await api('GET', '/api/reports' + query({ site, period: 'week', date }));
	const incidents = await incidentsOfWeek(site, rep.from, rep.to);
	const range = periodText(rep);
	setTitle(t('Weekly report {site} {range}', { site: site || t('all sites'), range }));
	const shift = (days) => {
		const d = new Date(date + 'T12:00:00Z');
		d.setUTCDate(d.getUTCDate() + days);
		return '/reports/weekly' + query({ site, date: d.toISOString().slice(0, 10) });
	};
	page.append(el('div.screen-only.toolbar', null,
		el('a.button', { href: shift(-7) }, t('← Previous week')),
		el('a.button', { href: shift(7) }, t('Next week →')),
		el('button#print', { type: 'button', onclick: () => window.print() }, t('Print / save as PDF')),
		el('a', { href: '/reports' + query({ site, period: 'week', date }) }, t('Back to reports'))));
	page.append(el('article#weekly', { dataset: { site: site || 'all', from: rep.from, to: rep.to } },
		el('header.report-head', null,
			el('h1', null, t('Fire-lane obstruction weekly report')),
			el('p.what', null, el('strong', null, t('Site: ')), el('span#weekly-site', null, site || t('all sites')),
				el('br'), el('strong', null, t('Week: ')), el('span#weekly-range', null, range),
				el('br'), el('strong', null, t('Printed: ')), fmtTime(Date.now() / 1000, true), ' ' + t('by {user}', { user: session.user }))),
		el('section.sheet', null, el('h2', null, t('Figures')), figures(rep), outcomeTable(rep)),
		el('section.sheet.charts', null, el('h2', null, t('Charts')), dayChart(rep), outcomeChart(rep)),
		el('section.sheet', null, repeatTables(rep)),
		el('section.sheet.break', null, el('h2', null, t('Incidents of the week ({n})', { n: incidents.length })),
			table({ id: 'weekly-incidents' }, [t('Start'), t('Site'), t('Lane'), t('Status'), t('Blocked'), t('Outcome'), t('Incident')],
				incidents.length ? incidents.map((i) => el('tr', { dataset: { incident: i.incident_id, outcome: i.outcome || 'none' } },
					el('td.time', null, fmtTime(i.rest_since ?? i.start)),
					el('td', { title: i.site }, i.site_name || i.site),
					el('td', { title: i.lane }, i.lane_name || i.lane),
					el('td', null, statusBadge(i.status)),
					el('td.num', null, fmtDuration(i.cleared != null && (i.rest_since ?? i.start) != null ?
						i.cleared - (i.rest_since ?? i.start) : null)),
					el('td', null, outcomeBadge(i.outcome)),
					el('td.id', null, el('a', { href: '/incidents/' + encodeURIComponent(i.incident_id) }, i.incident_id)))) :
					[el('tr.empty', null, el('td', { colspan: 7 }, t('No incidents this week.')))]))));
}
