// incident.js - the /incidents/ID page: everything an enforcement officer
// needs to decide on one incident, and the place to record the outcome.
//
// Evidence comes from /evidence/ID/FILE (the hub serves the verified
// bundle): the scene images in time order (their times from the signed
// manifest.json when it loads, else in file-name order, which the edge
// numbers by sequence), the composite, the close-up and the clip. An
// incident whose bundle has not arrived says so instead of showing broken
// images, and so does one whose files the hub's retention removed
// (evidence_pruned, evidence_keep_days): then only the file table with the
// SHA-256 of each file as received remains. The signature check is the hub's verification of the signed
// manifest against the device's enrolled key (verify_report). A file the
// hub found no longer matching what verified (tampered) is never requested:
// the hub refuses it (410), so the page shows a marked placeholder, the
// file table says tampered and the signature check says so first. The outcome
// history is shown oldest first, as the API returns it, so amendments read
// top to bottom.

import {
	session, api, el, field, select, table, fmtTime, fmtDuration, outcomeBadge,
	statusBadge, blockedSeconds, setTitle, OUTCOMES, outcomeLabel, t,
} from './ui.js';

const eventLabel = (type) => ({
	occupied: t('Object came to rest (occupied)'),
	warned: t('On-site warning'),
	alarm: t('Alarm: property manager alerted'),
	escalated: t('Escalated to enforcement'),
	cleared: t('Lane clear again (cleared)'),
	vacated: t('Left before the alarm (vacated)'),
	interrupted: t('Interrupted'),
	evidence: t('Evidence bundle sent'),
})[type] || type;

// Outcomes a role may record (docs/api.md: property managers not fined or
// towed; the hub refuses them with 403 anyway).
function allowedOutcomes() {
	return session.role === 'property' ? OUTCOMES.filter((o) => o !== 'fined' && o !== 'towed') : OUTCOMES;
}

function evidenceUrl(id, name) {
	return `/evidence/${encodeURIComponent(id)}/${encodeURIComponent(name)}`;
}

// The bundle's manifest, or null when it cannot be read.
async function loadManifest(id, inc) {
	const evidence = inc.evidence || [];
	if (inc.evidence_pruned != null || !evidence.some((f) => f.name === 'manifest.json' && f.tampered == null)) return null;
	try {
		const r = await fetch(evidenceUrl(id, 'manifest.json'), { credentials: 'same-origin' });
		return r.ok ? await r.json() : null;
	} catch (e) {
		return null;
	}
}

// The manifest's image entries by file name ({wall, seq, time_utc}), or {}
// without a manifest: the page then falls back to file-name order.
function manifestImages(m) {
	return Object.fromEntries(((m && m.files) || []).map((f) => [f.name, f]));
}

// How far the evidence's times can be trusted: the device clock as the
// manifest recorded it (docs/clock.md), or null for a bundle without that.
function clockLine(m) {
	if (!m || typeof m.clock_synced !== 'boolean') return null;
	const s = (v) => (typeof v === 'number' ? v.toFixed(3) : '?');
	if (!m.clock_synced)
		return el('p.clock.bad', null, t('⚠ The device clock was not synchronised (NTP) when this evidence was taken: its times may be off.'));
	if (!m.clock_trusted)
		return el('p.clock.bad', null, t('⚠ The device clock\'s error may have been up to {s} s (over 1 s) when this evidence was taken: its times may be off.', { s: s(m.clock_maxerror_s) }));
	return el('p.clock.ok', null, t('✓ Device clock synchronised (error at most {s} s).', { s: s(m.clock_maxerror_s) }));
}

function eventDetail(inc, ev) {
	const m = ev.message || {};
	const from = inc.rest_since ?? inc.start;
	switch (ev.type) {
	case 'occupied':
	case 'alarm':
	case 'warned':
	case 'escalated':
		return m.class ? `${m.class}` : '';
	case 'cleared':
	case 'vacated':
		return from != null && ev.wall != null ? t('after {d} at rest', { d: fmtDuration(ev.wall - from) }) : '';
	case 'interrupted':
		return m.reason || '';
	case 'evidence':
		return Array.isArray(m.evidence) ? t('{n} files', { n: m.evidence.length }) : '';
	default:
		return ev.raw ? t('not JSON') : '';
	}
}

// A dialog that shows one image large (click an image to enlarge it).
function lightbox() {
	const img = el('img.large', { alt: '' });
	const caption = el('p.caption');
	const dlg = el('dialog#lightbox', { 'aria-label': t('Enlarged image') },
		el('form', { method: 'dialog' }, el('button.close', { type: 'submit', 'aria-label': t('Close') }, t('✕ Close'))),
		img, caption);
	dlg.addEventListener('click', (ev) => {
		if (ev.target === dlg || ev.target === img) dlg.close();
	});
	return {
		node: dlg,
		open(src, alt, text) {
			img.src = src;
			img.alt = alt;
			caption.textContent = text;
			dlg.showModal();
		},
	};
}

// Every file of the bundle with its SHA-256; linked while the hub has them
// (and serves them: not a tampered one).
function filesTable(inc, files, linked) {
	return table({ id: 'evidence-files' }, [t('File'), t('Kind'), t('Bytes'), 'SHA-256', t('Verified')],
		files.map((f) => el('tr', { class: f.tampered != null ? 'tampered' : null, dataset: { file: f.name } },
			el('td', null, linked && f.tampered == null ?
				el('a', { href: evidenceUrl(inc.incident_id, f.name), target: '_blank' }, f.name) : f.name),
			el('td', null, f.kind || ''),
			el('td.num', null, String(f.bytes ?? '')),
			el('td.hash', null, el('code', null, f.sha256 || '')),
			el('td', null, f.tampered != null ? t('⚠ tampered (found {when})', { when: fmtTime(f.tampered, true) }) : f.verified ? '✓' : '✗'))));
}

// In place of a tampered image or clip: a marked box, never the file.
function tamperedBox(f) {
	return el('div.tampered-file', { role: 'note', dataset: { file: f.name } },
		el('strong', null, t('⚠ {name}: tampered', { name: f.name })),
		el('span', null, ' - ' + t('it no longer matches the SHA-256 recorded when the bundle verified; not shown.')));
}

function evidenceSection(inc, manifest, box) {
	const files = inc.evidence || [];
	const byName = Object.fromEntries(files.map((f) => [f.name, f]));
	const section = el('section#evidence', { 'aria-labelledby': 'evidence-h' },
		el('h2#evidence-h', null, t('Evidence')));
	if (inc.evidence_pruned != null) {
		section.append(el('p.notice#evidence-pruned', { role: 'note' },
			t('Evidence removed on {when} by the retention setting (evidence_keep_days); the hashes below remain.', { when: fmtTime(inc.evidence_pruned, true) })));
		if (files.length) section.append(filesTable(inc, files, false));
		return section;
	}
	if (!files.length) {
		section.append(el('p.notice#no-evidence', null,
			t('No evidence received (yet). The device sends its bundle after the alarm; it appears here once the hub has it.')));
		return section;
	}
	const scenes = files.filter((f) => f.kind === 'scene' || /^scene-.*\.jpe?g$/i.test(f.name));
	const when = (f) => (manifest[f.name] && manifest[f.name].wall) ?? null;
	scenes.sort((a, b) => {
		const wa = when(a), wb = when(b);
		if (wa !== null && wb !== null && wa !== wb) return wa - wb;
		return a.name.localeCompare(b.name, undefined, { numeric: true });
	});
	const figure = (f, cls, id) => {
		if (f.tampered != null) return el('figure', null, tamperedBox(f), el('figcaption', null, el('span.name', null, f.name)));
		const src = evidenceUrl(inc.incident_id, f.name);
		const at = when(f);
		const text = `${f.name}${at !== null ? ' · ' + fmtTime(at, true) : ''}`;
		const img = el(`img.${cls}`, { src, alt: t('{kind} image {name}', { kind: cls, name: f.name }), id, loading: 'eager', tabindex: 0 });
		const open = () => box.open(src, img.alt, text);
		img.addEventListener('click', open);
		img.addEventListener('keydown', (ev) => {
			if (ev.key === 'Enter' || ev.key === ' ') {
				ev.preventDefault();
				open();
			}
		});
		return el('figure', null, img, el('figcaption', null, el('span.name', null, f.name),
			at !== null ? el('time', null, fmtTime(at, true)) : null));
	};
	if (scenes.length) {
		section.append(el('h3', null, t('Scene images ({n}, in time order; click to enlarge)', { n: scenes.length })),
			el('div.scenes', null, scenes.map((f) => figure(f, 'scene'))));
	}
	const pair = el('div.pair');
	if (byName['composite.jpg']) pair.append(figure(byName['composite.jpg'], 'composite', 'composite'));
	if (byName['closeup.jpg']) pair.append(figure(byName['closeup.jpg'], 'closeup', 'closeup'));
	if (pair.children.length) section.append(el('h3', null, t('Composite and close-up')), pair);
	const clip = files.find((f) => f.kind === 'clip' || /\.mp4$/i.test(f.name));
	if (clip && clip.tampered != null) {
		section.append(el('h3', null, t('Clip')), tamperedBox(clip));
	} else if (clip) {
		section.append(el('h3', null, t('Clip')),
			el('video#clip', {
				controls: true, preload: 'metadata', playsinline: true, muted: true,
				src: evidenceUrl(inc.incident_id, clip.name),
			}, t('Your browser cannot play this clip: '),
			el('a', { href: evidenceUrl(inc.incident_id, clip.name) }, t('download it'))));
	}
	section.append(el('details.files', null, el('summary', null, t('All {n} files', { n: files.length })),
		filesTable(inc, files, true)));
	return section;
}

function signatureSection(inc, m) {
	let cls, head;
	const tampered = (inc.evidence || []).filter((f) => f.tampered != null);
	if (inc.tampered != null) {
		cls = 'bad';
		head = t('⚠ Evidence TAMPERED: {files} no longer match the SHA-256 recorded when the bundle verified (found {when}). Not shown and not exported; do not rely on this bundle.',
			{ files: tampered.map((f) => f.name).join(', ') || t('a file'), when: fmtTime(inc.tampered, true) });
	} else if (inc.verified === 1 || inc.verified === true) {
		cls = 'ok';
		head = t('✓ Evidence verified: every file matches the manifest signed by the enrolled device key.');
	} else if (inc.verified === 0 || inc.verified === false) {
		cls = 'bad';
		head = t('✗ Evidence FAILED verification: do not rely on it.');
	} else {
		cls = 'none';
		head = t('Not checked: no evidence received (yet).');
	}
	return el(`section#signature.${cls}`, { 'aria-labelledby': 'signature-h' },
		el('h2#signature-h', null, t('Signature check')),
		el('p.verdict', null, head),
		inc.evidence_pruned != null ?
			el('p.hint', null, t('Checked when the bundle was received; its files have since been removed.')) : null,
		clockLine(m),
		inc.verify_report ? el('pre.report', null, inc.verify_report) : null);
}

function timelineSection(inc) {
	return el('section#timeline-box', { 'aria-labelledby': 'timeline-h' },
		el('h2#timeline-h', null, t('Timeline')),
		el('ol#timeline', null, (inc.events || []).map((ev) =>
			el('li', { dataset: { type: ev.type, seq: ev.seq } },
				el('time', null, fmtTime(ev.wall, true)), ' ',
				el('span.what', null, eventLabel(ev.type)), ' ',
				el('span.detail', null, eventDetail(inc, ev))))));
}

function historyTable(inc) {
	const rows = (inc.outcomes || []).map((o, i, all) =>
		el('tr', { class: i === all.length - 1 ? 'current' : 'amended' },
			el('td', null, outcomeBadge(o.outcome)),
			el('td.note', null, o.note || ''),
			el('td', null, o.user || ''),
			el('td.time', null, fmtTime(o.wall))));
	return table({ id: 'outcome-history' }, [t('Outcome'), t('Note'), t('By'), t('When')],
		rows.length ? rows : [el('tr.empty', null, el('td', { colspan: 4 }, t('No outcome recorded yet.')))],
		t('History, oldest first; the last entry is the current outcome.'));
}

// The plate as a person reads it off the evidence (POST .../plate,
// audited): it then stands over the device's reads; "" clears it, and the
// device's next read counts again (docs/api.md).
function plateForm(inc, redraw) {
	const error = el('p.error#plate-error', { role: 'alert' });
	const ok = el('p.ok#plate-saved', { 'aria-live': 'polite' });
	const by = inc.plate_by === 'device' ? t('read by the device') :
		inc.plate_by ? t('entered by {user}', { user: inc.plate_by }) : '';
	const form = el('form#plate-form', null,
		field(t('Plate'), el('input', { name: 'plate', value: inc.plate || '', size: 10, maxlength: 16 })),
		el('div.buttons', null, el('button.secondary', { type: 'submit' }, t('Save plate'))),
		by ? el('p.hint#plate-by', null, by) : null, error, ok);
	form.addEventListener('submit', async (ev) => {
		ev.preventDefault();
		error.textContent = '';
		try {
			const updated = await api('POST', `/api/incidents/${encodeURIComponent(inc.incident_id)}/plate`,
				{ plate: form.elements.plate.value.trim() });
			redraw(updated);
			const saved = document.getElementById('plate-saved');
			if (saved) saved.textContent = updated.plate ? t('Plate saved: {plate}.', { plate: updated.plate }) : t('Plate cleared.');
		} catch (e) {
			error.textContent = t('Not saved: {why}', { why: e.message });
		}
	});
	return form;
}

function outcomeSection(inc, redraw) {
	const error = el('p.error#outcome-error', { role: 'alert', 'aria-live': 'assertive' });
	const ok = el('p.ok#outcome-saved', { 'aria-live': 'polite' });
	const button = el('button', { type: 'submit' }, inc.outcome ? t('Amend outcome') : t('Record outcome'));
	const form = el('form#outcome-form', null,
		field(t('Outcome'), select('outcome', allowedOutcomes().map((o) => [o, outcomeLabel(o)]),
			allowedOutcomes().includes(inc.outcome) ? inc.outcome : allowedOutcomes()[0])),
		field(t('Note'), el('textarea', { name: 'note', rows: 3, maxlength: 2000, placeholder: t('what happened, ticket number, ...') })),
		el('div.buttons', null, button),
		session.role === 'property' ?
			el('p.hint', null, t('Fines and towing are recorded by enforcement.')) : null,
		error, ok);
	form.addEventListener('submit', async (ev) => {
		ev.preventDefault();
		error.textContent = '';
		ok.textContent = '';
		button.disabled = true;
		try {
			const updated = await api('POST', `/api/incidents/${encodeURIComponent(inc.incident_id)}/outcome`, {
				outcome: form.elements.outcome.value, note: form.elements.note.value,
			});
			redraw(updated);
			const saved = document.getElementById('outcome-saved');
			if (saved) saved.textContent = t('Recorded: {outcome}.', { outcome: outcomeLabel(updated.outcome) });
		} catch (e) {
			error.textContent = e.status === 403 ? t('Not allowed: {why}', { why: e.message }) : t('Not recorded: {why}', { why: e.message });
		} finally {
			button.disabled = false;
		}
	});
	return el('section#outcome', { 'aria-labelledby': 'outcome-h' },
		el('h2#outcome-h', null, t('Outcome')),
		el('p.current', null, t('Current: '), outcomeBadge(inc.outcome)),
		plateForm(inc, redraw),
		form,
		historyTable(inc),
		el('p', null, el('a#export.button', { href: `/api/incidents/${encodeURIComponent(inc.incident_id)}/export`, download: `${inc.incident_id}.zip` },
			t('Export case package (.zip)')),
		t(' evidence bundle, outcome history and verification report')));
}

// Who looked at or changed this incident (admin and enforcement): loaded
// when opened, so reading the page is not itself a list of audit queries.
function accessLog(inc) {
	if (session.role !== 'admin' && session.role !== 'enforcement') return null;
	const body = el('div.access-body', null, el('p.hint', null, t('Loading…')));
	const box = el('details#access-log', null, el('summary', null, t('Access log (who viewed, exported or recorded)')), body);
	box.addEventListener('toggle', async () => {
		if (!box.open) return;
		try {
			const a = await api('GET', `/api/incidents/${encodeURIComponent(inc.incident_id)}/audit`);
			body.replaceChildren(table({ id: 'incident-audit' }, [t('When'), t('User'), t('Action'), t('Detail')],
				a.audit.length ? a.audit.map((r) => el('tr', { dataset: { action: r.action } },
					el('td.time', null, fmtTime(r.wall)), el('td', null, r.user || ''),
					el('td', null, r.action), el('td', null, r.detail || ''))) :
					[el('tr.empty', null, el('td', { colspan: 4 }, t('No entries.')))],
				t('{n} entries, newest first', { n: a.total ?? a.audit.length })));
		} catch (e) {
			body.replaceChildren(el('p.error', null, t('Could not load the access log: {why}', { why: e.message })));
		}
	});
	return box;
}

function summary(inc) {
	const dl = el('dl.facts');
	const add = (k, v) => dl.append(el('dt', null, k), el('dd', null, v));
	add(t('Site'), inc.site_name ? `${inc.site_name} (${inc.site})` : inc.site);
	add(t('Lane'), inc.lane_name ? `${inc.lane_name} (${inc.lane})` : inc.lane);
	add(t('Camera'), inc.camera);
	add(t('Device'), inc.device);
	add(t('Status'), statusBadge(inc.status));
	add(t('At rest since'), fmtTime(inc.rest_since ?? inc.start, true));
	add(t('Alarm'), fmtTime(inc.alarm, true) || '–');
	add(t('Cleared'), fmtTime(inc.cleared ?? inc.closed, true) || '–');
	add(t('Blocked'), fmtDuration(blockedSeconds(inc)));
	if (inc.class) add(t('Object'), inc.class);
	if (inc.plate) add(t('Plate'), inc.plate);
	if (inc.owner) add(t('Owner'), ownerLine(inc));
	return dl;
}

// The registered owner of the vehicle (docs/api.md): name, building/unit
// and the phone masked; "Show phone" asks for it in full (audited).
function ownerLine(inc) {
	const o = inc.owner;
	const phone = el('span.phone#owner-phone', null, o.phone_masked);
	const show = el('button.small#owner-reveal', { type: 'button' }, t('Show phone'));
	show.addEventListener('click', async () => {
		show.disabled = true;
		try {
			const r = await api('POST', `/api/incidents/${encodeURIComponent(inc.incident_id)}/owner_phone`);
			phone.textContent = r.phone;
			show.remove();
		} catch (e) {
			show.disabled = false;
			phone.textContent = `${o.phone_masked} (${e.message})`;
		}
	});
	return el('span#owner', null, `${o.unit} ${o.name} `, phone, ' ', show);
}

export async function incidentPage(page, ctx) {
	const id = decodeURIComponent(ctx.match[1]);
	setTitle(id);
	let inc;
	try {
		inc = await api('GET', `/api/incidents/${encodeURIComponent(id)}`);
	} catch (e) {
		if (e.status !== 404) throw e;
		page.append(el('section.notice#not-found', { role: 'alert' },
			el('h1', null, t('Incident not found')),
			el('p', null, t('There is no incident {id} that you may see.', { id })),
			el('p', null, el('a', { href: '/incidents' }, t('← Back to the incidents')))));
		return;
	}
	const m = await loadManifest(id, inc);
	const manifest = manifestImages(m);
	if (ctx.stale()) return;
	const box = lightbox();
	const root = el('article#incident', { dataset: { incident: inc.incident_id } });
	// Recording an outcome redraws only the outcome section (the images and
	// the clip stay as they are).
	let outcomeNode = null;
	const drawOutcome = (i) => {
		const s = outcomeSection(i, drawOutcome);
		if (outcomeNode) outcomeNode.replaceWith(s);
		outcomeNode = s;
	};
	drawOutcome(inc);
	// DOM append() would print a null as the text "null": drop them.
	root.append(...[
		el('p.crumbs', null, el('a', { href: '/incidents' }, t('← Incidents'))),
		el('h1', null, `${inc.site_name || inc.site} · ${inc.lane_name || inc.lane} `, statusBadge(inc.status)),
		el('p.id', null, el('code', null, inc.incident_id)),
		el('div.top', null, summary(inc), signatureSection(inc, m)),
		evidenceSection(inc, manifest, box),
		el('div.two', null, timelineSection(inc), outcomeNode),
		accessLog(inc),
		(inc.evidence || []).length && inc.evidence_pruned == null ? box.node : null].filter(Boolean));
	page.append(root);
}
