/**
 * NuGet package versions, as NuGet.Versioning's NuGetVersion parses and VersionComparer.Default
 * orders them (https://learn.microsoft.com/nuget/concepts/package-versioning).
 *
 * `Major.Minor[.Patch[.Revision]][-label.label…][+metadata]` (a bare `Major` is read as
 * `Major.0`). Numeric parts are non-negative 32-bit integers and may carry leading zeros
 * (`1.01` = `1.1`); a missing part is 0, so `1.0.0.0` = `1.0.0` = `1.0`. Labels are
 * `[0-9A-Za-z-]` without leading zeros in numeric labels; metadata the same with leading zeros.
 * Ordering: the four numbers, then a release above its pre-releases, then labels left to right:
 * labels that parse as a 32-bit integer compare numerically and below the others, the others
 * compare case-insensitively (ordinal upper-case), a longer list wins a tie. Metadata is ignored.
 */
import { checkRaw, cmpDigits, cmpStr, invalid, type Ordering, type VersionScheme } from './types.js';

export interface NuGetVersion {
  /** major, minor, patch, revision as digit strings without leading zeros */
  numbers: readonly [string, string, string, string];
  labels: readonly string[];
  metadata: string;
}

const INT32_MAX = '2147483647';
const LABEL_RE = /^[0-9A-Za-z-]+$/;
const LEADING_ZERO_NUM = /^0[0-9]+$/;

function stripZeros(d: string): string {
  const s = d.replace(/^0+/, '');
  return s === '' ? '0' : s;
}

/** Parses a NuGet version; throws ENG_VERSION_INVALID. */
export function parseNuGet(raw: string): NuGetVersion {
  checkRaw('nuget', raw);
  const value = raw.trim();
  // the version part ends at the first '-' or '+', labels at the first '+' after that
  const cut = value.search(/[-+]/);
  const versionPart = cut < 0 ? value : value.slice(0, cut);
  let labelPart: string | undefined;
  let metadata: string | undefined;
  if (cut >= 0) {
    if (value[cut] === '+') metadata = value.slice(cut + 1);
    else {
      const plus = value.indexOf('+', cut + 1);
      labelPart = plus < 0 ? value.slice(cut + 1) : value.slice(cut + 1, plus);
      if (plus >= 0) metadata = value.slice(plus + 1);
    }
  }
  const parts = versionPart.split('.');
  if (parts.length > 4 || parts.some((p) => !/^[0-9]+$/.test(p))) {
    invalid('nuget', raw, 'the version part is not 1 to 4 dot-separated numbers');
  }
  const numbers = parts.map(stripZeros);
  if (numbers.some((n) => cmpDigits(n, INT32_MAX) > 0)) invalid('nuget', raw, 'a number above 2147483647');
  while (numbers.length < 4) numbers.push('0');
  const labels = labelPart === undefined ? [] : labelPart.split('.');
  for (const l of labels) {
    if (!LABEL_RE.test(l)) invalid('nuget', raw, `invalid release label ${JSON.stringify(l)}`);
    if (LEADING_ZERO_NUM.test(l))
      invalid('nuget', raw, `leading zero in numeric release label ${JSON.stringify(l)}`);
  }
  if (metadata !== undefined && metadata.split('.').some((p) => !LABEL_RE.test(p))) {
    invalid('nuget', raw, 'invalid build metadata');
  }
  return { numbers: numbers as unknown as NuGetVersion['numbers'], labels, metadata: metadata ?? '' };
}

/** The value of a label that .NET's int.TryParse accepts (labels hold no blanks, so: -?digits in int32). */
function labelNumber(l: string): bigint | undefined {
  if (!/^-?[0-9]+$/.test(l)) return undefined;
  const n = BigInt(l);
  return n >= -2147483648n && n <= 2147483647n ? n : undefined;
}

function compareLabel(a: string, b: string): Ordering {
  const an = labelNumber(a);
  const bn = labelNumber(b);
  if (an !== undefined && bn !== undefined) return an < bn ? -1 : an > bn ? 1 : 0;
  if (an !== undefined) return -1;
  if (bn !== undefined) return 1;
  return cmpStr(a.toUpperCase(), b.toUpperCase());
}

/** Orders two NuGet versions like VersionComparer.Default. */
export function compareNuGet(a: NuGetVersion, b: NuGetVersion): Ordering {
  for (let i = 0; i < 4; i++) {
    const r = cmpDigits(a.numbers[i]!, b.numbers[i]!);
    if (r !== 0) return r;
  }
  if (a.labels.length === 0 || b.labels.length === 0) {
    if (a.labels.length === b.labels.length) return 0;
    return a.labels.length === 0 ? 1 : -1;
  }
  const n = Math.min(a.labels.length, b.labels.length);
  for (let i = 0; i < n; i++) {
    const r = compareLabel(a.labels[i]!, b.labels[i]!);
    if (r !== 0) return r;
  }
  return a.labels.length === b.labels.length ? 0 : a.labels.length < b.labels.length ? -1 : 1;
}

export const nuget: VersionScheme<NuGetVersion> = { id: 'nuget', parse: parseNuGet, compare: compareNuGet };
