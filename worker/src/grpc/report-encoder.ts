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
import { BIT64, LENGTH_DELIMITED, ProtoWriter, VARINT } from './proto-writer.js';

// a writer that grew past this for one message is not kept for the next
const KEEP_CAPACITY = 4 * 1024 * 1024;
let shared = new ProtoWriter();

const isUint32 = (v: unknown): v is number =>
  typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 0xffffffff;

/** A proto3 string without presence: protobuf-es leaves out "" (and a value `create` skipped). */
function str(w: ProtoWriter, field: number, value: string | null | undefined): void {
  if (value == null || value === '') return;
  w.tag(field, LENGTH_DELIMITED);
  w.string(value);
}

/** An `optional string`: written whenever set, "" included. */
function optStr(w: ProtoWriter, field: number, value: string | null | undefined): void {
  if (value == null) return;
  w.tag(field, LENGTH_DELIMITED);
  w.string(value);
}

function strings(w: ProtoWriter, field: number, values: readonly string[] | null | undefined): void {
  if (!values) return;
  for (const value of values) {
    w.tag(field, LENGTH_DELIMITED);
    w.string(value);
  }
}

/** An enum without presence (values from mapping.ts tables, never negative): 0 is left out. */
function enumValue(w: ProtoWriter, field: number, value: number | undefined): void {
  if (!value) return;
  w.tag(field, VARINT);
  w.uint32(value);
}

function optDouble(w: ProtoWriter, field: number, value: number | null | undefined): void {
  if (value == null) return;
  w.tag(field, BIT64);
  w.double(value);
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === 'object' && !Array.isArray(v);

/** google.protobuf.Struct fields of a JSON object, as protobuf-es's `wktStructToReflect` orders them. */
function structFields(w: ProtoWriter, json: Record<string, unknown>): void {
  for (const key of Object.keys(json)) {
    // protobuf-es copies the entries into a fresh object, where "__proto__" sets the prototype instead
    if (key === '__proto__') continue;
    w.tag(1, LENGTH_DELIMITED);
    const entry = w.fork();
    w.tag(1, LENGTH_DELIMITED);
    w.string(key);
    w.tag(2, LENGTH_DELIMITED);
    const value = w.fork();
    jsonValue(w, json[key]);
    w.join(value);
    w.join(entry);
  }
}

/** google.protobuf.Value fields of a JSON value (anything else, e.g. undefined, is an empty Value). */
function jsonValue(w: ProtoWriter, json: unknown): void {
  switch (typeof json) {
    case 'number':
      w.tag(2, BIT64);
      w.double(json);
      return;
    case 'string':
      w.tag(3, LENGTH_DELIMITED);
      w.string(json);
      return;
    case 'boolean':
      w.tag(4, VARINT);
      w.bool(json);
      return;
    case 'object': {
      if (json === null) {
        w.tag(1, VARINT);
        w.uint32(0);
        return;
      }
      if (Array.isArray(json)) {
        w.tag(6, LENGTH_DELIMITED);
        const list = w.fork();
        for (const item of json as unknown[]) {
          w.tag(1, LENGTH_DELIMITED);
          const at = w.fork();
          jsonValue(w, item);
          w.join(at);
        }
        w.join(list);
        return;
      }
      w.tag(5, LENGTH_DELIMITED);
      const struct = w.fork();
      structFields(w, json as Record<string, unknown>);
      w.join(struct);
      return;
    }
  }
}

/** vigil.v1.Package as toProtoPackage builds it. */
function writePackage(w: ProtoWriter, field: number, pkg: Package): void {
  w.tag(field, LENGTH_DELIMITED);
  const at = w.fork();
  str(w, 1, pkg.name);
  str(w, 2, pkg.version);
  str(w, 3, pkg.ecosystem);
  optStr(w, 4, pkg.purl);
  optStr(w, 5, pkg.srcName);
  optStr(w, 6, pkg.srcVersion);
  optStr(w, 7, pkg.arch);
  strings(w, 8, pkg.licenses);
  optStr(w, 9, pkg.layer);
  optStr(w, 10, pkg.path);
  str(w, 11, pkg.foundBy);
  if (pkg.declared != null) {
    w.tag(12, VARINT);
    w.bool(pkg.declared);
  }
  if (pkg.dev != null) {
    w.tag(13, VARINT);
    w.bool(pkg.dev);
  }
  const metadata: unknown = pkg.metadata;
  if (metadata != null) {
    // a value that is not a JSON object becomes an empty Struct in protobuf-es
    w.tag(14, LENGTH_DELIMITED);
    const struct = w.fork();
    if (isObject(metadata)) structFields(w, metadata);
    w.join(struct);
  }
  w.join(at);
}

/** vigil.v1.Unknown as toProtoUnknown builds it. */
function writeUnknown(w: ProtoWriter, field: number, unknown: Unknown): void {
  w.tag(field, LENGTH_DELIMITED);
  const at = w.fork();
  str(w, 1, unknown.path);
  str(w, 2, unknown.message);
  optStr(w, 3, unknown.layer);
  optStr(w, 4, unknown.source);
  w.join(at);
}

/** vigil.v1.Finding as toProtoFinding builds it. */
function writeFinding(w: ProtoWriter, field: number, finding: Finding): void {
  w.tag(field, LENGTH_DELIMITED);
  const at = w.fork();
  str(w, 1, finding.id);
  strings(w, 2, finding.aliases);
  writePackage(w, 3, finding.package);
  str(w, 4, finding.installedVersion);
  optStr(w, 5, finding.fixedVersion);
  enumValue(w, 6, toProtoFixState(finding.status));
  enumValue(w, 7, toProtoSeverity(finding.severity));
  str(w, 8, finding.severitySource);
  const { cvss, vendorSeverity: vendor, kevEntry: kev } = finding;
  if (cvss) {
    w.tag(9, LENGTH_DELIMITED);
    const m = w.fork();
    str(w, 1, cvss.version);
    str(w, 2, cvss.vector);
    // proto3 double without presence: +0 is left out, -0 and NaN are written
    if (cvss.score != null && !Object.is(cvss.score, 0)) {
      w.tag(3, BIT64);
      w.double(cvss.score);
    }
    str(w, 4, cvss.source);
    w.join(m);
  }
  if (vendor) {
    w.tag(10, LENGTH_DELIMITED);
    const m = w.fork();
    str(w, 1, vendor.source);
    str(w, 2, vendor.rating);
    enumValue(w, 3, toProtoSeverity(vendor.severity));
    w.join(m);
  }
  if (finding.kev != null && finding.kev !== false) {
    w.tag(11, VARINT);
    w.bool(finding.kev);
  }
  if (kev) {
    w.tag(12, LENGTH_DELIMITED);
    const m = w.fork();
    str(w, 1, kev.cveId);
    str(w, 2, kev.dateAdded);
    optStr(w, 3, kev.dueDate);
    optStr(w, 4, kev.knownRansomwareCampaignUse);
    optStr(w, 5, kev.vendorProject);
    optStr(w, 6, kev.product);
    optStr(w, 7, kev.name);
    w.join(m);
  }
  optDouble(w, 13, finding.epss);
  optDouble(w, 14, finding.epssPercentile);
  optStr(w, 15, finding.title);
  optStr(w, 16, finding.description);
  strings(w, 17, finding.references);
  strings(w, 18, finding.cwes);
  optStr(w, 19, finding.published);
  for (const d of finding.dataSources) {
    w.tag(20, LENGTH_DELIMITED);
    const m = w.fork();
    str(w, 1, d.source);
    str(w, 2, d.namespace);
    str(w, 3, d.advisoryId);
    w.join(m);
  }
  w.join(at);
}

function writeWarning(w: ProtoWriter, field: number, warning: MatchWarning): void {
  w.tag(field, LENGTH_DELIMITED);
  const at = w.fork();
  str(w, 1, warning.code);
  str(w, 2, warning.message);
  w.join(at);
}

const hasUnknownFields = (message: { $unknown?: unknown[] }) =>
  message.$unknown !== undefined && message.$unknown.length > 0;

/** InventoryChunk body; false when the chunk is not one the fast path knows. */
function writeInventoryChunk(w: ProtoWriter, chunk: InventoryChunk): boolean {
  const source = inventorySourceOf(chunk);
  if (!source || !isUint32(chunk.seq) || hasUnknownFields(chunk)) return false;
  if (chunk.seq !== 0) {
    w.tag(1, VARINT);
    w.uint32(chunk.seq);
  }
  if (chunk.artifact !== undefined) {
    w.tag(2, LENGTH_DELIMITED);
    w.bytes(toBinary(ArtifactSchema, chunk.artifact));
  }
  if (chunk.os !== undefined) {
    w.tag(3, LENGTH_DELIMITED);
    w.bytes(toBinary(OsReleaseSchema, chunk.os));
  }
  for (const pkg of source.packages) writePackage(w, 4, pkg);
  for (const unknown of source.unknowns) writeUnknown(w, 5, unknown);
  return true;
}

/** FindingsChunk body; false when the chunk is not one the fast path knows. */
function writeFindingsChunk(w: ProtoWriter, chunk: FindingsChunk): boolean {
  const source = findingsSourceOf(chunk);
  if (!source || !isUint32(chunk.seq) || hasUnknownFields(chunk)) return false;
  if (chunk.seq !== 0) {
    w.tag(1, VARINT);
    w.uint32(chunk.seq);
  }
  for (const finding of source.findings) writeFinding(w, 2, finding);
  for (const warning of source.warnings) writeWarning(w, 3, warning);
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
  str(w, 1, request.scanId);
  if (request.attempt !== 0) {
    w.tag(2, VARINT);
    w.uint32(request.attempt);
  }
  w.tag(event.case === 'inventory' ? 5 : 6, LENGTH_DELIMITED);
  const at = w.fork();
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
