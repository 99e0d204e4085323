/**
 * Debian security tracker JSON → normalised records.
 *
 * Format: https://security-tracker.debian.org/tracker/data/json, produced by the tracker's
 * `bin/tracker_service.py` (`/data/json`): `{ "<source package>": { "<CVE-…|TEMP-…>": {
 * description?, scope?, debianbug?, releases: { "<codename>": { status, repositories,
 * fixed_version?, urgency, nodsa?, nodsa_reason? } } } } }`.
 *
 * Fix states (the tracker's own vocabulary, doc/security-team.d.o and the CVE/list format):
 * - `resolved` with `fixed_version` "0": the release never shipped the flaw → not-affected
 *   (vunnel drops these rows for the same reason; Trivy skips `<not-affected>`).
 * - `resolved` with a version: fixed in that version (dpkg ordering).
 * - `open`: no fixed version for the release yet → unfixed, refined by the triage tags:
 *   - urgency `unimportant`: the team judged it not worth a fix in a release (e.g. affects only
 *     documentation or unshipped code) → will-not-fix;
 *   - urgency `end-of-life`: the package lost security support in that release → will-not-fix
 *     (Trivy calls this end_of_life; Vigil's model has no separate state for it);
 *   - `<no-dsa>` with reason `ignored`: "not worth fixing in a stable release" → will-not-fix;
 *   - `<no-dsa>` with reason `postponed`: to be piggybacked on a later update → deferred;
 *   - plain `<no-dsa>` (minor issue, fixed through a point release later) stays unfixed.
 * - `undetermined`: the team has not decided whether the release is affected → unfixed
 *   (vunnel skips these; Vigil keeps them visible, the conservative choice).
 *
 * Urgency → severity as Trivy and vunnel do: unimportant/low → LOW, medium → MEDIUM,
 * high → HIGH, "not yet assigned" and end-of-life → UNKNOWN. A trailing `*`/`**` marks an
 * urgency the tracker derived from NVD rather than assigned; the mark is kept in the rating and
 * ignored for the mapping.
 *
 * Only CVE ids are kept: `TEMP-…` ids are the tracker's placeholders for issues without a CVE,
 * not stable across time (vunnel drops them too).
 */
import type { FeedRecord } from '../types.js';
import type { AffectedPackage, FixState, VendorSeverity, Vulnerability } from '../../model/vulnerability.js';
import type { Severity } from '../../model/severity.js';

/**
 * Debian codenames → the release number used in the `debian:<n>` namespace. `sid` is the rolling
 * development distribution, kept as `debian:unstable` (as grype does) so a sid image can match.
 * Codenames missing here are skipped: extend the table through `createDebianFeed({ releases })`.
 */
export const DEBIAN_RELEASES: Readonly<Record<string, string>> = {
  jessie: '8',
  stretch: '9',
  buster: '10',
  bullseye: '11',
  bookworm: '12',
  trixie: '13',
  forky: '14',
  duke: '15',
  sid: 'unstable',
};

const CVE_ID = /^CVE-\d{4}-\d{4,}$/;
const TRACKER_ID = /^(?:CVE|TEMP)-/;

/** Maps a tracker urgency onto Vigil's scale. */
export function urgencySeverity(urgency: string): Severity {
  switch (urgency.replace(/\*+$/, '')) {
    case 'unimportant':
    case 'low':
      return 'LOW';
    case 'medium':
      return 'MEDIUM';
    case 'high':
      return 'HIGH';
    default:
      return 'UNKNOWN';
  }
}

const RANK: Record<Severity, number> = { CRITICAL: 4, HIGH: 3, MEDIUM: 2, LOW: 1, UNKNOWN: 0 };

/** An affected row before expansion. */
type Row = [codename: string, state: FixState, fixed: string | null, urgency: string | null];

/**
 * Maps the tracker's members (one source package each) to records: one record per CVE of the
 * package, with a row per known release. The tracker lists a CVE under every source package it
 * touches; the snapshot merges the records of one id within a source's application (see
 * vulndb/apply-records.ts), so each package's part stays a record of its own and the document
 * streams with flat memory.
 */
export class TrackerMapper {
  /** CVE/TEMP ids seen (for the "is this the tracker at all" check) */
  idsSeen = 0;

  constructor(private readonly releases: Readonly<Record<string, string>> = DEBIAN_RELEASES) {}

  /** The records of one top-level member (a source package), malformed ones included. */
  package(pkg: string, value: unknown): FeedRecord[] {
    if (!isObject(value) || pkg === '') {
      return [{ type: 'malformed', message: 'package entry is not an object', ref: pkg }];
    }
    const out: FeedRecord[] = [];
    for (const [id, entry] of Object.entries(value)) {
      if (!TRACKER_ID.test(id)) continue;
      this.idsSeen++;
      if (!CVE_ID.test(id)) continue;
      if (!isObject(entry)) {
        out.push({ type: 'malformed', message: 'CVE entry is not an object', ref: `${pkg}/${id}` });
        continue;
      }
      const rows: Row[] = [];
      const releases = entry.releases;
      // an empty map comes out of the tracker as [] (PHP/Python serialisation of an empty dict)
      if (!(Array.isArray(releases) && releases.length === 0)) {
        if (!isObject(releases)) {
          out.push({ type: 'malformed', message: 'releases is not an object', ref: `${pkg}/${id}` });
          continue;
        }
        for (const [codename, rel] of Object.entries(releases)) {
          if (this.releases[codename] === undefined) continue;
          const row = toRow(codename, rel);
          if (typeof row === 'string')
            out.push({ type: 'malformed', message: row, ref: `${pkg}/${id}/${codename}` });
          else rows.push(row);
        }
      }
      out.push(this.record(id, pkg, entry, rows));
    }
    return out;
  }

  private record(id: string, pkg: string, entry: Record<string, unknown>, rows: Row[]): FeedRecord {
    let top: VendorSeverity | undefined;
    const affected: AffectedPackage[] = rows.map(([codename, state, fixed, urgency]) => {
      const a: AffectedPackage = {
        vulnId: id,
        namespace: `debian:${this.releases[codename]}`,
        packageName: pkg,
        fixState: state,
        ranges: fixed === null ? [] : [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }, { fixed }] }],
        extra: { release: codename },
      };
      if (fixed !== null) a.fixedVersion = fixed;
      if (urgency !== null) {
        a.severity = { source: 'debian', rating: urgency, severity: urgencySeverity(urgency) };
        if (!top || RANK[a.severity.severity] > RANK[top.severity]) top = a.severity;
      }
      return a;
    });
    const references = [`https://security-tracker.debian.org/tracker/${id}`];
    const bug = entry.debianbug;
    if (typeof bug === 'number' && Number.isInteger(bug) && bug > 0)
      references.push(`https://bugs.debian.org/${bug}`);
    const vulnerability: Vulnerability = {
      id,
      aliases: [],
      cvss: [],
      // the package's highest urgency over its releases
      vendorSeverities: top ? [{ ...top }] : [],
      cwes: [],
      references,
    };
    if (typeof entry.description === 'string' && entry.description !== '')
      vulnerability.description = entry.description;
    return { type: 'vulnerability', vulnerability, affected };
  }
}

/** One release entry → a compact row, or the reason it is malformed. */
function toRow(codename: string, rel: unknown): Row | string {
  if (!isObject(rel)) return 'release entry is not an object';
  const urgency = typeof rel.urgency === 'string' && rel.urgency !== '' ? rel.urgency : null;
  const fixed = rel.fixed_version;
  switch (rel.status) {
    case 'resolved':
      if (typeof fixed !== 'string' || fixed === '' || /\s/.test(fixed))
        return 'resolved without a usable fixed_version';
      return fixed === '0' ? [codename, 'not-affected', null, urgency] : [codename, 'fixed', fixed, urgency];
    case 'open': {
      const bare = urgency?.replace(/\*+$/, '');
      let state: FixState = 'unfixed';
      if (bare === 'unimportant' || bare === 'end-of-life' || rel.nodsa_reason === 'ignored')
        state = 'will-not-fix';
      else if (rel.nodsa_reason === 'postponed') state = 'deferred';
      return [codename, state, null, urgency];
    }
    case 'undetermined':
      return [codename, 'unfixed', null, urgency];
    default:
      return `unknown status ${JSON.stringify(rel.status ?? null).slice(0, 40)}`;
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
