import { describe, expect, it } from 'vitest';
import { isEngineError } from '../errors.js';
import type { Finding } from '../model/finding.js';
import { evaluateGate, filterFindings, parseSeverities, sortFindings, type GateOptions } from './gate.js';
import { apk, finding, label, npm } from './testdata/findings.js';

const libcrypto = apk('libcrypto1.1', '1.1.1c-r0', 'openssl');
const musl = apk('musl', '1.1.22-r3', 'musl');
const lodash = npm('lodash', '4.17.15', 'app/node_modules/lodash/package.json');

// Statuses and severities chosen to cover every filter branch (ids are real; data hand-picked).
const CRIT_FIXED = finding('CVE-2019-1543', libcrypto, {
  severity: 'CRITICAL',
  status: 'fixed',
  fixedVersion: '1.1.1d-r0',
});
const HIGH_UNFIXED = finding('CVE-2019-14697', musl, { severity: 'HIGH', status: 'unfixed' });
const HIGH_WNF = finding('CVE-2020-28928', musl, { severity: 'HIGH', status: 'will-not-fix' });
const MED_DEFERRED = finding('CVE-2019-1547', libcrypto, { severity: 'MEDIUM', status: 'deferred' });
const LOW_FIXED = finding('GHSA-p6mc-m468-83gw', lodash, {
  severity: 'LOW',
  status: 'fixed',
  fixedVersion: '4.17.19',
});
const CRIT_NOT_AFFECTED = finding('CVE-2019-1549', libcrypto, {
  severity: 'CRITICAL',
  status: 'not-affected',
});
const ALL = [CRIT_FIXED, HIGH_UNFIXED, HIGH_WNF, MED_DEFERRED, LOW_FIXED, CRIT_NOT_AFFECTED];

describe('evaluateGate', () => {
  // [why, findings, options, expected exit code, expected failing]
  const CASES: [string, Finding[], GateOptions, number, Finding[]][] = [
    ['no findings: exit 0 whatever the code', [], { exitCode: 1 }, 0, []],
    [
      'default exit code is 0 (report only)',
      ALL,
      {},
      0,
      [CRIT_FIXED, HIGH_UNFIXED, HIGH_WNF, MED_DEFERRED, LOW_FIXED],
    ],
    ['any finding with --exit-code 1', [LOW_FIXED], { exitCode: 1 }, 1, [LOW_FIXED]],
    [
      '--severity CRITICAL --exit-code 3 with a critical',
      ALL,
      { severities: ['CRITICAL'], exitCode: 3 },
      3,
      [CRIT_FIXED],
    ],
    [
      '--severity CRITICAL --exit-code 3 without one (only a not-affected critical)',
      [HIGH_UNFIXED, LOW_FIXED, CRIT_NOT_AFFECTED],
      { severities: ['CRITICAL'], exitCode: 3 },
      0,
      [],
    ],
    [
      '--severity CRITICAL,HIGH keeps both',
      ALL,
      { severities: ['CRITICAL', 'HIGH'], exitCode: 1 },
      1,
      [CRIT_FIXED, HIGH_UNFIXED, HIGH_WNF],
    ],
    [
      '--ignore-unfixed drops unfixed, will-not-fix and deferred',
      ALL,
      { ignoreUnfixed: true, exitCode: 2 },
      2,
      [CRIT_FIXED, LOW_FIXED],
    ],
    [
      '--ignore-unfixed with only unfixed HIGH findings passes',
      [HIGH_UNFIXED, HIGH_WNF, MED_DEFERRED],
      { ignoreUnfixed: true, severities: ['HIGH'], exitCode: 1 },
      0,
      [],
    ],
    [
      '--severity LOW,MEDIUM + --ignore-unfixed',
      ALL,
      { severities: ['LOW', 'MEDIUM'], ignoreUnfixed: true, exitCode: 9 },
      9,
      [LOW_FIXED],
    ],
    ['a not-affected finding never fails the gate', [CRIT_NOT_AFFECTED], { exitCode: 1 }, 0, []],
    ['exit code 255 is allowed', [CRIT_FIXED], { exitCode: 255 }, 255, [CRIT_FIXED]],
  ];
  it.each(CASES)('%s', (_why, findings, options, code, failing) => {
    expect(evaluateGate(findings, options)).toEqual({ exitCode: code, failing });
  });

  it.each([[-1], [256], [1.5], [Number.NaN]])('rejects exit code %s with ENG_INVALID_ARGUMENT', (code) => {
    let error: unknown;
    try {
      evaluateGate(ALL, { exitCode: code });
    } catch (e) {
      error = e;
    }
    expect(isEngineError(error) && error.code).toBe('ENG_INVALID_ARGUMENT');
  });

  it('filterFindings keeps not-affected findings visible (reports mark them)', () => {
    expect(filterFindings(ALL, { severities: ['CRITICAL'] })).toEqual([CRIT_FIXED, CRIT_NOT_AFFECTED]);
  });
});

describe('parseSeverities', () => {
  const CASES: [string, string[]][] = [
    ['CRITICAL,HIGH', ['CRITICAL', 'HIGH']],
    ['high, critical', ['CRITICAL', 'HIGH']],
    ['LOW,LOW,unknown', ['LOW', 'UNKNOWN']],
    ['CRITICAL,,HIGH,', ['CRITICAL', 'HIGH']],
  ];
  it.each(CASES)('%s', (text, expected) => {
    expect(parseSeverities(text)).toEqual(expected);
  });

  it.each([[''], [' , '], ['SEVERE'], ['CRITICAL,HI']])('rejects %j', (text) => {
    expect(() => parseSeverities(text)).toThrowError(
      expect.objectContaining({ code: 'ENG_INVALID_ARGUMENT' }),
    );
  });
});

describe('sortFindings', () => {
  const cvss = (score: number) => ({
    version: '3.1' as const,
    vector: 'CVSS:3.1/AV:N',
    score,
    source: 'nvd@nist.gov',
  });
  // a: CRITICAL 9.8, no KEV, EPSS 0.02   b: HIGH 8.8, KEV, EPSS 0.5   c: HIGH 7.5, EPSS 0.9
  // d: CRITICAL 9.1, EPSS none           e: LOW, EPSS 0.9, no CVSS   f: HIGH 7.5, same as c but later id
  const a = finding('CVE-2019-1543', libcrypto, { severity: 'CRITICAL', cvss: cvss(9.8), epss: 0.02 });
  const b = finding('CVE-2021-44228', lodash, { severity: 'HIGH', cvss: cvss(8.8), kev: true, epss: 0.5 });
  const c = finding('CVE-2019-14697', musl, { severity: 'HIGH', cvss: cvss(7.5), epss: 0.9 });
  const d = finding('CVE-2019-1549', libcrypto, { severity: 'CRITICAL', cvss: cvss(9.1) });
  const e = finding('CVE-2020-8203', lodash, { severity: 'LOW', epss: 0.9 });
  const f = finding('CVE-2019-14698', musl, { severity: 'HIGH', cvss: cvss(7.5), epss: 0.9 });
  const input = [e, c, f, a, d, b];

  it('severity: severity, then CVSS score, then id', () => {
    // CRITICAL a(9.8) d(9.1); HIGH b(8.8) c(7.5, CVE-2019-14697) f(7.5, CVE-2019-14698); LOW e
    expect(sortFindings(input, 'severity').map(label)).toEqual([a, d, b, c, f, e].map(label));
  });

  it('risk: KEV, then EPSS, then severity and CVSS', () => {
    // KEV b first; EPSS 0.9: c, f (HIGH 7.5, id order) before e (LOW); 0.02 a; none d
    expect(sortFindings(input, 'risk').map(label)).toEqual([b, c, f, e, a, d].map(label));
  });

  it('returns a copy and ties break on package name, version and path', () => {
    const x1 = finding('CVE-2019-1543', libcrypto, { severity: 'HIGH' });
    const x2 = finding('CVE-2019-1543', apk('libssl1.1', '1.1.1c-r0', 'openssl'), { severity: 'HIGH' });
    const frozen = Object.freeze([x2, x1]);
    expect(sortFindings(frozen).map(label)).toEqual([label(x1), label(x2)]);
    expect(frozen.map(label)).toEqual([label(x2), label(x1)]);
  });
});
