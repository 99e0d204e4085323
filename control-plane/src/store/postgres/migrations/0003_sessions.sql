-- 0003_sessions: server-side login sessions (control-plane/src/auth/sessions.ts).
--
-- The cookie carries a random secret; only its sha256 is stored. A session belongs to one user of one
-- organisation (composite foreign key, like every tenant-owned row) and disappears with the user.
-- expires_at slides with use (idle timeout) up to created_at + the absolute lifetime.

CREATE TABLE sessions (
  id_hash text PRIMARY KEY CHECK (id_hash ~ '^[0-9a-f]{64}$'),
  org_id uuid NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
  user_id uuid NOT NULL,
  -- the token cookie-authenticated state-changing requests must echo in the x-csrf-token header
  csrf_token text NOT NULL CHECK (length(csrf_token) BETWEEN 32 AND 128),
  created_at timestamptz NOT NULL DEFAULT now(),
  last_seen_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz NOT NULL,
  FOREIGN KEY (org_id, user_id) REFERENCES users (org_id, id) ON DELETE CASCADE
);
CREATE INDEX sessions_user ON sessions (org_id, user_id);
CREATE INDEX sessions_expiry ON sessions (expires_at);
