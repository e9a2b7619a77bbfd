// admin.js - the /admin page (administrators): users (list, add, delete),
// device enrolment (id, site, the device's base64 Ed25519 public key, as
// `firelane-edge --print-public-key` prints it), the quarantine (messages the
// hub refused, with the reason) and the audit log. The same as the command
// line's --add-user and --enrol-device (docs/hub.md), through the API; and
// adding a device by one-time code (enrol.js).

import { api, el, field, select, table, query, fmtTime, setTitle, t, roleLabel } from './ui.js';
import { render } from './app.js';
import { enrolCodeSection } from './enrol.js';

const LIMIT = 50;

function form(id, title, fields, submitText, send) {
	const error = el('p.error', { id: `${id}-error`, role: 'alert' });
	const ok = el('p.ok', { id: `${id}-ok`, 'aria-live': 'polite' });
	const f = el('form', { id }, el('h3', null, title), fields, el('div.buttons', null, el('button', { type: 'submit' }, submitText)), error, ok);
	f.addEventListener('submit', async (ev) => {
		ev.preventDefault();
		error.textContent = '';
		ok.textContent = '';
		try {
			ok.textContent = await send(f.elements);
			setTimeout(render, 600);
		} catch (e) {
			error.textContent = e.code ? `${t(`error.${e.code}`)}: ${e.message}` : e.message;
		}
	});
	return f;
}

function usersSection(users) {
	const rows = users.map((u) => el('tr', { dataset: { user: u.name } },
		el('td', null, u.name), el('td', { dataset: { role: u.role } }, roleLabel(u.role)), el('td', null, u.sites || (u.role === 'property' || u.role === 'installer' ? t('none') : t('all'))),
		el('td.time', null, fmtTime(u.created)),
		el('td', null, el('button.danger.small', {
			type: 'button', 'aria-label': t('Delete user {name}', { name: u.name }),
			onclick: async (ev) => {
				if (!confirm(t('Delete user {name}?', { name: u.name }))) return;
				ev.target.disabled = true;
				try {
					await api('DELETE', '/api/users?name=' + encodeURIComponent(u.name)); // any name, also one with a '/'
					render();
				} catch (e) {
					ev.target.disabled = false;
					alert(t('Not deleted: {why}', { why: e.message }));
				}
			},
		}, t('Delete')))));
	const add = form('add-user', t('Add a user'), [
		field(t('Name'), el('input', { name: 'name', required: true, autocomplete: 'off', maxlength: 64 })),
		field(t('Password'), el('input', { name: 'password', type: 'password', required: true, autocomplete: 'new-password' })),
		field(t('Role'), select('role', ['enforcement', 'property', 'installer', 'admin'].map((r) => [r, roleLabel(r)]), 'enforcement')),
		field(t('Sites (property managers, installers; comma separated)'), el('input', { name: 'sites', placeholder: 'site-a,site-b' })),
	], t('Add user'), async (e) => {
		await api('POST', '/api/users', {
			name: e.name.value.trim(), password: e.password.value, role: e.role.value,
			sites: e.sites.value.split(',').map((s) => s.trim()).filter(Boolean),
		});
		return t('User {name} added.', { name: e.name.value.trim() });
	});
	return el('section.section#users-box', null, el('h2', null, t('Users')),
		table({ id: 'users' }, [t('Name'), t('Role'), t('Sites'), t('Created'), ''], rows), add);
}

function enrolSection() {
	return el('section.section#enrol-box', null, el('h2', null, t('Enrol a device')),
		form('enrol', t('Enrol or re-enrol'), [
			field(t('Device id'), el('input', { name: 'device', required: true, pattern: '[A-Za-z0-9_.\\-]+' })),
			field(t('Site'), el('input', { name: 'site', required: true, pattern: '[A-Za-z0-9_.\\-]+' })),
			field(t('Public key (base64, from firelane-edge --print-public-key)'), el('textarea', { name: 'public_key', rows: 2, required: true })),
		], t('Enrol'), async (e) => {
			await api('POST', '/api/devices', { device: e.device.value.trim(), site: e.site.value.trim(), public_key: e.public_key.value.trim() });
			return t('Device {device} enrolled for {site}.', { device: e.device.value.trim(), site: e.site.value.trim() });
		}));
}

function quarantineSection(q) {
	return el('section.section#quarantine-box', null, el('h2', null, t('Quarantine ({n}; newest {limit})', { n: q.total ?? q.quarantine.length, limit: LIMIT })),
		table({ id: 'quarantine' }, [t('When'), t('Topic'), t('Reason'), t('Bytes'), t('Payload')],
			q.quarantine.length ? q.quarantine.map((r) => el('tr', null,
				el('td.time', null, fmtTime(r.wall)), el('td.topic', null, el('code', null, r.topic || '')),
				el('td', null, r.reason || ''), el('td.num', null, String(r.bytes ?? '')),
				el('td.payload', null, el('code', null, (r.payload ?? (r.payload_b64 ? 'base64: ' + r.payload_b64 : '')).slice(0, 160))))) :
				[el('tr.empty', null, el('td', { colspan: 5 }, t('Nothing quarantined.')))]));
}

function auditSection(a) {
	return el('section.section#audit-box', null, el('h2', null, t('Audit log ({n}; newest {limit})', { n: a.total ?? a.audit.length, limit: LIMIT })),
		table({ id: 'audit' }, [t('When'), t('User'), t('Action'), t('Object'), t('Detail')],
			a.audit.length ? a.audit.map((r) => el('tr', { dataset: { action: r.action } },
				el('td.time', null, fmtTime(r.wall)), el('td', null, r.user || ''), el('td', null, r.action),
				el('td', null, r.object ? el('code', null, r.object) : ''),
				el('td', null, r.detail || ''))) :
				[el('tr.empty', null, el('td', { colspan: 5 }, t('No entries.')))]));
}

export async function adminPage(page) {
	setTitle(t('Admin'));
	const [users, q, a, codes] = await Promise.all([
		api('GET', '/api/users'),
		api('GET', '/api/quarantine' + query({ limit: LIMIT })),
		api('GET', '/api/audit' + query({ limit: LIMIT })),
		api('GET', '/api/devices/enrol-codes'),
	]);
	page.append(el('h1', null, t('Administration')),
		el('div.two', null, usersSection(users.users), enrolSection()),
		enrolCodeSection(codes.codes), quarantineSection(q), auditSection(a));
}
