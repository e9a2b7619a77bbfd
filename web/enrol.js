// enrol.js - "add a device" (enrolment by one-time code, docs/api.md
// "Enrolment"), on the /admin page and the /devices page (admins, and
// installers for their own sites: the site is chosen from theirs): the
// user names the device and its site and
// gets a code, its expiry and a QR code of firelane-enrol:<hub>?code=<code>
// to give the installer, who runs `firelane-edge --enrol HUB_URL CODE` on
// the device. The code is shown once (the hub keeps only its hash); the
// pending codes are listed with a button to revoke each.
//
// The QR code is the hub's SVG (src/hub/enrol.c, numbers only) shown as an
// image from a data: URL: never inserted as markup.

import { api, el, field, select, session, table, fmtTime, t } from './ui.js';
import { render } from './app.js';

const NAME = '[A-Za-z0-9_.\\-]+';

// The command an installer types on the device.
function command(c) {
	const hub = c.url.replace(/^firelane-enrol:/, '').replace(/\?code=.*$/, '');
	return `firelane-edge --config /etc/firelane/edge.yaml --enrol ${hub} ${c.code}`;
}

function shown(c) {
	return el('div.enrol-code#enrol-code', { dataset: { device: c.device } },
		el('p', null, t('Code for {device} ({site}):', { device: c.device, site: c.site })),
		el('p.code', { id: 'enrol-code-text' }, c.code),
		el('p', null, t('Valid until {when}; it works once.', { when: fmtTime(c.expires) })),
		el('img.qr', { id: 'enrol-qr', alt: t('QR code of the enrolment'), src: 'data:image/svg+xml;charset=utf-8,' + encodeURIComponent(c.qr_svg) }),
		el('p', null, t('On the device:')),
		el('pre', null, el('code', null, command(c))));
}

function pendingTable(codes) {
	return table({ id: 'enrol-codes' }, [t('Device id'), t('Site'), t('Created'), t('Valid until'), ''],
		codes.length ? codes.map((c) => el('tr', { dataset: { device: c.device, id: c.id } },
			el('td', null, el('code', null, c.device)), el('td', null, c.site),
			el('td.time', null, fmtTime(c.created)), el('td.time', null, fmtTime(c.expires)),
			el('td', null, el('button.danger.small', {
				type: 'button', 'aria-label': t('Revoke the code for {device}', { device: c.device }),
				onclick: async (ev) => {
					if (!confirm(t('Revoke the code for {device}?', { device: c.device }))) return;
					ev.target.disabled = true;
					try {
						await api('DELETE', `/api/devices/enrol-codes/${encodeURIComponent(c.id)}`);
						render();
					} catch (e) {
						ev.target.disabled = false;
						alert(e.message);
					}
				},
			}, t('Revoke'))))) :
			[el('tr.empty', null, el('td', { colspan: 5 }, t('No pending codes.')))]);
}

export function enrolCodeSection(codes) {
	const error = el('p.error', { id: 'add-device-error', role: 'alert' });
	const out = el('div', { id: 'add-device-out', 'aria-live': 'polite' });
	const f = el('form', { id: 'add-device' }, el('h3', null, t('Add a device (one-time code)')),
		field(t('Device id'), el('input', { name: 'device', required: true, pattern: NAME, autocomplete: 'off' })),
		field(t('Site'), session.role === 'installer' ? select('site', session.sites.map((s) => [s, s]), session.sites[0]) :
			el('input', { name: 'site', required: true, pattern: NAME })),
		el('div.buttons', null, el('button', { type: 'submit' }, t('Make a code'))), error, out);
	const list = el('div', { id: 'enrol-codes-box' }, el('h3', null, t('Pending codes')), pendingTable(codes));
	f.addEventListener('submit', async (ev) => {
		ev.preventDefault();
		error.textContent = '';
		out.replaceChildren();
		try {
			const c = await api('POST', '/api/devices/enrol-codes', { device: f.elements.device.value.trim(), site: f.elements.site.value.trim() });
			out.append(shown(c));
			const fresh = await api('GET', '/api/devices/enrol-codes');
			list.replaceChildren(el('h3', null, t('Pending codes')), pendingTable(fresh.codes));
		} catch (e) {
			error.textContent = e.code ? `${t(`error.${e.code}`)}: ${e.message}` : e.message;
		}
	});
	return el('section.section#add-device-box', null, el('h2', null, t('Add a device')), f, list);
}
