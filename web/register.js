// register.js - the /register page (admins and property managers): a
// site's resident vehicle register (plate, owner, building/unit, phone),
// imported from a CSV file and listed with the phones masked
// (docs/api.md, "The resident vehicle register"). An import replaces the
// site's register as a whole; a file with bad rows is refused and the
// answer names each row and why, so nothing is half imported.

import { api, el, field, select, table, fmtTime, session, setTitle } from './ui.js';
import { t } from './i18n.js';
import { render } from './app.js';

// The CSV body as it is (api() sends JSON): the same headers and errors.
async function importCsv(site, text) {
	const r = await fetch(`/api/sites/${encodeURIComponent(site)}/register`, {
		method: 'POST', credentials: 'same-origin',
		headers: { 'X-CSRF-Token': session.csrf || '', 'Content-Type': 'text/csv; charset=utf-8', Accept: 'application/json' },
		body: text,
	});
	const data = await r.json().catch(() => null);
	if (!r.ok) throw new Error((data && data.error) || `${r.status} ${r.statusText}`);
	return data;
}

export async function registerPage(page, ctx) {
	setTitle(t('Resident vehicles'));
	const sites = session.role === 'property' ? session.sites :
		((await api('GET', '/api/sites')).sites || []).map((s) => s.site || s);
	const site = ctx.params.get('site') || sites[0] || '';
	page.append(el('h1', null, t('Resident vehicles')));
	if (!site) {
		page.append(el('p.hint', null, t('No site to show.')));
		return;
	}
	const reg = await api('GET', `/api/sites/${encodeURIComponent(site)}/register`);
	if (ctx.stale()) return;
	const pick = select('site', sites.map((s) => [s, s]), site);
	pick.addEventListener('change', () => {
		history.pushState(null, '', `/register?site=${encodeURIComponent(pick.value)}`);
		render();
	});
	const error = el('p.error#register-error', { role: 'alert' });
	const ok = el('p.ok#register-ok', { 'aria-live': 'polite' });
	const file = el('input#register-file', { type: 'file', name: 'file', accept: '.csv,text/csv' });
	const form = el('form#register-import', null,
		el('h2', null, t('Import')),
		el('p.hint', null, t('A CSV file with the columns plate, owner, unit (building/unit) and phone. It replaces this site\'s register; a file with a bad row changes nothing.')),
		field(t('CSV file'), file), el('div.buttons', null, el('button', { type: 'submit' }, t('Import'))), error, ok);
	form.addEventListener('submit', async (ev) => {
		ev.preventDefault();
		error.textContent = '';
		ok.textContent = '';
		try {
			if (!file.files.length) throw new Error(t('choose a CSV file'));
			const r = await importCsv(site, await file.files[0].text());
			ok.textContent = t('{n} vehicles imported.', { n: r.imported });
			setTimeout(render, 600);
		} catch (e) {
			error.textContent = t('Not imported: {why}', { why: e.message });
		}
	});
	const rows = reg.residents.map((r) => el('tr', { dataset: { plate: r.plate } },
		el('td.plate', null, r.plate), el('td', null, r.owner), el('td', null, r.unit),
		el('td.phone', null, r.phone), el('td.time', null, fmtTime(r.imported))));
	page.append(field(t('Site'), pick), form,
		el('section.section', null, el('h2', null, t('Register of {site}', { site })),
			table({ id: 'register' }, [t('Plate'), t('Owner'), t('Building/unit'), t('Phone'), t('Imported')],
				rows.length ? rows : [el('tr.empty', null, el('td', { colspan: 5 }, t('No vehicles registered.')))],
				t('{n} vehicles; phones masked', { n: rows.length }))));
}
