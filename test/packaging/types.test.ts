import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import ts from 'typescript';
import { packedApp, type PackedApp } from './packed';

// What integrators and tracker authors write, type-checked against the installed package's
// own declarations in both module systems.
const ESM_PROGRAM = `
import * as root from 'express-consent';
import * as tracker from 'express-consent/tracker';
import * as testing from 'express-consent/testing';
import type { Consent } from 'express-consent';
import type { ConsentTracker, SubjectSnapshot, WritePlan } from 'express-consent/tracker';

class Wrapped extends tracker.MemoryTracker {
  override async current(pseudonym: string) {
    return super.current(pseudonym);
  }
}
const store: ConsentTracker = new Wrapped();
export const consent: Consent = root.createConsent({ tracker: store });
export const planner = (snapshot: SubjectSnapshot): WritePlan | null => (snapshot.chain ? null : null);
export const allowed: Promise<boolean> = consent.isAllowed('user-1', 'analytics');
export const isError: boolean = root.isConsentError(new root.ConsentStoreError('down'));
export const integrity: boolean = new root.ConsentIntegrityError('a row failed its seal') instanceof root.ConsentStoreError;
testing.trackerConformance('wrapped', { create: () => new Wrapped() });

// Optional members given values that may be undefined (read from the environment), as a
// project compiled with exactOptionalPropertyTypes (what \`tsc --init\` sets up) writes them.
const fromEnv: string | undefined = process.env.CONSENT_SETTING;
const count: number | undefined = process.env.CONSENT_COUNT === undefined ? undefined : Number(process.env.CONSENT_COUNT);
export const configured: Consent = root.createConsent({
  tracker: store, secret: fromEnv, tablePrefix: fromEnv, storeTimeoutMs: count,
  confirm: { baseUrl: fromEnv, ttlMs: count }, pages: { stylesheet: fromEnv }, visitors: { cookie: fromEnv, maxAgeDays: count },
});
configured.register({ id: 'a', title: 'A', description: 'a', url: fromEnv, version: count, defaultLocale: fromEnv, expiresAfterDays: count });
export const recorded = configured.record('u', { a: { decision: 'granted', locale: fromEnv } }, { note: fromEnv, context: fromEnv });
export const listing = configured.audience('a', { batchSize: count });
export const guard = configured.requireConsent('a', { redirect: fromEnv });
export const answers = configured.requireAnswers({ redirect: fromEnv });
export const page = configured.history('u', { cursor: fromEnv, limit: count });
export const fields: string = configured.formFields(['a'], { legend: fromEnv, locale: fromEnv });
export const collector = configured.collect(['a'], { context: fromEnv, locale: fromEnv });
export const imported = configured.import([], { batchSize: count });
export const verified = configured.verify({ subjectId: fromEnv });
configured.on('change', () => undefined, { name: fromEnv });
// Handlers written as arrows that return what they call: a count of deleted rows, a pushed length.
const deleted: (id: string) => Promise<number> = () => Promise.resolve(0);
const seen: unknown[] = [];
configured.on('withdrawn', (e) => deleted(e.subjectId), { name: 'cleanup' });
configured.on('change', (e) => seen.push(e));
`;

const CJS_PROGRAM = `
import root = require('express-consent');
import tracker = require('express-consent/tracker');
import testing = require('express-consent/testing');

const store: tracker.ConsentTracker = new tracker.MemoryTracker();
export const consent: root.Consent = root.createConsent({ tracker: store });
export const head = (snapshot: tracker.SubjectSnapshot) => snapshot.chain;
testing.trackerConformance('memory', { create: () => new root.MemoryTracker() });
`;

// Names of the tracker subpath that the root entry shares: the constructors applications use.
const SHARED = ['ConsentTracker', 'KnexTracker', 'KnexTrackerOptions', 'MemoryTracker'];
const ENTRIES = ['express-consent', 'express-consent/tracker', 'express-consent/testing'];

function moduleSpecifiers(file: ts.SourceFile): Map<string, ts.Expression> {
  const found = new Map<string, ts.Expression>();
  for (const statement of file.statements) {
    if (ts.isImportDeclaration(statement) && statement.importClause?.phaseModifier !== ts.SyntaxKind.TypeKeyword) {
      found.set((statement.moduleSpecifier as ts.StringLiteral).text, statement.moduleSpecifier);
    } else if (ts.isImportEqualsDeclaration(statement) && ts.isExternalModuleReference(statement.moduleReference)) {
      found.set((statement.moduleReference.expression as ts.StringLiteral).text, statement.moduleReference.expression);
    }
  }
  return found;
}

describe('the published types', function () {
  this.timeout(120_000);
  let app: PackedApp;
  let program: ts.Program;
  let options: ts.CompilerOptions;
  const files = { esm: '', cjs: '' };

  before(async () => {
    app = await packedApp();
    const dir = join(app.scratch, 'typed');
    mkdirSync(dir, { recursive: true });
    files.esm = join(dir, 'app.mts');
    files.cjs = join(dir, 'app.cts');
    writeFileSync(files.esm, ESM_PROGRAM);
    writeFileSync(files.cjs, CJS_PROGRAM);
    options = {
      module: ts.ModuleKind.NodeNext,
      moduleResolution: ts.ModuleResolutionKind.NodeNext,
      target: ts.ScriptTarget.ES2022,
      strict: true,
      exactOptionalPropertyTypes: true,
      noImplicitOverride: true,
      noEmit: true,
      skipLibCheck: false,
      types: ['node'],
      typeRoots: [join(app.scratch, 'node_modules/@types')],
    };
    program = ts.createProgram([files.esm, files.cjs], options);
  });

  it('type-check a program of an application and of a tracker author in both module systems', () => {
    const problems = ts.getPreEmitDiagnostics(program).map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'));
    expect(problems).to.deep.equal([]);
  });

  it('resolve every entry, express-consent/tracker included, to its own declarations', () => {
    const resolved = (mode: ts.ResolutionMode, from: string) =>
      ENTRIES.map((entry) => ts.resolveModuleName(entry, from, options, ts.sys, undefined, undefined, mode).resolvedModule?.resolvedFileName.replace(/^.*\/node_modules\/express-consent\//, ''));
    expect(resolved(ts.ModuleKind.ESNext, files.esm)).to.deep.equal(['dist/index.d.ts', 'dist/tracker.d.ts', 'dist/testing.d.ts']);
    expect(resolved(ts.ModuleKind.CommonJS, files.cjs)).to.deep.equal(['dist/index.d.cts', 'dist/tracker.d.cts', 'dist/testing.d.cts']);
  });

  for (const system of ['esm', 'cjs'] as const) {
    it(`keep the engine and the tracker's records off the root entry (${system})`, () => {
      const checker = program.getTypeChecker();
      const specifiers = moduleSpecifiers(program.getSourceFile(files[system])!);
      const exportsOf = (entry: string) => {
        const module = checker.getSymbolAtLocation(specifiers.get(entry)!);
        expect(module, `${entry} resolves`).not.to.equal(undefined);
        return checker.getExportsOfModule(module!);
      };
      const root = exportsOf('express-consent');
      const rootNames = root.map((s) => s.name);
      const trackerNames = exportsOf('express-consent/tracker').map((s) => s.name);

      expect(rootNames).to.include.members(['createConsent', 'Consent', 'ConsentOptions', 'ConsentError', 'isConsentError', 'verifyReceipt', 'verifyCheckpoint', 'Checkpoint', 'migrate', 'isLocalPath', 'KnexTracker', 'MemoryTracker', 'StateInfo', 'RequirementDefinition', 'ChangePayload']);
      expect(rootNames).not.to.include.members(['ConsentEngine', 'ConsentRequiredError']);
      expect(rootNames.filter((name) => trackerNames.includes(name) && !SHARED.includes(name))).to.deep.equal([]);
      expect(trackerNames).to.include.members(['ConsentTracker', 'SubjectSnapshot', 'WritePlan', 'StoredEvent', 'CurrentRecord', 'ChainHead', 'LogEntry', 'LogHead', 'encodeLeaves', 'OutboxEntry', 'AuditQuery', 'StateGroup', 'KnexTracker', 'MemoryTracker']);

      const consent = checker.getDeclaredTypeOfSymbol(root.find((s) => s.name === 'Consent')!);
      const members = checker.getPropertiesOfType(consent).map((p) => p.name);
      expect(members).to.include.members(['router', 'requireConsent', 'record', 'close']);
      expect(members).not.to.include('engine');
    });
  }

  it('do not name the engine anywhere, nor a tracker record in the root declarations', () => {
    const declarations = app.files.filter((f) => /^dist\/.*\.d\.c?ts$/.test(f));
    expect(declarations).to.include.members(['dist/index.d.ts', 'dist/index.d.cts']);
    for (const file of declarations) expect(readFileSync(join(app.installed, file), 'utf8'), file).not.to.match(/\b(ConsentEngine|engine)\b/);

    const checker = program.getTypeChecker();
    const specifier = moduleSpecifiers(program.getSourceFile(files.esm)!).get('express-consent/tracker')!;
    const internal = checker.getExportsOfModule(checker.getSymbolAtLocation(specifier)!).map((s) => s.name).filter((name) => !SHARED.includes(name));
    expect(internal).to.include.members(['SubjectSnapshot', 'WritePlan']);
    for (const file of ['dist/index.d.ts', 'dist/index.d.cts']) {
      const text = readFileSync(join(app.installed, file), 'utf8');
      expect(internal.filter((name) => new RegExp(`\\b${name}\\b`).test(text)), file).to.deep.equal([]);
    }
  });
});
