import { micromark } from 'micromark';
import { gfm, gfmHtml } from 'micromark-extension-gfm';
import { describe, expect, it } from 'vitest';
import { toMarkdown } from './index.js';
import { htmlText, mdCode, mdText } from './markdown-text.js';
import { alpineResult, emptyResult, hostileResult, mixedResult } from './testdata/results.js';
import { alpineScan } from './testdata/scans.js';

/** Renders as GitHub does (CommonMark + GFM tables, autolink literals; raw HTML allowed). */
const render = (md: string) =>
  micromark(md, { allowDangerousHtml: true, extensions: [gfm()], htmlExtensions: [gfmHtml()] });

describe('toMarkdown', () => {
  it('mixed: whole document (summary, fix plan, a table per target)', () => {
    // summary: critical CVE-2021-44228, CVE-2021-44906; high CVE-2020-8203, CVE-2021-23337; medium the other three
    expect(toMarkdown(mixedResult())).toMatchInlineSnapshot(`
      "## Vigil scan: /srv/app (unknown OS)

      Vulnerability database \`v1-3f2a9c\`, built 2024-05-01T00:00:00Z.

      | Severity | Findings |
      | --- | ---: |
      | 🟥 Critical | 2 |
      | 🟧 High | 2 |
      | 🟨 Medium | 3 |
      | 🟦 Low | 0 |
      | ⬜ Unknown | 0 |
      | **Total** | **7** |

      ### Fix plan

      - upgrade \`minimist\` \`1.2.0\` → \`1.2.6\` in \`app/package-lock.json\` fixes 2 (1 critical, 1 medium)
      - upgrade \`org.apache.logging.log4j:log4j-core\` \`2.14.1\` → \`2.15.0\` in \`app/lib/log4j-core-2.14.1.jar\` fixes 1 (1 critical)
      - upgrade \`lodash\` \`4.17.15\` → \`4.17.21\` in \`app/package-lock.json\` fixes 2 (2 high)
      - upgrade \`requests\` \`2.25.0\` → \`2.31.0\` in \`app/requirements.txt\` fixes 1 (1 medium)
      - upgrade \`stdlib\` \`v1.21.5\` → \`v1.21.8\` in \`usr/local/bin/app\` fixes 1 (1 medium)

      ### Findings

      #### app/lib/log4j-core-2.14.1.jar (maven): 1 (1 critical)

      | Library | Vulnerability | Severity | Status | Installed | Fixed | KEV/EPSS | Title |
      | --- | --- | --- | --- | --- | --- | --- | --- |
      | \`org.apache.logging.log4j:log4j-core\` | [CVE-2021-44228](https://nvd.nist.gov/vuln/detail/CVE-2021-44228) | CRITICAL | fixed | \`2.14.1\` | \`2.15.0\` | **KEV** EPSS 97.6% | Remote code injection in Log4j |

      #### app/package-lock.json (npm): 4 (1 critical, 2 high, 1 medium)

      | Library | Vulnerability | Severity | Status | Installed | Fixed | KEV/EPSS | Title |
      | --- | --- | --- | --- | --- | --- | --- | --- |
      | \`minimist\` | [CVE-2021-44906](https://nvd.nist.gov/vuln/detail/CVE-2021-44906) | CRITICAL | fixed | \`1.2.0\` | \`1.2.6\` |  | Prototype Pollution in minimist |
      | \`lodash\` | [CVE-2020-8203](https://nvd.nist.gov/vuln/detail/CVE-2020-8203) | HIGH | fixed | \`4.17.15\` | \`4.17.19\` | EPSS 2.1% | Prototype Pollution in lodash |
      | \`lodash\` | [CVE-2021-23337](https://nvd.nist.gov/vuln/detail/CVE-2021-23337) | HIGH | fixed | \`4.17.15\` | \`4.17.21\` |  | Command Injection in lodash |
      | \`minimist\` | [CVE-2020-7598](https://nvd.nist.gov/vuln/detail/CVE-2020-7598) | MEDIUM | fixed | \`1.2.0\` | \`1.2.2\` |  | Prototype Pollution in minimist |

      #### app/requirements.txt (pypi): 1 (1 medium)

      | Library | Vulnerability | Severity | Status | Installed | Fixed | KEV/EPSS | Title |
      | --- | --- | --- | --- | --- | --- | --- | --- |
      | \`requests\` | [GHSA-2222-3333-4444](https://github.com/advisories/GHSA-2222-3333-4444) | MEDIUM | fixed | \`2.25.0\` | \`2.31.0\` |  | requests leaks Proxy-Authorization headers |

      #### usr/local/bin/app (golang): 1 (1 medium)

      | Library | Vulnerability | Severity | Status | Installed | Fixed | KEV/EPSS | Title |
      | --- | --- | --- | --- | --- | --- | --- | --- |
      | \`stdlib\` | [CVE-2023-45290](https://nvd.nist.gov/vuln/detail/CVE-2023-45290) | MEDIUM | fixed | \`v1.21.5\` | \`v1.21.8\` |  | Memory exhaustion in multipart form parsing in net/textproto and net/http |"
    `);
  });

  it('alpine: warnings as a caution block; a target over 10 rows is folded into <details>', () => {
    const md = toMarkdown(alpineResult());
    expect(md).toContain(
      '> [!WARNING]\n> `DISTRO_EOL` alpine 3.10 is end-of-life: its security data is no longer updated  \n',
    );
    expect(md).toContain(
      '<details>\n<summary>images/alpine-3.10.tar (alpine 3.10.4): 11 (3 critical, 4 high, 2 medium, 1 low, 1 unknown)</summary>\n\n| Package |',
    );
    const html = render(md);
    expect(html.match(/<tr>/g)?.length).toBe(1 + 6 + 1 + 11); // summary table (header, 5 severities, total) + findings
    expect(html).toContain('<td><code>libssl1.1</code></td>');
  });

  it('inventory and empty results', () => {
    expect(toMarkdown(alpineScan())).toBe(
      '## Vigil scan: alpine:3.19 (alpine 3.19.1)\n\n4 packages found; no vulnerability database was used, so no findings are reported.',
    );
    expect(toMarkdown(emptyResult())).toMatchInlineSnapshot(`
      "## Vigil scan: gcr.io/distroless/static:nonroot (unknown OS)

      Vulnerability database \`v1-3f2a9c\`, built 2024-05-01T00:00:00Z.

      | Severity | Findings |
      | --- | ---: |
      | 🟥 Critical | 0 |
      | 🟧 High | 0 |
      | 🟨 Medium | 0 |
      | 🟦 Low | 0 |
      | ⬜ Unknown | 0 |
      | **Total** | **0** |

      No vulnerabilities found."
    `);
  });

  it('maxRows caps the listed findings and says how many are left out', () => {
    const md = toMarkdown(mixedResult(), { maxRows: 2 });
    // log4j (1 row) and the first of the npm target's 4 rows; then 3 + 1 + 1 are counted
    expect(md.split('\n').filter((l) => l.startsWith('| `')).length).toBe(2);
    expect(md.match(/_\d+ more not shown/g)).toEqual([
      '_3 more not shown',
      '_1 more not shown',
      '_1 more not shown',
    ]);
    expect(md).toContain('_1 more not shown; see the full report (`--format json`)._');
  });
});

describe('Markdown escaping of hostile values', () => {
  const md = toMarkdown(hostileResult());
  const html = render(md);

  it('renders no HTML, link, image or mention from data; tables keep their columns', () => {
    expect(html).not.toMatch(/<(script|img)\b/i);
    const hrefs = [...html.matchAll(/href="([^"]*)"/g)].map((m) => m[1]);
    // the only links are the advisory links Vigil builds
    expect(hrefs.filter((h) => !h!.startsWith('https://nvd.nist.gov/vuln/detail/'))).toEqual([]);
    // mentions: code spans are never scanned for them; elsewhere `@` is followed by a zero-width space
    const text = html.replace(/<code>[\s\S]*?<\/code>/g, '');
    expect(text).not.toMatch(/@[a-z]/i);
    expect(text).toContain('@\u200boctocat');
    for (const row of html.split('<tr>').slice(1)) {
      const cells = (row.match(/<t[dh][ >]/g) ?? []).length;
      expect([2, 8]).toContain(cells);
    }
  });

  it('the package name reads back verbatim (one line) from its code span', () => {
    expect(html).toContain(
      '<td><code>&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;|`pkg`&amp;amp; @team/evil\uFFFD[31mred</code></td>',
    );
  });

  it('helpers', () => {
    expect([
      mdText('a|b *c* _d_ [e](f) <g> `h` ~i~ & j\\k'),
      mdText('see https://x.example, www.y.example, mailto:z@example.com'),
      mdCode('a`b'),
      mdCode('`x`'),
      mdCode('p|q', true),
      htmlText(`<b a="1">'@x'</b>`),
    ]).toEqual([
      'a\\|b \\*c\\* \\_d\\_ \\[e\\](f) \\<g\\> \\`h\\` \\~i\\~ \\& j\\\\k',
      'see https\\://x.example, www\\.y.example, mailto\\:z@&#8203;example.com',
      '``a`b``',
      '`` `x` ``',
      '`p\\|q`',
      '&lt;b a=&quot;1&quot;&gt;&#39;@&#8203;x&#39;&lt;/b&gt;',
    ]);
  });
});
