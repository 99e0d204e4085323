/** What a person sees first of the all-in-one server: the landing page at `/` and the start-up banner. */
import type { FastifyInstance } from 'fastify';
import type { SeedResult } from './demo/seed.js';

/** `/`: until the console ships, a page pointing at the API documentation. */
export function landingPage(app: FastifyInstance): void {
  const html = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Vigil</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:40rem;margin:4rem auto;padding:0 1rem}</style></head>
<body><h1>Vigil</h1>
<p>The control plane is running. The console is not part of this release yet.</p>
<ul>
<li><a href="/api/docs">API documentation</a> (OpenAPI JSON at <a href="/api/docs/json">/api/docs/json</a>)</li>
<li><a href="/healthz">/healthz</a>, <a href="/readyz">/readyz</a>, <a href="/metrics">/metrics</a></li>
</ul></body></html>
`;
  app.get('/', { config: { permission: 'public' }, schema: { hide: true } }, async (_request, reply) =>
    reply.type('text/html; charset=utf-8').send(html),
  );
}

/** What the all-in-one server prints once it runs: where it is, who signs in, how to get an API token. */
export function banner(url: string, seed: SeedResult, images: number): string {
  const password =
    seed.generatedPassword ??
    (seed.createdAdmin ? '(VIGIL_ADMIN_PASSWORD)' : '(set on first start; not shown again)');
  const lines = [
    '',
    'Vigil all-in-one server is running',
    `  URL           ${url}   (API docs: ${url}/api/docs)`,
    `  organisation  ${seed.org.slug}`,
    `  admin         ${seed.email}`,
    `  password      ${password}`,
    ...(seed.generatedPassword
      ? ['                (generated for this data directory and shown only now: keep it)']
      : []),
    ...(images > 0
      ? [
          `  demo          ${images} demo images${seed.scansRequested ? `, ${seed.scansRequested} scans queued` : ''}`,
        ]
      : []),
    '  API token     sign in, then create a token with the CSRF token the login returns:',
    `    curl -s -c vigil.cookies -H 'content-type: application/json' \\`,
    `      -d '{"email":"${seed.email}","password":"<password>"}' ${url}/api/v1/auth/login`,
    `    curl -s -b vigil.cookies -H 'content-type: application/json' -H 'x-csrf-token: <csrfToken>' \\`,
    `      -d '{"name":"ci","scopes":["ci","read"]}' ${url}/api/v1/tokens`,
    '    then: curl -H "authorization: Bearer <secret>" ' + `${url}/api/v1/summary`,
    '',
  ];
  return `${lines.join('\n')}\n`;
}
