/**
 * A hand-written encoder for the Report stream's big messages: a ReportRequest carrying an
 * inventory or findings chunk made by lazy-chunks.ts is written straight from the engine's
 * packages, unknowns, findings and warnings, with exactly the bytes protobuf-es's
 * `toBinary(ReportRequestSchema, request)` gives for the same chunk built with mapping.ts
 * (vigil/v1 worker.proto and model.proto: fields in number order, proto3 zero values omitted,
 * `optional` fields written whenever set, Struct metadata as protobuf-es converts a JSON object).
 *
 * Why: protobuf-es's encoder is reflective (descriptors, `ReflectMessage` wrappers, a `number[]`
 * per nested message); for a 1,400-package inventory a worker's first job spent 100–190 ms in it
 * with cold JIT, and more in the garbage it left (issue #6, bench B4). Every other message, and any
 * chunk whose lists were read (an ordinary message then), still goes through `toBinary`.
 *
 * Artifact and OS, once per scan, are encoded by `toBinary` and copied in.
 */
import { create, toBinary, type MessageInitShape } from '@bufbuild/protobuf';
import type { Finding, MatchWarning, Package, Unknown } from '@vigil/engine/core';
import { ArtifactSchema, OsReleaseSchema } from '@vigil/proto/v1/model_pb';
import {
  ReportRequestSchema,
  type FindingsChunk,
  type InventoryChunk,
  type ReportRequest,
} from '@vigil/proto/v1/worker_pb';
import { toProtoFixState, toProtoSeverity } from '../mapping.js';
import { findingsSourceOf, inventorySourceOf } from './lazy-chunks.js';
import { BIT64, key, LENGTH_DELIMITED, ProtoWriter, VARINT } from './proto-writer.js';

// a writer that grew past this for one message is not kept for the next
const KEEP_CAPACITY = 4 * 1024 * 1024;
let shared = new ProtoWriter();

const isUint32 = (v: unknown): v is number =>
  typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 0xffffffff;

// field keys: L<n> length-delimited, V<n> varint, D<n> 64-bit, of field number n
const ld = (f: number) => key(f, LENGTH_DELIMITED);
const vi = (f: number) => key(f, VARINT);
const d64 = (f: number) => key(f, BIT64);
const L1 = ld(1),
  L2 = ld(2),
  L3 = ld(3),
  L4 = ld(4),
  L5 = ld(5),
  L6 = ld(6),
  L7 = ld(7),
  L8 = ld(8),
  L9 = ld(9),
  L10 = ld(10),
  L11 = ld(11),
  L12 = ld(12),
  L14 = ld(14),
  L15 = ld(15),
  L16 = ld(16),
  L17 = ld(17),
  L18 = ld(18),
  L19 = ld(19),
  L20 = ld(20);
const V1 = vi(1),
  V2 = vi(2),
  V3 = vi(3),
  V4 = vi(4),
  V6 = vi(6),
  V7 = vi(7),
  V11 = vi(11),
  V12 = vi(12),
  V13 = vi(13);
const D2 = d64(2),
  D3 = d64(3),
  D13 = d64(13),
  D14 = d64(14);

// Conventions, as protobuf-es writes a message `create` built from these values:
// - a proto3 string without presence is left out when "" (or null/undefined, which `create` skips): `if (v)`;
// - an `optional` field is written whenever set, "" and false included: `if (v != null)`;
// - an enum without presence (values from mapping.ts tables, never negative) is left out when 0.

function strings(w: ProtoWriter, k: number, values: readonly string[] | null | undefined): void {
  if (!values) return;
  for (const value of values) w.stringField(k, value);
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === 'object' && !Array.isArray(v);

/** google.protobuf.Struct fields of a JSON object, as protobuf-es's `wktStructToReflect` orders them. */
function structFields(w: ProtoWriter, json: Record<string, unknown>): void {
  for (const name of Object.keys(json)) {
    // protobuf-es copies the entries into a fresh object, where "__proto__" sets the prototype instead
    if (name === '__proto__') continue;
    const entry = w.fork(L1);
    w.stringField(L1, name);
    const value = w.fork(L2);
    jsonValue(w, json[name]);
    w.join(value);
    w.join(entry);
  }
}

/** google.protobuf.Value fields of a JSON value (anything else, e.g. undefined, is an empty Value). */
function jsonValue(w: ProtoWriter, json: unknown): void {
  switch (typeof json) {
    case 'number':
      w.doubleField(D2, json);
      return;
    case 'string':
      w.stringField(L3, json);
      return;
    case 'boolean':
      w.boolField(V4, json);
      return;
    case 'object': {
      if (json === null) {
        w.uint32Field(V1, 0);
        return;
      }
      if (Array.isArray(json)) {
        const list = w.fork(L6);
        for (const item of json as unknown[]) {
          const at = w.fork(L1);
          jsonValue(w, item);
          w.join(at);
        }
        w.join(list);
        return;
      }
      const struct = w.fork(L5);
      structFields(w, json as Record<string, unknown>);
      w.join(struct);
      return;
    }
  }
}

/** vigil.v1.Package as toProtoPackage builds it. */
function writePackage(w: ProtoWriter, k: number, pkg: Package): void {
  const at = w.fork(k);
  if (pkg.name) w.stringField(L1, pkg.name);
  if (pkg.version) w.stringField(L2, pkg.version);
  if (pkg.ecosystem) w.stringField(L3, pkg.ecosystem);
  if (pkg.purl != null) w.stringField(L4, pkg.purl);
  if (pkg.srcName != null) w.stringField(L5, pkg.srcName);
  if (pkg.srcVersion != null) w.stringField(L6, pkg.srcVersion);
  if (pkg.arch != null) w.stringField(L7, pkg.arch);
  if (pkg.licenses) strings(w, L8, pkg.licenses);
  if (pkg.layer != null) w.stringField(L9, pkg.layer);
  if (pkg.path != null) w.stringField(L10, pkg.path);
  if (pkg.foundBy) w.stringField(L11, pkg.foundBy);
  if (pkg.declared != null) w.boolField(V12, pkg.declared);
  if (pkg.dev != null) w.boolField(V13, pkg.dev);
  const metadata: unknown = pkg.metadata;
  if (metadata != null) {
    // a value that is not a JSON object becomes an empty Struct in protobuf-es
    const struct = w.fork(L14);
    if (isObject(metadata)) structFields(w, metadata);
    w.join(struct);
  }
  w.join(at);
}

/** vigil.v1.Unknown as toProtoUnknown builds it. */
function writeUnknown(w: ProtoWriter, k: number, unknown: Unknown): void {
  const at = w.fork(k);
  if (unknown.path) w.stringField(L1, unknown.path);
  if (unknown.message) w.stringField(L2, unknown.message);
  if (unknown.layer != null) w.stringField(L3, unknown.layer);
  if (unknown.source != null) w.stringField(L4, unknown.source);
  w.join(at);
}

/** vigil.v1.Finding as toProtoFinding builds it. */
function writeFinding(w: ProtoWriter, k: number, finding: Finding): void {
  const at = w.fork(k);
  if (finding.id) w.stringField(L1, finding.id);
  strings(w, L2, finding.aliases);
  writePackage(w, L3, finding.package);
  if (finding.installedVersion) w.stringField(L4, finding.installedVersion);
  if (finding.fixedVersion != null) w.stringField(L5, finding.fixedVersion);
  const status = toProtoFixState(finding.status);
  if (status) w.uint32Field(V6, status);
  const severity = toProtoSeverity(finding.severity);
  if (severity) w.uint32Field(V7, severity);
  if (finding.severitySource) w.stringField(L8, finding.severitySource);
  const { cvss, vendorSeverity: vendor, kevEntry: kev } = finding;
  if (cvss) {
    const m = w.fork(L9);
    if (cvss.version) w.stringField(L1, cvss.version);
    if (cvss.vector) w.stringField(L2, cvss.vector);
    // proto3 double without presence: +0 is left out, -0 and NaN are written
    if (cvss.score != null && !Object.is(cvss.score, 0)) w.doubleField(D3, cvss.score);
    if (cvss.source) w.stringField(L4, cvss.source);
    w.join(m);
  }
  if (vendor) {
    const m = w.fork(L10);
    if (vendor.source) w.stringField(L1, vendor.source);
    if (vendor.rating) w.stringField(L2, vendor.rating);
    const rated = toProtoSeverity(vendor.severity);
    if (rated) w.uint32Field(V3, rated);
    w.join(m);
  }
  if (finding.kev != null && finding.kev !== false) w.boolField(V11, finding.kev);
  if (kev) {
    const m = w.fork(L12);
    if (kev.cveId) w.stringField(L1, kev.cveId);
    if (kev.dateAdded) w.stringField(L2, kev.dateAdded);
    if (kev.dueDate != null) w.stringField(L3, kev.dueDate);
    if (kev.knownRansomwareCampaignUse != null) w.stringField(L4, kev.knownRansomwareCampaignUse);
    if (kev.vendorProject != null) w.stringField(L5, kev.vendorProject);
    if (kev.product != null) w.stringField(L6, kev.product);
    if (kev.name != null) w.stringField(L7, kev.name);
    w.join(m);
  }
  if (finding.epss != null) w.doubleField(D13, finding.epss);
  if (finding.epssPercentile != null) w.doubleField(D14, finding.epssPercentile);
  if (finding.title != null) w.stringField(L15, finding.title);
  if (finding.description != null) w.stringField(L16, finding.description);
  strings(w, L17, finding.references);
  strings(w, L18, finding.cwes);
  if (finding.published != null) w.stringField(L19, finding.published);
  for (const d of finding.dataSources) {
    const m = w.fork(L20);
    if (d.source) w.stringField(L1, d.source);
    if (d.namespace) w.stringField(L2, d.namespace);
    if (d.advisoryId) w.stringField(L3, d.advisoryId);
    w.join(m);
  }
  w.join(at);
}

function writeWarning(w: ProtoWriter, k: number, warning: MatchWarning): void {
  const at = w.fork(k);
  if (warning.code) w.stringField(L1, warning.code);
  if (warning.message) w.stringField(L2, warning.message);
  w.join(at);
}

const hasUnknownFields = (message: { $unknown?: unknown[] }) =>
  message.$unknown !== undefined && message.$unknown.length > 0;

/** InventoryChunk body; false when the chunk is not one the fast path knows. */
function writeInventoryChunk(w: ProtoWriter, chunk: InventoryChunk): boolean {
  const source = inventorySourceOf(chunk);
  if (!source || !isUint32(chunk.seq) || hasUnknownFields(chunk)) return false;
  if (chunk.seq !== 0) w.uint32Field(V1, chunk.seq);
  if (chunk.artifact !== undefined) w.bytesField(L2, toBinary(ArtifactSchema, chunk.artifact));
  if (chunk.os !== undefined) w.bytesField(L3, toBinary(OsReleaseSchema, chunk.os));
  for (const pkg of source.packages) writePackage(w, L4, pkg);
  for (const unknown of source.unknowns) writeUnknown(w, L5, unknown);
  return true;
}

/** FindingsChunk body; false when the chunk is not one the fast path knows. */
function writeFindingsChunk(w: ProtoWriter, chunk: FindingsChunk): boolean {
  const source = findingsSourceOf(chunk);
  if (!source || !isUint32(chunk.seq) || hasUnknownFields(chunk)) return false;
  if (chunk.seq !== 0) w.uint32Field(V1, chunk.seq);
  for (const finding of source.findings) writeFinding(w, L2, finding);
  for (const warning of source.warnings) writeWarning(w, L3, warning);
  return true;
}

/**
 * The bytes of a ReportRequest carrying a chunk of lazy-chunks.ts, written by hand; undefined for
 * any other request (the caller then uses protobuf-es).
 */
export function encodeReportChunkRequest(request: ReportRequest): Buffer | undefined {
  const { event } = request;
  if (event.case !== 'inventory' && event.case !== 'findings') return undefined;
  if (!isUint32(request.attempt) || typeof request.scanId !== 'string' || hasUnknownFields(request)) {
    return undefined;
  }
  const w = shared;
  w.reset();
  if (request.scanId) w.stringField(L1, request.scanId);
  if (request.attempt !== 0) w.uint32Field(V2, request.attempt);
  const at = w.fork(event.case === 'inventory' ? L5 : L6);
  const known =
    event.case === 'inventory' ? writeInventoryChunk(w, event.value) : writeFindingsChunk(w, event.value);
  if (!known) return undefined;
  w.join(at);
  const bytes = w.finish();
  if (w.capacity > KEEP_CAPACITY) shared = new ProtoWriter();
  return bytes;
}

/** A ReportRequest's bytes: the hand-written encoder for chunks, protobuf-es for the rest. */
export function encodeReportRequest(value: MessageInitShape<typeof ReportRequestSchema>): Buffer {
  const request = create(ReportRequestSchema, value);
  const fast = encodeReportChunkRequest(request);
  if (fast) return fast;
  const bytes = toBinary(ReportRequestSchema, request);
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
