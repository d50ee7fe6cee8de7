import { expect } from 'chai';
import type { Express } from 'express';
import request from 'supertest';
import type { EventIdCodec } from '../../lib/audit/event-ids';
import type { Consent } from '../../lib/index';
import { EXPORT_PAGE } from '../../lib/io/event-export';
import type { AuditEvent } from '../../lib/tracker/admin-records';
import { ADMIN, headerAdmin } from '../helpers/admin';
import { BACKENDS, REQUIREMENTS, routerApp, testConsent, type TestDatabase } from '../helpers/app';
import { expectProblem } from '../helpers/problem';

const COLUMNS = ['id', 'at', 'requirement', 'version', 'action', 'state', 'source', 'subject', 'actor', 'context', 'locale'];
// More subjects than fit one export page, so the stream crosses a page boundary.
const SUBJECTS = Math.ceil((EXPORT_PAGE + 5) / REQUIREMENTS.length);

/** A strict RFC 4180 parser (quoted cells, doubled quotes, CRLF records). */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i += 1) {
    const c = text[i] as string;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') { cell += '"'; i += 1; } else if (c === '"') quoted = false; else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') { row.push(cell); cell = ''; }
    else if (c === '\r' && text[i + 1] === '\n') { row.push(cell); rows.push(row); row = []; cell = ''; i += 1; }
    else cell += c;
  }
  expect(cell, 'the last record ends with CRLF').to.equal('');
  return rows;
}

/** The row of a stored event, its id as callers see it. */
const expectedRow = (ids: EventIdCodec) => (e: AuditEvent) => [ids.encode(e.id), new Date(e.at).toISOString(), e.requirement, String(e.version), e.action, e.state, e.source, e.subject ?? '', e.actor ?? '', e.context ?? '', e.locale ?? ''];

for (const backend of BACKENDS) {
  backend.describe(`GET /admin/export (${backend.name})`, function (this: Mocha.Suite) {
    this.timeout(120_000);
    let db: TestDatabase;
    let close: () => Promise<void>;
    let consent: Consent;
    let app: Express;
    let all: AuditEvent[];
    let expected: (e: AuditEvent) => string[];

    before(async () => {
      db = await backend.open();
      const t = await testConsent(db, { admin: { authorize: headerAdmin } });
      close = t.close;
      consent = t.consent;
      app = routerApp(consent);
      for (let i = 0; i < SUBJECTS; i += 1) {
        const decision = i % 3 === 0 ? 'denied' : 'granted';
        await consent.record(`user-${String(i)}`, Object.fromEntries(REQUIREMENTS.map((r) => [r.id, decision])));
      }
      await consent.erase('user-1');
      const tracker = consent.engine.tracker;
      all = await (tracker.auditEvents as NonNullable<typeof tracker.auditEvents>)({ order: 'oldest', limit: 100_000 });
      expect(all.length).to.be.greaterThan(EXPORT_PAGE);
      expected = expectedRow(consent.engine.eventIds);
    });
    after(async () => {
      await close();
      await db.cleanup();
    });

    it('streams every event as CSV, oldest first, with the pseudonym as subject', async () => {
      const res = await request(app).get('/consent/admin/export?format=csv').set(ADMIN).buffer(true).parse((r, done) => {
        let text = '';
        r.setEncoding('utf8');
        r.on('data', (chunk: string) => { text += chunk; });
        r.on('end', () => { done(null, text); });
      }).expect(200);
      expect(res.headers['content-type']).to.equal('text/csv; charset=utf-8');
      expect(res.headers['content-disposition']).to.equal('attachment; filename="consent-events.csv"');
      const rows = parseCsv(res.body as string);
      expect(rows[0]).to.deep.equal(COLUMNS);
      expect(rows.slice(1)).to.deep.equal(all.map(expected));
      const erased = rows.filter((r) => r[4] === 'erase');
      expect(erased).to.have.length(1);
      expect(rows.filter((r) => r[7] === consent.engine.pseudonym('user-2'))).to.have.length(REQUIREMENTS.length);
    });

    it('streams NDJSON with the same rows, and the same filters as /admin/events', async () => {
      const res = await request(app).get('/consent/admin/export?format=ndjson').set(ADMIN).buffer(true).parse((r, done) => {
        let text = '';
        r.setEncoding('utf8');
        r.on('data', (chunk: string) => { text += chunk; });
        r.on('end', () => { done(null, text); });
      }).expect(200);
      expect(res.headers['content-type']).to.equal('application/x-ndjson; charset=utf-8');
      expect(res.headers['content-disposition']).to.equal('attachment; filename="consent-events.ndjson"');
      const lines = (res.body as string).split('\n');
      expect(lines.pop()).to.equal('');
      const parsed = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
      expect(parsed.map((o) => Object.keys(o))).to.deep.equal(parsed.map(() => COLUMNS));
      expect(parsed.map((o) => COLUMNS.map((c) => (o[c] === null ? '' : String(o[c] as string | number | boolean))))).to.deep.equal(all.map(expected));
      const filtered = await request(app).get('/consent/admin/export?format=ndjson&requirement=ads&action=deny').set(ADMIN).buffer(true)
        .parse((r, done) => { let t = ''; r.on('data', (c: Buffer) => { t += c.toString(); }); r.on('end', () => { done(null, t); }); }).expect(200);
      const denies = (filtered.body as string).trim().split('\n').map((l) => JSON.parse(l) as { id: string });
      expect(denies.map((d) => d.id)).to.deep.equal(all.filter((e) => e.requirement === 'ads' && e.action === 'deny').map((e) => expected(e)[0]));
    });

    it('rejects an unknown format', async () => {
      const body = expectProblem(await request(app).get('/consent/admin/export?format=xlsx').set(ADMIN), 400, 'invalid_body');
      expect(body.errors).to.deep.equal([{ pointer: '/format', detail: 'must be csv or ndjson' }]);
    });
  });
}
