-- 0001_init: organisations (tenants), accounts, repositories, images, scans, batches, audit log.
--
-- Tenant isolation by construction: every tenant-owned row carries org_id, every tenant-owned table has
-- UNIQUE (org_id, id), and references between tenant-owned rows are composite (org_id, x_id) foreign keys,
-- so no row can point at another organisation's row even if application code passes a foreign id.
-- Requires PostgreSQL 15 (ON DELETE SET NULL with a column list); gen_random_uuid() is built in since 13.

CREATE FUNCTION scan_priority_rank(priority text) RETURNS smallint
  LANGUAGE sql IMMUTABLE PARALLEL SAFE
  AS $$ SELECT CASE priority WHEN 'manual' THEN 3 WHEN 'ci' THEN 2 WHEN 'scheduled' THEN 1 END::smallint $$;

CREATE TABLE orgs (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  slug text NOT NULL UNIQUE CHECK (slug ~ '^[a-z0-9][a-z0-9-]{0,62}$'),
  name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  -- entitlements
  scanning_enabled boolean NOT NULL DEFAULT true,
  created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE users (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  org_id uuid NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
  -- stored lower-cased; one account per address across all organisations, so login needs no org
  email text NOT NULL CHECK (email = lower(email) AND length(email) BETWEEN 3 AND 320),
  display_name text NOT NULL DEFAULT '' CHECK (length(display_name) <= 200),
  role text NOT NULL CHECK (role IN ('admin', 'member', 'viewer')),
  -- scrypt, self-describing: scrypt$N$r$p$salt$hash (base64url); NULL = no password login
  password_hash text CHECK (password_hash IS NULL OR password_hash LIKE 'scrypt$%'),
  created_at timestamptz NOT NULL DEFAULT now(),
  disabled_at timestamptz,
  CONSTRAINT users_email_key UNIQUE (email),
  UNIQUE (org_id, id)
);
CREATE INDEX users_org ON users (org_id, email);

CREATE TABLE api_tokens (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  org_id uuid NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
  created_by uuid,
  name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  -- sha256 (hex) of the secret; the secret itself is shown once and never stored
  token_hash text NOT NULL CHECK (token_hash ~ '^[0-9a-f]{64}$'),
  -- first characters of the secret, to recognise a token in lists
  token_prefix text NOT NULL CHECK (length(token_prefix) <= 16),
  scopes text[] NOT NULL CHECK (cardinality(scopes) > 0 AND scopes <@ ARRAY['ci', 'read', 'admin']),
  created_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz,
  last_used_at timestamptz,
  revoked_at timestamptz,
  CONSTRAINT api_tokens_hash_key UNIQUE (token_hash),
  UNIQUE (org_id, id),
  FOREIGN KEY (org_id, created_by) REFERENCES users (org_id, id) ON DELETE SET NULL (created_by)
);
CREATE INDEX api_tokens_org ON api_tokens (org_id, created_at, id);

CREATE TABLE repositories (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  org_id uuid NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
  name text NOT NULL CHECK (length(name) BETWEEN 1 AND 255),
  created_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT repositories_name_key UNIQUE (org_id, name),
  UNIQUE (org_id, id)
);

CREATE TABLE images (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  org_id uuid NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
  repository_id uuid NOT NULL,
  -- the repository's name, copied (names never change) so the name sort walks one index
  name text NOT NULL,
  -- OCI digest grammar: algorithm ":" encoded
  digest text NOT NULL CHECK (digest ~ '^[a-z0-9]+([+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$'),
  tags text[] NOT NULL DEFAULT '{}',
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  -- newest scan of this digest, any status
  last_scan_id uuid,
  -- newest completed scan: the one whose findings the dashboard counts
  last_completed_scan_id uuid,
  last_completed_at timestamptz,
  CONSTRAINT images_digest_key UNIQUE (org_id, repository_id, digest),
  UNIQUE (org_id, id),
  FOREIGN KEY (org_id, repository_id) REFERENCES repositories (org_id, id) ON DELETE CASCADE
);
CREATE UNIQUE INDEX images_sort_name ON images (org_id, name, digest);
CREATE INDEX images_sort_last_scan ON images (org_id, (coalesce(last_completed_at, '-infinity'::timestamptz)), id);
CREATE INDEX images_org_digest ON images (org_id, digest);

CREATE TABLE batches (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  org_id uuid NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
  priority text NOT NULL CHECK (scan_priority_rank(priority) IS NOT NULL),
  db_version text NOT NULL CHECK (length(db_version) BETWEEN 1 AND 200),
  forced boolean NOT NULL DEFAULT false,
  -- images asked for, images of this org that matched, scans created (the rest already had an active scan)
  requested integer NOT NULL DEFAULT 0,
  matched integer NOT NULL DEFAULT 0,
  total integer NOT NULL DEFAULT 0,
  created_at timestamptz NOT NULL DEFAULT now(),
  cancelled_at timestamptz,
  UNIQUE (org_id, id)
);
CREATE INDEX batches_org ON batches (org_id, created_at);

CREATE TABLE scans (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  org_id uuid NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
  image_id uuid NOT NULL,
  -- copied from the image: scans are per content, so one scan serves every image of the org with this digest
  digest text NOT NULL,
  batch_id uuid,
  status text NOT NULL DEFAULT 'queued'
    CHECK (status IN ('queued', 'running', 'completed', 'failed', 'cancelled')),
  priority text NOT NULL CHECK (scan_priority_rank(priority) IS NOT NULL),
  forced boolean NOT NULL DEFAULT false,
  -- incremented each time a worker starts the scan; results are accepted only from the current attempt
  attempt integer NOT NULL DEFAULT 0 CHECK (attempt >= 0),
  db_version text NOT NULL CHECK (length(db_version) BETWEEN 1 AND 200),
  error_code text,
  error_message text,
  created_at timestamptz NOT NULL DEFAULT now(),
  started_at timestamptz,
  finished_at timestamptz,
  updated_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (org_id, id),
  FOREIGN KEY (org_id, image_id) REFERENCES images (org_id, id) ON DELETE CASCADE,
  FOREIGN KEY (org_id, batch_id) REFERENCES batches (org_id, id) ON DELETE SET NULL (batch_id),
  CHECK ((status IN ('completed', 'failed', 'cancelled')) = (finished_at IS NOT NULL)),
  CHECK ((status = 'failed') = (error_code IS NOT NULL))
);
-- One active scan per content and database version; forced scans are exempt.
CREATE UNIQUE INDEX scans_one_active ON scans (org_id, digest, db_version)
  WHERE status IN ('queued', 'running') AND NOT forced;
CREATE INDEX scans_batch ON scans (org_id, batch_id, status, id) WHERE batch_id IS NOT NULL;
CREATE INDEX scans_image ON scans (org_id, image_id, created_at);
CREATE INDEX scans_queued ON scans (scan_priority_rank(priority) DESC, created_at) WHERE status = 'queued';

ALTER TABLE images
  ADD FOREIGN KEY (org_id, last_scan_id) REFERENCES scans (org_id, id) ON DELETE SET NULL (last_scan_id),
  ADD FOREIGN KEY (org_id, last_completed_scan_id) REFERENCES scans (org_id, id)
    ON DELETE SET NULL (last_completed_scan_id);

CREATE TABLE audit_log (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  org_id uuid NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
  actor_type text NOT NULL CHECK (actor_type IN ('user', 'token', 'system')),
  -- text, not a foreign key: the log outlives the users and tokens it names
  actor_id text,
  action text NOT NULL CHECK (action ~ '^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$'),
  target_type text,
  target_id text,
  details jsonb NOT NULL DEFAULT '{}',
  at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX audit_log_org ON audit_log (org_id, id);
