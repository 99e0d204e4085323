/**
 * The first admin: on the first start the composition root calls `bootstrapAdmin` with VIGIL_ADMIN_EMAIL /
 * VIGIL_ADMIN_PASSWORD, creating the organisation and its admin. Idempotent and safe when several control
 * planes start together: once the account exists nothing changes (a password changed since is kept).
 */
import { ControlPlaneError, isControlPlaneError } from '../errors.js';
import type { AuditStore, OrgRecord, OrgStore, UserRecord } from '../services/types.js';
import { hashPassword } from '../store/credentials.js';
import type { SqlClient } from '../store/postgres/sql.js';

/** Shortest password accepted for a new account, from the environment or the API. */
export const PASSWORD_MIN_LENGTH = 12;
/** Longest password accepted (bounds the work of hashing a hostile request). */
export const PASSWORD_MAX_LENGTH = 1024;

export interface BootstrapAdminInput {
  email: string;
  password: string;
  orgSlug: string;
  /** default: the slug */
  orgName?: string;
}

export interface BootstrapDeps {
  orgs: OrgStore;
  audit: AuditStore;
  /** for looking an existing organisation up by slug (OrgStore has no such call) */
  db: SqlClient;
}

export interface BootstrapResult {
  created: boolean;
  org: OrgRecord;
  user: UserRecord;
}

/** Throws CP_INVALID_ARGUMENT unless the password's length is within bounds. */
export function checkPassword(password: string): void {
  if (password.length < PASSWORD_MIN_LENGTH || password.length > PASSWORD_MAX_LENGTH) {
    throw new ControlPlaneError(
      'CP_INVALID_ARGUMENT',
      `password must be ${PASSWORD_MIN_LENGTH} to ${PASSWORD_MAX_LENGTH} characters long`,
    );
  }
}

async function onConflict<T>(attempt: () => Promise<T>, fallback: () => Promise<T>): Promise<T> {
  try {
    return await attempt();
  } catch (error) {
    if (isControlPlaneError(error) && error.code === 'CP_CONFLICT') return fallback();
    throw error;
  }
}

async function orgBySlug(deps: BootstrapDeps, slug: string): Promise<OrgRecord> {
  const { rows } = await deps.db.query<{ id: string }>('SELECT id FROM orgs WHERE slug = $1', [slug]);
  const org = rows[0] ? await deps.orgs.getOrg(rows[0].id) : null;
  if (!org) throw new ControlPlaneError('CP_NOT_FOUND', `organisation ${slug} not found`);
  return org;
}

/**
 * Creates the organisation `orgSlug` (unless it exists) and an admin `email` with `password` in it (unless an
 * active account with that email exists anywhere: then nothing is created and `created` is false).
 * CP_INVALID_ARGUMENT for a bad email, slug or password; CP_CONFLICT when the email belongs to a disabled account.
 */
export async function bootstrapAdmin(
  deps: BootstrapDeps,
  input: BootstrapAdminInput,
): Promise<BootstrapResult> {
  const existing = await deps.orgs.findLogin(input.email);
  if (existing) return { created: false, org: existing.org, user: existing.user };
  checkPassword(input.password);
  const org = await onConflict(
    () => deps.orgs.createOrg({ slug: input.orgSlug, name: input.orgName ?? input.orgSlug }),
    () => orgBySlug(deps, input.orgSlug),
  );
  const passwordHash = await hashPassword(input.password);
  const created = await onConflict(
    async () => deps.orgs.createUser(org.id, { email: input.email, role: 'admin', passwordHash }),
    async () => null,
  );
  if (!created) {
    // Another control plane created it meanwhile, or a disabled account holds the address.
    const login = await deps.orgs.findLogin(input.email);
    if (!login) throw new ControlPlaneError('CP_CONFLICT', 'the admin email belongs to a disabled account');
    return { created: false, org: login.org, user: login.user };
  }
  await deps.audit.appendAudit(org.id, {
    actor: { type: 'system', id: null },
    action: 'user.create',
    target: { type: 'user', id: created.id },
    details: { role: 'admin', bootstrap: true },
  });
  return { created: true, org, user: created };
}
