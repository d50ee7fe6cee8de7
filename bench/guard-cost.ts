/**
 * The guard's own CPU cost per request, without HTTP: calls the `requireConsent()` middleware
 * directly, warm cache, allowed subjects, and reports nanoseconds per call. This is the figure
 * to profile (`node --cpu-prof --import tsx bench/guard-cost.ts`); the HTTP ratios add the
 * noise of sockets, Express and the machine.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { AddressInfo } from 'node:net';
import express, { type Request, type RequestHandler, type Response } from 'express';
import type { Consent } from '../lib/index';
import { median, parseArgs, type BenchArgs } from './lib/args';
import { benchConsent, grants, openKnex } from './lib/setup';
import { printTable, type ResultRow } from './lib/table';

const SUBJECTS = 1000;

function fakeRequest(user: string): Request {
  const headers: Record<string, string> = { 'x-user': user };
  return { headers, get: (name: string) => headers[name.toLowerCase()] } as unknown as Request;
}

/** A visitor's request over loopback HTTP: their cookie, no `x-user`. */
function visitorRequest(cookie: string): Request {
  const headers: Record<string, string> = { cookie };
  return { headers, get: (name: string) => headers[name.toLowerCase()], secure: false, ip: '127.0.0.1', hostname: '127.0.0.1' } as unknown as Request;
}

/** `count` visitors who granted analytics through the router over real HTTP: their cookies. */
async function visitorCookies(consent: Consent, count: number): Promise<string[]> {
  const app = express();
  app.use('/consent', consent.router());
  const server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  try {
    const { port } = server.address() as AddressInfo;
    const cookies: string[] = [];
    for (let i = 0; i < count; i += 1) {
      const res = await fetch(`http://127.0.0.1:${String(port)}/consent/me/analytics`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: '{"decision":"granted"}' });
      cookies.push((res.headers.get('set-cookie') ?? '').split(';')[0] as string);
    }
    return cookies;
  } finally {
    server.closeAllConnections();
    server.close();
  }
}

/** Nanoseconds per call of `guard` over `calls` requests (all allowed: next() must run). */
function timeGuard(guard: RequestHandler, requests: Request[], calls: number): number {
  let passed = 0;
  const next = () => {
    passed += 1;
  };
  const res = {} as unknown as Response;
  const started = performance.now();
  for (let i = 0; i < calls; i += 1) guard(requests[i % requests.length] as Request, res, next);
  const ns = ((performance.now() - started) * 1e6) / calls;
  if (passed !== calls) throw new Error(`the guard passed ${String(passed)} of ${String(calls)} calls synchronously`);
  return ns;
}

export async function main(args: BenchArgs = parseArgs()): Promise<ResultRow[]> {
  if (args.pgOnly) return [];
  const dir = mkdtempSync(join(tmpdir(), 'consent-bench-'));
  const knex = openKnex({ kind: 'sqlite', filename: join(dir, 'guard.sqlite3') });
  try {
    // A long cache lifetime: the loop measures the hot path, not the reloads.
    const consent = await benchConsent(knex, { cache: { max: 10_000, ttlMs: 600_000 } });
    await consent.import(grants(SUBJECTS));
    const guard = consent.requireConsent('analytics');
    const requests = Array.from({ length: SUBJECTS }, (_, i) => fakeRequest(`u${String(i)}`));
    for (const user of requests) await consent.isAllowed(user.headers['x-user'] as string, 'analytics');
    const calls = args.tiny ? 10_000 : 1_000_000;
    timeGuard(guard, requests, calls); // warm-up: let the JIT settle
    const rounds = Array.from({ length: args.rounds }, () => timeGuard(guard, requests, calls));
    await consent.close();
    // Visitors: the same guard, the subject from a signed cookie (parsed and its HMAC checked).
    const visitors = await benchConsent(knex, { cache: { max: 10_000, ttlMs: 600_000 }, visitors: {} });
    const cookies = (await visitorCookies(visitors, args.tiny ? 20 : SUBJECTS)).map(visitorRequest);
    const visitorGuard = visitors.requireConsent('analytics');
    for (const req of cookies) {
      const id = /=([^.]+)\./.exec(req.headers.cookie as string)?.[1] as string;
      await visitors.isAllowed(`visitor:${id}`, 'analytics');
    }
    timeGuard(visitorGuard, cookies, calls);
    const visitorRounds = Array.from({ length: args.rounds }, () => timeGuard(visitorGuard, cookies, calls));
    await visitors.close();
    const rows: ResultRow[] = [
      {
        target: "guard's own CPU per allowed request, warm cache (in-process, no HTTP)",
        required: 'as low as possible',
        figure: `${median(rounds).toFixed(0)} ns`,
        pass: null,
        raw: `${calls.toLocaleString('en')} calls × ${String(args.rounds)} rounds: ${rounds.map((r) => r.toFixed(0)).join(' ')} ns`,
      },
      {
        target: "guard's own CPU per allowed visitor request (signed cookie), warm cache (in-process, no HTTP)",
        required: 'as low as possible',
        figure: `${median(visitorRounds).toFixed(0)} ns`,
        pass: null,
        raw: `${calls.toLocaleString('en')} calls × ${String(args.rounds)} rounds: ${visitorRounds.map((r) => r.toFixed(0)).join(' ')} ns`,
      },
    ];
    printTable('Guard cost (in-process)', rows);
    return rows;
  } finally {
    await knex.destroy();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${String(process.argv[1])}`) await main();
