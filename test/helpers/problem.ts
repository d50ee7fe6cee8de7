import { expect } from 'chai';
import type { Response } from 'supertest';

/** Asserts an RFC 9457 problem response with the given status and code; returns its body. */
export function expectProblem(res: Response, status: number, code: string, instance?: string): Record<string, unknown> {
  expect(res.status, JSON.stringify(res.body)).to.equal(status);
  expect(res.headers['content-type']).to.match(/^application\/problem\+json/);
  const body = res.body as Record<string, unknown>;
  expect(body.type).to.equal(`urn:express-consent:${code}`);
  expect(body.code).to.equal(code);
  expect(body.status).to.equal(status);
  expect(body.title).to.be.a('string').and.not.equal('');
  expect(body.detail).to.be.a('string').and.not.equal('');
  expect(body.instance).to.be.a('string');
  if (instance !== undefined) expect(body.instance).to.equal(instance);
  if (status === 503) expect(res.headers['retry-after']).to.match(/^[0-9]+$/);
  if (code === 'invalid_body') {
    expect(body.errors).to.be.an('array').with.length.greaterThan(0);
    for (const error of body.errors as unknown[]) expect(error).to.have.all.keys('pointer', 'detail');
  }
  return body;
}
