/**
 * JSON Schemas shared by the REST routes: request parts and the response shapes (which double as the OpenAPI
 * components). Response schemas are also the serializers: a property not listed here is never sent, so records
 * can be answered as they are without leaking internal fields (org ids, password hashes).
 */
import { SEVERITIES } from '@vigil/engine/core';
import { ROLES, SCAN_PRIORITIES, SCAN_STATUSES, TOKEN_SCOPES } from '../services/types.js';

const nullable = <T extends { type: string }>(schema: T) => ({ ...schema, type: [schema.type, 'null'] });

/** Input rules REST (as schemas) and gRPC (as checks) share. */
export const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** Vulnerability ids and aliases: CVE-2024-1234, GHSA-xxxx-xxxx-xxxx, DSA-5000-1, ALAS2-2023-1, … */
export const VULNERABILITY_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:+-]{0,127}$/;
/** Largest page of any listing (the stores' maximum). */
export const MAX_PAGE_LIMIT = 1000;
/** Most image ids one bulk request may list (a filter has no limit). */
export const MAX_BULK_IDS = 10_000;

export const uuid = { type: 'string', format: 'uuid' } as const;
export const dateTime = { type: 'string', format: 'date-time' } as const;
const nullableDate = nullable(dateTime);
const nullableUuid = nullable(uuid);
const stringArray = { type: 'array', items: { type: 'string' } } as const;

/** `{code, message}`: the body of every error answer. */
export const errorSchema = {
  $id: 'Error',
  type: 'object',
  required: ['code', 'message'],
  properties: { code: { type: 'string' }, message: { type: 'string' } },
} as const;

/** Path parameters `{id}` as a UUID. */
export const idParams = {
  type: 'object',
  required: ['id'],
  properties: { id: uuid },
} as const;

export const vulnerabilityId = { type: 'string', pattern: VULNERABILITY_ID_PATTERN.source } as const;
export const severity = { type: 'string', enum: [...SEVERITIES] } as const;
export const scanPriority = { type: 'string', enum: [...SCAN_PRIORITIES] } as const;
export const role = { type: 'string', enum: [...ROLES] } as const;
export const tokenScope = { type: 'string', enum: [...TOKEN_SCOPES] } as const;
export const limit = { type: 'integer', minimum: 1, maximum: MAX_PAGE_LIMIT } as const;
/** Opaque cursors are base64url; anything longer than this was not issued by us. */
export const cursor = { type: 'string', minLength: 1, maxLength: 2048 } as const;
/** Free-text filters. */
export const text = { type: 'string', minLength: 1, maxLength: 200 } as const;

/** Image filters shared by `/images`, `/summary` and bulk rescans. */
export const imageFilterProperties = {
  repositoryId: uuid,
  text,
  minSeverity: severity,
  fixable: { type: 'boolean' },
} as const;

export const severityCounts = {
  type: 'object',
  required: ['critical', 'high', 'medium', 'low', 'unknown', 'total'],
  properties: Object.fromEntries(
    ['critical', 'high', 'medium', 'low', 'unknown', 'total'].map((k) => [k, { type: 'integer' }]),
  ),
} as const;

const osRelease = {
  type: ['object', 'null'],
  required: ['family', 'version'],
  properties: { family: { type: 'string' }, version: { type: 'string' }, prettyName: { type: 'string' } },
} as const;

export const imageSchema = {
  $id: 'Image',
  type: 'object',
  required: ['id', 'repositoryId', 'repository', 'digest', 'tags', 'createdAt', 'summary'],
  properties: {
    id: uuid,
    repositoryId: uuid,
    repository: { type: 'string' },
    digest: { type: 'string' },
    tags: stringArray,
    createdAt: dateTime,
    updatedAt: dateTime,
    lastScanId: nullableUuid,
    lastCompletedScanId: nullableUuid,
    lastCompletedAt: nullableDate,
    summary: {
      type: ['object', 'null'],
      description: "the latest completed scan's counts; null when never scanned",
      required: ['scanId', 'completedAt', 'counts', 'fixable', 'packages'],
      properties: {
        scanId: uuid,
        completedAt: dateTime,
        os: osRelease,
        counts: severityCounts,
        fixable: { type: 'integer' },
        packages: { type: 'integer' },
      },
    },
  },
} as const;

export const scanSchema = {
  $id: 'Scan',
  type: 'object',
  required: ['id', 'imageId', 'digest', 'status', 'priority', 'attempt', 'createdAt'],
  properties: {
    id: uuid,
    imageId: uuid,
    digest: { type: 'string' },
    batchId: nullableUuid,
    status: { type: 'string', enum: [...SCAN_STATUSES] },
    priority: scanPriority,
    forced: { type: 'boolean' },
    attempt: { type: 'integer' },
    dbVersion: {
      type: 'string',
      description: 'the vulnerability database snapshot the scan was scheduled against',
    },
    matchedDbVersion: {
      type: ['string', 'null'],
      description:
        'the snapshot the worker matched against (may differ from dbVersion while workers follow an update); null until a worker started reporting',
    },
    error: {
      type: ['object', 'null'],
      required: ['code', 'message'],
      properties: { code: { type: 'string' }, message: { type: 'string' } },
    },
    createdAt: dateTime,
    startedAt: nullableDate,
    finishedAt: nullableDate,
    updatedAt: dateTime,
  },
} as const;

export const batchSchema = {
  $id: 'Batch',
  type: 'object',
  required: ['id', 'priority', 'requested', 'matched', 'total', 'counts', 'createdAt'],
  properties: {
    id: uuid,
    priority: scanPriority,
    dbVersion: { type: 'string' },
    forced: { type: 'boolean' },
    requested: { type: 'integer', description: 'images asked for (or matched by the filter)' },
    matched: { type: 'integer', description: 'of those, images of this organisation' },
    total: { type: 'integer', description: 'scans created' },
    counts: {
      type: 'object',
      properties: Object.fromEntries(SCAN_STATUSES.map((s) => [s, { type: 'integer' }])),
    },
    createdAt: dateTime,
    cancelledAt: nullableDate,
  },
} as const;

export const findingSchema = {
  $id: 'Finding',
  type: 'object',
  required: ['id', 'aliases', 'package', 'installedVersion', 'fixedVersion', 'status', 'severity'],
  properties: {
    id: { type: 'string' },
    aliases: stringArray,
    package: {
      type: 'object',
      required: ['name', 'version', 'ecosystem'],
      properties: {
        name: { type: 'string' },
        version: { type: 'string' },
        ecosystem: { type: 'string' },
        purl: { type: 'string' },
        srcName: { type: 'string' },
        srcVersion: { type: 'string' },
        layer: { type: 'string' },
        path: { type: 'string' },
      },
    },
    installedVersion: { type: 'string' },
    fixedVersion: { type: ['string', 'null'] },
    status: { type: 'string' },
    severity,
    severitySource: { type: 'string' },
    cvss: {
      type: ['object', 'null'],
      properties: {
        version: { type: 'string' },
        vector: { type: 'string' },
        score: { type: 'number' },
        source: { type: 'string' },
      },
    },
    vendorSeverity: {
      type: 'object',
      properties: { source: { type: 'string' }, rating: { type: 'string' }, severity },
    },
    kev: { type: 'boolean' },
    kevEntry: {
      type: 'object',
      properties: Object.fromEntries(
        [
          'cveId',
          'dateAdded',
          'dueDate',
          'knownRansomwareCampaignUse',
          'vendorProject',
          'product',
          'name',
        ].map((k) => [k, { type: 'string' }]),
      ),
    },
    epss: { type: ['number', 'null'] },
    epssPercentile: { type: ['number', 'null'] },
    title: { type: 'string' },
    description: { type: 'string' },
    references: stringArray,
    cwes: stringArray,
    published: { type: 'string' },
    dataSources: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          source: { type: 'string' },
          namespace: { type: 'string' },
          advisoryId: { type: 'string' },
        },
      },
    },
  },
} as const;

export const orgSchema = {
  $id: 'Org',
  type: 'object',
  required: ['id', 'slug', 'name', 'scanningEnabled'],
  properties: {
    id: uuid,
    slug: { type: 'string' },
    name: { type: 'string' },
    scanningEnabled: { type: 'boolean' },
  },
} as const;

export const userSchema = {
  $id: 'User',
  type: 'object',
  required: ['id', 'email', 'displayName', 'role', 'createdAt'],
  properties: {
    id: uuid,
    email: { type: 'string' },
    displayName: { type: 'string' },
    role,
    createdAt: dateTime,
    disabledAt: nullableDate,
  },
} as const;

export const tokenSchema = {
  $id: 'Token',
  type: 'object',
  required: ['id', 'name', 'prefix', 'scopes', 'createdAt'],
  properties: {
    id: uuid,
    name: { type: 'string' },
    prefix: { type: 'string', description: 'first characters of the secret, to recognise it' },
    scopes: { type: 'array', items: tokenScope },
    createdBy: nullableUuid,
    createdAt: dateTime,
    expiresAt: nullableDate,
    lastUsedAt: nullableDate,
    revokedAt: nullableDate,
  },
} as const;

/** Shared schemas registered with `addSchema` (OpenAPI components), referenced as `Name#`. */
export const SHARED_SCHEMAS = [
  errorSchema,
  imageSchema,
  scanSchema,
  batchSchema,
  findingSchema,
  orgSchema,
  userSchema,
  tokenSchema,
] as const;

/** A `$ref` to a shared schema. */
export const ref = (id: (typeof SHARED_SCHEMAS)[number]['$id']) => ({ $ref: `${id}#` }) as const;

/** `{items, nextCursor}` of a keyset-paginated listing. */
export function pageOf(items: object): object {
  return {
    type: 'object',
    required: ['items', 'nextCursor'],
    properties: { items: { type: 'array', items }, nextCursor: { type: ['string', 'null'] } },
  };
}

/** The error answers every authenticated route can give, for the OpenAPI document. */
export const errorResponses = Object.fromEntries(
  [400, 401, 403, 404, 409, 413, 415, 429, 500, 503].map((status) => [status, ref('Error')]),
);
