/**
 * Maven versions, ordered like Maven 3.9's ComparableVersion (org.apache.maven.artifact.versioning),
 * the ordering GHSA/OSV Maven ranges are written against. Specification:
 * https://maven.apache.org/pom.html#version-order-specification
 *
 * The lower-cased string is split into numbers and qualifiers at `.`, `-` and digit/letter
 * transitions; `-` and a transition open a nested list, and since MNG-7644 a qualifier that
 * follows `.` does too (`2.0.abc` = `2-abc`). Each list then drops its trailing "null" items
 * (0, the release qualifiers "", ga, final, release, and empty lists), walking back over nested
 * lists (MNG-6964). Comparison pads the shorter list with "null" and orders:
 *   - qualifiers: alpha < beta < milestone < rc = cr < snapshot < "" = ga = final = release < sp
 *     < any other qualifier (those in lexical order); `a1`, `b1`, `m1` mean alpha-1, beta-1,
 *     milestone-1 (a single letter directly followed by a digit);
 *   - numbers above lists above qualifiers; numbers by value, except that Maven types them by
 *     length (up to 9 digits, up to 18, longer) and any longer type outranks a shorter one.
 * ComparableVersion accepts every string; only the empty string is rejected here, as a missing
 * value. Digits are ASCII digits (Java's Character.isDigit also takes other scripts' digits).
 */
import { checkRaw, cmpDigits, cmpStr, type Ordering, type VersionScheme } from './types.js';

type Item =
  | { kind: 'num'; digits: string; size: 0 | 1 | 2 }
  | { kind: 'str'; value: string }
  | { kind: 'list'; items: Item[] };

export type MavenVersion = { kind: 'list'; items: Item[] };

const QUALIFIERS = ['alpha', 'beta', 'milestone', 'rc', 'snapshot', '', 'sp'];
const ALIASES: Readonly<Record<string, string>> = { ga: '', final: '', release: '', cr: 'rc' };
const RELEASE_INDEX = String(QUALIFIERS.indexOf(''));

function numItem(digits: string): Item {
  // upstream strips leading zeros but keeps an all-zero token as written, then types by length
  const stripped = digits.replace(/^0+/, '');
  const kept = stripped === '' ? digits : stripped;
  return { kind: 'num', digits: kept, size: kept.length <= 9 ? 0 : kept.length <= 18 ? 1 : 2 };
}

function strItem(value: string, followedByDigit: boolean): Item {
  let v = value;
  if (followedByDigit && v.length === 1)
    v = v === 'a' ? 'alpha' : v === 'b' ? 'beta' : v === 'm' ? 'milestone' : v;
  return { kind: 'str', value: Object.hasOwn(ALIASES, v) ? ALIASES[v]! : v };
}

function parseItem(isDigit: boolean, buf: string): Item {
  return isDigit ? numItem(buf) : strItem(buf, false);
}

function isNull(item: Item): boolean {
  if (item.kind === 'num') return /^0+$/.test(item.digits);
  if (item.kind === 'str') return item.value === '';
  return item.items.length === 0;
}

function normalize(list: Item[]): void {
  for (let i = list.length - 1; i >= 0; i--) {
    const last = list[i]!;
    if (isNull(last)) list.splice(i, 1);
    else if (last.kind !== 'list') break;
  }
}

const isDigitChar = (c: string): boolean => c >= '0' && c <= '9';

/** Parses a Maven version into ComparableVersion's item tree; throws ENG_VERSION_INVALID only for an empty string. */
export function parseMaven(raw: string): MavenVersion {
  checkRaw('maven', raw);
  const version = raw.toLowerCase();
  const root: MavenVersion = { kind: 'list', items: [] };
  let list = root.items;
  const stack: Item[][] = [list];
  const push = (): void => {
    const next: Item[] = [];
    list.push({ kind: 'list', items: next });
    list = next;
    stack.push(next);
  };
  let isDigit = false;
  let start = 0;
  for (let i = 0; i < version.length; i++) {
    const c = version[i]!;
    if (c === '.' || c === '-') {
      list.push(i === start ? numItem('0') : parseItem(isDigit, version.slice(start, i)));
      start = i + 1;
      if (c === '-') push();
    } else if (isDigitChar(c)) {
      if (!isDigit && i > start) {
        // MNG-7644: a qualifier directly followed by digits gets a list of its own, like "-X"
        if (list.length > 0) push();
        list.push(strItem(version.slice(start, i), true));
        start = i;
        push();
      }
      isDigit = true;
    } else {
      if (isDigit && i > start) {
        list.push(parseItem(true, version.slice(start, i)));
        start = i;
        push();
      }
      isDigit = false;
    }
  }
  if (version.length > start) {
    if (!isDigit && list.length > 0) push();
    list.push(parseItem(isDigit, version.slice(start)));
  }
  for (let i = stack.length - 1; i >= 0; i--) normalize(stack[i]!);
  return root;
}

function comparableQualifier(q: string): string {
  const i = QUALIFIERS.indexOf(q);
  return i === -1 ? `${QUALIFIERS.length}-${q}` : String(i);
}

/** Item.compareTo(item), where `b` undefined is Java's null (the padding of a shorter list). */
function compareItem(a: Item, b: Item | undefined): Ordering {
  switch (a.kind) {
    case 'num':
      if (b === undefined) return isNull(a) ? 0 : 1;
      if (b.kind !== 'num') return 1;
      if (a.size !== b.size) return a.size < b.size ? -1 : 1;
      return cmpDigits(a.digits, b.digits);
    case 'str':
      if (b === undefined) return cmpStr(comparableQualifier(a.value), RELEASE_INDEX);
      if (b.kind !== 'str') return -1;
      return cmpStr(comparableQualifier(a.value), comparableQualifier(b.value));
    case 'list':
      if (b === undefined) {
        for (const item of a.items) {
          const r = compareItem(item, undefined);
          if (r !== 0) return r;
        }
        return 0;
      }
      if (b.kind === 'num') return -1;
      if (b.kind === 'str') return 1;
      return compareLists(a.items, b.items);
  }
}

function compareLists(a: readonly Item[], b: readonly Item[]): Ordering {
  const n = Math.max(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const l = a[i];
    const r = b[i];
    const result =
      l === undefined ? (r === undefined ? 0 : (-compareItem(r, undefined) as Ordering)) : compareItem(l, r);
    if (result !== 0) return result;
  }
  return 0;
}

/** Orders two Maven versions like ComparableVersion.compareTo. */
export function compareMaven(a: MavenVersion, b: MavenVersion): Ordering {
  return compareLists(a.items, b.items);
}

export const maven: VersionScheme<MavenVersion> = { id: 'maven', parse: parseMaven, compare: compareMaven };
