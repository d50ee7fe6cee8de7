import { expect } from 'chai';
import request from 'supertest';
import type { Response } from 'supertest';
import { BACKENDS, routerApp, testConsent, type TestDatabase } from '../helpers/app';
import { ADMIN, headerAdmin } from '../helpers/admin';
import { checkDocument, checkSchema } from '../helpers/schema-check';

type Doc = Record<string, unknown> & { paths: Record<string, Record<string, { responses: Record<string, { content: Record<string, { schema: unknown }> }> }>> };

/** Checks a real response against the document: a documented status, content type and schema. */
function conforms(doc: Doc, path: string, method: string, res: Response): void {
  const operation = doc.paths[path]?.[method];
  expect(operation, `${method} ${path}`).to.be.an('object');
  const documented = operation?.responses[String(res.status)];
  expect(documented, `${method} ${path} ${String(res.status)} is documented`).to.be.an('object');
  const type = String(res.headers['content-type']).split(';')[0] as string;
  const media = documented?.content[type];
  expect(media, `${method} ${path} ${String(res.status)} ${type}`).to.be.an('object');
  const body: unknown = type.endsWith('json') ? res.body : typeof res.body === 'string' ? res.body : res.text;
  expect(checkSchema(doc, media?.schema, body), `${method} ${path} ${String(res.status)}`).to.deep.equal([]);
}

/** Reads any body as text (superagent leaves unknown types like NDJSON unparsed). */
function asText(res: NodeJS.EventEmitter, done: (error: Error | null, body: string) => void): void {
  let text = '';
  res.on('data', (chunk: Buffer) => {
    text += chunk.toString('utf8');
  });
  res.on('end', () => { done(null, text); });
}

BACKENDS[0]?.describe('OpenAPI document', () => {
  let db: TestDatabase;
  let t: Awaited<ReturnType<typeof testConsent>>;

  before(async () => {
    db = await (BACKENDS[0] as (typeof BACKENDS)[number]).open();
    t = await testConsent(db);
  });
  after(async () => {
    await t.close();
    await db.cleanup();
  });

  it('describes every real response of the mounted routes', async () => {
    const app = routerApp(t.consent);
    const doc = (await request(app).get('/consent/openapi.json').expect(200)).body as Doc;
    const as = { 'x-test-user': 'oa' };
    const checks: Array<[string, string, Response]> = [
      ['/openapi.json', 'get', await request(app).get('/consent/openapi.json')],
      ['/requirements', 'get', await request(app).get('/consent/requirements')],
      ['/me', 'get', await request(app).get('/consent/me').set(as)],
      ['/me', 'get', await request(app).get('/consent/me')],
      ['/me/{id}', 'put', await request(app).put('/consent/me/analytics').set(as).send({ decision: 'granted', note: 'n', data: { a: 1 } })],
      ['/me/{id}', 'put', await request(app).put('/consent/me/newsletter').set(as).send({ decision: 'granted' })],
      ['/me/{id}', 'put', await request(app).put('/consent/me/nope').set(as).send({ decision: 'granted' })],
      ['/me/{id}', 'put', await request(app).put('/consent/me/analytics').set(as).send({ decision: 'x' })],
      ['/me/{id}', 'put', await request(app).put('/consent/me/analytics').set(as).send({ decision: 'granted', version: 7 })],
      ['/me/{id}', 'put', await request(app).put('/consent/me/analytics').set(as).type('text').send('x')],
      ['/me/{id}', 'put', await request(app).put('/consent/me/analytics').set(as).type('json').send(`"${'x'.repeat(20000)}"`)],
      ['/me', 'post', await request(app).post('/consent/me').set(as).send({ decisions: { ads: 'denied', fraud: { decision: 'denied', version: 1 } } })],
      ['/me', 'post', await request(app).post('/consent/me').set(as).send({ decisions: { nope: 'denied' } })],
      ['/me/{id}', 'delete', await request(app).delete('/consent/me/analytics').set(as)],
      ['/me/history', 'get', await request(app).get('/consent/me/history?limit=3').set(as)],
      ['/me/history', 'get', await request(app).get('/consent/me/history?limit=500').set(as)],
      ['/me', 'get', await request(app).get('/consent/me').set(as).set('Sec-GPC', '1')],
    ];
    const links: string[] = [];
    t.consent.on('confirmation', (c) => void links.push(c.url));
    await request(app).put('/consent/me/newsletter').set({ 'x-test-user': 'oa-confirm' }).send({ decision: 'granted' }).expect(202);
    const link = links[links.length - 1] as string;
    expect(link).to.match(/^\/consent\/confirm\//);
    checks.push(
      ['/confirm/{token}', 'get', await request(app).get(link)],
      ['/confirm/{token}', 'post', await request(app).post(link).type('text').send('x')],
      ['/confirm/{token}', 'post', await request(app).post(link).type('form').send('')],
      ['/confirm/{token}', 'post', await request(app).post(link)],
      ['/confirm/{token}', 'get', await request(app).get(link)],
    );
    expect(checks.slice(-5).map(([, , res]) => res.status)).to.deep.equal([200, 415, 200, 404, 404]);
    const statuses = new Set<number>();
    for (const [path, method, res] of checks) {
      conforms(doc, path, method, res);
      statuses.add(res.status);
    }
    expect([...statuses].sort()).to.deep.equal([200, 202, 400, 401, 404, 409, 413, 415, 422]);
  });

  it('describes the proof routes, and the admin routes only when admin is configured', async () => {
    const plain = (await request(routerApp(t.consent)).get('/consent/openapi.json').expect(200)).body as Doc;
    expect(Object.keys(plain.paths).filter((p) => p.startsWith('/admin'))).to.deep.equal([]);
    const admin = await testConsent(db, { admin: { authorize: headerAdmin } });
    try {
      const app = routerApp(admin.consent);
      const doc = (await request(app).get('/consent/openapi.json').expect(200)).body as Doc;
      const as = { 'x-test-user': 'proof' };
      await admin.consent.record('proof', { analytics: 'granted', newsletter: 'granted' }, { note: 'n' });
      const checks: Array<[string, string, Response]> = [
        ['/me/receipt', 'get', await request(app).get('/consent/me/receipt').set(as)],
        ['/me/receipt', 'get', await request(app).get('/consent/me/receipt')],
        ['/me/export', 'get', await request(app).get('/consent/me/export').set(as)],
        ['/me/export', 'get', await request(app).get('/consent/me/export')],
        ['/receipts/key', 'get', await request(app).get('/consent/receipts/key')],
        ['/admin/subjects/{subjectId}', 'get', await request(app).get('/consent/admin/subjects/proof').set(ADMIN)],
        ['/admin/subjects/{subjectId}', 'get', await request(app).get('/consent/admin/subjects/proof')],
        ['/admin/subjects/{subjectId}/history', 'get', await request(app).get('/consent/admin/subjects/proof/history?limit=1').set(ADMIN)],
        ['/admin/subjects/{subjectId}/history', 'get', await request(app).get('/consent/admin/subjects/proof/history?limit=0').set(ADMIN)],
        ['/admin/events', 'get', await request(app).get('/consent/admin/events?limit=1').set(ADMIN)],
        ['/admin/events', 'get', await request(app).get('/consent/admin/events?action=nope').set(ADMIN)],
        ['/admin/export', 'get', await request(app).get('/consent/admin/export?format=csv').set(ADMIN)],
        ['/admin/export', 'get', await request(app).get('/consent/admin/export?format=ndjson').set(ADMIN).buffer(true).parse((r, done) => { asText(r, done); })],
        ['/admin/export', 'get', await request(app).get('/consent/admin/export?format=xml').set(ADMIN)],
        ['/admin/verify', 'get', await request(app).get('/consent/admin/verify?subjectId=proof').set(ADMIN)],
        ['/admin/checkpoint', 'get', await request(app).get('/consent/admin/checkpoint').set(ADMIN)],
        ['/admin/checkpoint', 'get', await request(app).get('/consent/admin/checkpoint')],
        ['/admin/stats', 'get', await request(app).get('/consent/admin/stats').set(ADMIN)],
        ['/admin/events', 'get', await request(app).get('/consent/admin/events?source=app&context=x&actor=y&limit=1').set(ADMIN)],
        ['/admin/events', 'get', await request(app).get('/consent/admin/events?sauce=app').set(ADMIN)],
        ['/admin/subjects/{subjectId}/decisions', 'post', await request(app).post('/consent/admin/subjects/staff/decisions').set(ADMIN).send({ decisions: { analytics: 'granted' }, context: 'phone' })],
        ['/admin/subjects/{subjectId}/decisions', 'post', await request(app).post('/consent/admin/subjects/staff/decisions').set(ADMIN).send({ decisions: { nope: 'granted' } })],
        ['/admin/requirements/{id}/subjects', 'get', await request(app).get('/consent/admin/requirements/analytics/subjects').set(ADMIN)],
        ['/admin/requirements/{id}/subjects', 'get', await request(app).get('/consent/admin/requirements/analytics/subjects?state=granted,denied&format=ndjson').set(ADMIN).buffer(true).parse((r, done) => { asText(r, done); })],
        ['/admin/requirements/{id}/subjects', 'get', await request(app).get('/consent/admin/requirements/nope/subjects').set(ADMIN)],
        ['/admin/subjects/{subjectId}', 'delete', await request(app).delete('/consent/admin/subjects/proof').set(ADMIN).type('text').send('x')],
        ['/admin/subjects/{subjectId}', 'delete', await request(app).delete('/consent/admin/subjects/proof').set(ADMIN)],
        // After the erasure: its event (requirement "*", version 0) in the listings.
        ['/admin/events', 'get', await request(app).get('/consent/admin/events?action=erase').set(ADMIN)],
        ['/admin/subjects/{subjectId}/history', 'get', await request(app).get('/consent/admin/subjects/proof/history').set(ADMIN)],
        // The console: pages for a browser, problems for a program.
        ['/admin/console/', 'get', await request(app).get('/consent/admin/console/?lang=de').set(ADMIN)],
        ['/admin/console/', 'get', await request(app).get('/consent/admin/console/').set('Accept', 'text/html')],
        ['/admin/console/', 'get', await request(app).get('/consent/admin/console/')],
        ['/admin/console/', 'get', await request(app).get('/consent/admin/console/?page=2').set(ADMIN).set('Accept', 'text/html')],
        ['/admin/console/subject', 'get', await request(app).get('/consent/admin/console/subject?id=staff').set(ADMIN)],
        ['/admin/console/subject', 'get', await request(app).get(`/consent/admin/console/subject?id=${'x'.repeat(300)}`).set(ADMIN)],
        ['/admin/console/subject', 'get', await request(app).get('/consent/admin/console/subject?nope=1').set(ADMIN)],
        ['/admin/console/export', 'get', await request(app).get('/consent/admin/console/export?format=csv&source=admin').set(ADMIN)],
        ['/admin/console/export', 'get', await request(app).get('/consent/admin/console/export?format=xml').set(ADMIN).set('Accept', 'text/html')],
        ['/admin/console/export', 'get', await request(app).get('/consent/admin/console/export').type('text').send('x').set(ADMIN)],
      ];
      const pages = checks.filter(([path]) => path.startsWith('/admin/console')).map(([, , res]) => `${String(res.status)} ${String(String(res.headers['content-type']).split(';')[0])}`);
      expect(pages).to.deep.equal([
        '200 text/html', '403 text/html', '403 application/problem+json', '400 text/html',
        '200 text/html', '400 text/html', '400 application/problem+json', '200 text/csv', '400 text/html', '415 application/problem+json',
      ]);
      // Its address without the final slash sends a browser to the overview.
      const moved = await request(app).get('/consent/admin/console?lang=fr').set(ADMIN);
      expect([moved.status, moved.headers.location]).to.deep.equal([301, '/consent/admin/console/?lang=fr']);
      expect(doc.paths['/admin/console']?.get?.responses['301']).to.be.an('object');
      const erased = checks.find(([path, , res]) => path === '/admin/events' && res.request.url.endsWith('action=erase'))?.[2].body as { events: Array<{ action: string }> };
      expect(erased.events.map((e) => e.action)).to.deep.equal(['erase']);
      // Every source and action an event can carry is a documented filter value the route takes.
      const events = (doc.components as { schemas: Record<string, { properties: Record<string, { enum: string[] }> }> }).schemas.Event?.properties;
      const filters = (doc.paths['/admin/events']?.get as unknown as { parameters: Array<{ name: string; schema: { enum?: string[] } }> }).parameters;
      for (const name of ['source', 'action']) {
        const values = events?.[name]?.enum ?? [];
        expect(values.length, name).to.be.greaterThan(5);
        expect(filters.find((p) => p.name === name)?.schema.enum, name).to.have.members(values);
        for (const value of values) conforms(doc, '/admin/events', 'get', await request(app).get(`/consent/admin/events?${name}=${value}&limit=1`).set(ADMIN).expect(200));
      }
      const statuses = new Set<number>();
      for (const [path, method, res] of checks) {
        conforms(doc, path, method, res);
        statuses.add(res.status);
      }
      expect([...statuses].sort()).to.deep.equal([200, 400, 401, 403, 404, 415, 422]);
    } finally {
      await admin.close();
    }
  });

  it('documents the body rules (415, 413, 400) on every operation, as every route answers them', async () => {
    const admin = await testConsent(db, { admin: { authorize: headerAdmin } });
    try {
      const app = routerApp(admin.consent);
      const doc = (await request(app).get('/consent/openapi.json').expect(200)).body as Doc;
      const oversize = JSON.stringify({ x: 'y'.repeat(17_000) });
      let operations = 0;
      for (const [path, item] of Object.entries(doc.paths)) {
        const url = `/consent${path.replace('{id}', 'analytics').replace('{subjectId}', 'ann').replace('{token}', 'x').replace('{hash}', '0'.repeat(64))}`;
        for (const method of Object.keys(item).filter((k) => k !== 'parameters')) {
          operations += 1;
          const send = () => (request(app) as unknown as Record<string, (u: string) => request.Test>)[method]!(url).set(ADMIN).set('x-test-user', 'ann');
          const answers = [
            await send().set('Content-Type', 'text/plain').send('hello'),
            await send().set('Content-Type', 'application/json').send(oversize),
            await send().set('Content-Type', 'application/json').send('{bad'),
          ];
          expect(answers.map((r) => r.status), `${method} ${path}`).to.deep.equal([415, 413, 400]);
          for (const res of answers) conforms(doc, path, method, res);
        }
      }
      expect(operations).to.be.greaterThan(20);
    } finally {
      await admin.close();
    }
  });

  it('documents 429 rate_limited on the subject\'s writes while the limit is on', async () => {
    const limited = await testConsent(db, { rateLimit: { writes: 1, windowMs: 60_000 } });
    try {
      const app = routerApp(limited.consent);
      const doc = (await request(app).get('/consent/openapi.json').expect(200)).body as Doc;
      const as = { 'x-test-user': 'limited' };
      await request(app).put('/consent/me/analytics').set(as).send({ decision: 'granted' }).expect(200);
      const checks: Array<[string, string, Response]> = [
        ['/me/{id}', 'put', await request(app).put('/consent/me/analytics').set(as).send({ decision: 'granted' })],
        ['/me', 'post', await request(app).post('/consent/me').set(as).send({ decisions: { ads: 'denied' } })],
        ['/me/{id}', 'delete', await request(app).delete('/consent/me/analytics').set(as)],
      ];
      for (const [path, method, res] of checks) {
        expect(res.status).to.equal(429);
        conforms(doc, path, method, res);
      }
      const unlimited = await testConsent(db, { rateLimit: false });
      try {
        const plain = (await request(routerApp(unlimited.consent)).get('/consent/openapi.json').expect(200)).body as Doc;
        // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- the document is checked, not trusted
    expect(Object.values(plain.paths).flatMap((ops) => Object.values(ops).flatMap((op) => Object.keys(op.responses ?? {})))).to.not.include('429');
      } finally {
        await unlimited.close();
      }
    } finally {
      await limited.close();
    }
  });

  it('has schemas that reject what the router rejects', async () => {
    const app = routerApp(t.consent);
    const doc = (await request(app).get('/consent/openapi.json').expect(200)).body as Doc;
    const put = { $ref: '#/components/schemas/PutBody' };
    expect(checkSchema(doc, put, { decision: 'granted', version: 1 })).to.deep.equal([]);
    expect(checkSchema(doc, put, { decision: 'granted', subject: 'x' })).not.to.deep.equal([]);
    const problem = { $ref: '#/components/schemas/Problem' };
    expect(checkSchema(doc, problem, { type: 'urn:express-consent:nope', title: 't', status: 400, detail: 'd', code: 'nope', instance: '/' })).not.to.deep.equal([]);
    // The members a problem adds are described: the router's own answers validate, wrong types do not.
    const unsupported = await request(app).put('/consent/me/analytics').set({ 'x-test-user': 'oa-agree', 'content-type': 'text/plain' }).send('granted').expect(415);
    expect(checkSchema(doc, problem, unsupported.body)).to.deep.equal([]);
    expect(checkSchema(doc, problem, { ...unsupported.body, accept: 'application/json' })).not.to.deep.equal([]);
    const stale = await request(app).put('/consent/me/analytics').set({ 'x-test-user': 'oa-agree' }).send({ decision: 'granted', version: 9 }).expect(409);
    expect(stale.body.requirements).to.have.length(1);
    expect(checkSchema(doc, problem, stale.body)).to.deep.equal([]);
    expect(checkSchema(doc, problem, { ...stale.body, requirements: [{ id: 'analytics' }] })).not.to.deep.equal([]);
    const bodies: unknown[] = [
      { decision: 'granted', note: 'n'.repeat(500) },
      { decision: 'granted', note: 'n'.repeat(501) },
      { decision: 'granted', version: 0 },
      { decision: 'granted', version: 1.5 },
      { decision: 'maybe' },
      { decision: 'denied', data: [1] },
    ];
    for (const sent of bodies) {
      const res = await request(app).put('/consent/me/analytics').set({ 'x-test-user': 'oa-agree' }).send(sent as object);
      expect([200, 400], JSON.stringify(sent)).to.include(res.status);
      expect(checkSchema(doc, put, sent).length === 0, `${JSON.stringify(sent).slice(0, 80)}: router ${String(res.status)}`).to.equal(res.status === 200);
    }
  });

  it('has response schemas that hold formats, lengths and patterns', async () => {
    const doc = (await request(routerApp(t.consent)).get('/consent/openapi.json').expect(200)).body as Doc;
    const info = { id: 'analytics', state: 'granted', allowed: true, version: 1, decidedAt: '2025-01-02T03:04:05.000Z', expiresAt: null };
    const stateInfo = { $ref: '#/components/schemas/StateInfo' };
    expect(checkSchema(doc, stateInfo, info)).to.deep.equal([]);
    expect(checkSchema(doc, stateInfo, { ...info, decidedAt: 'yesterday' })).to.deep.equal(['/decidedAt: must match format "date-time" {"format":"date-time"}']);
    expect(checkSchema(doc, stateInfo, { ...info, decidedAt: '2025-13-02T03:04:05Z' })).to.have.length(1);
    expect(checkSchema(doc, stateInfo, { ...info, id: 'Analytics' })).to.have.length(1);
    const token = (doc.paths['/confirm/{token}'] as unknown as { parameters: Array<{ schema: unknown }> }).parameters[0]?.schema;
    expect(checkSchema(doc, token, 'abc')).to.have.length(1);
    expect(checkSchema(doc, token, 'a'.repeat(10_000))).to.have.length(1);
  });

  it('is a valid OpenAPI 3.1 document whose schemas compile in strict mode, in every configuration', async () => {
    const variants = [
      await testConsent(db, { admin: { authorize: headerAdmin } }),
      await testConsent(db, { rateLimit: false }),
    ];
    try {
      for (const consent of [t.consent, ...variants.map((v) => v.consent)]) {
        const doc = (await request(routerApp(consent)).get('/consent/openapi.json').expect(200)).body as Doc;
        expect(checkDocument(doc)).to.deep.equal([]);
      }
    } finally {
      for (const v of variants) await v.close();
    }
  });

  it('finds a document that breaks the OpenAPI 3.1 schema or JSON Schema', async () => {
    const doc = (await request(routerApp(t.consent)).get('/consent/openapi.json').expect(200)).body as Doc;
    /** The document with the value at `keys` replaced (removed when `undefined`), checked. */
    const broken = (keys: string[], value: unknown): string[] => {
      const copy = structuredClone(doc);
      const parent = keys.slice(0, -1).reduce<Record<string, unknown>>((node, key) => node[key] as Record<string, unknown>, copy);
      const last = keys[keys.length - 1] as string;
      if (value === undefined) Reflect.deleteProperty(parent, last);
      else parent[last] = value;
      return checkDocument(copy);
    };
    const me = ['components', 'schemas', 'Me'];
    const note = ['components', 'schemas', 'Event', 'properties', 'note'];
    expect(broken(['paths', '/me', 'get', 'responses', '200', 'description'], undefined)).to.not.deep.equal([]);
    expect(broken(['paths', '/me/{id}', 'parameters', '0', 'in'], 'body')).to.not.deep.equal([]);
    expect(broken([...me, 'properties', 'pending', 'type'], 'list')).to.not.deep.equal([]);
    expect(broken(note, { type: 'string', maxlength: 3 })).to.not.deep.equal([]);
    expect(broken(note, { type: 'string', nullable: true })).to.not.deep.equal([]);
    expect(broken([...me, 'required'], ['states', 'pending', 'gpc', 'nope'])).to.not.deep.equal([]);
    expect(broken([...me, 'properties', 'states'], { $ref: '#/components/schemas/Nope' })).to.not.deep.equal([]);
  });
});
