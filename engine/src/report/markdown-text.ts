/**
 * Escaping for GitHub-flavoured Markdown (https://github.github.com/gfm/). Values from images and
 * feeds must render as the text they are: no markup, no HTML, no links, no @-mentions (a PR
 * comment naming `@babel/core` would otherwise notify the `babel` organisation's team).
 */
import { isWebUrl } from './findings.js';
import { oneLine } from './text.js';

// ASCII punctuation that starts markup inline or in a table cell.
const MARKUP = /[\\`*_[\]<>|~&]/g;

/** Inline Markdown text: one line, markup characters backslash-escaped, autolinks and mentions defused. */
export function mdText(text: string): string {
  return (
    oneLine(text)
      .replace(MARKUP, (c) => `\\${c}`)
      // GFM extended autolinks start at `www.`, `<scheme>://`, `mailto:` and `xmpp:`
      .replace(/:(?=\/)/g, '\\:')
      .replace(/\b(mailto|xmpp):/gi, '$1\\:')
      .replace(/www\./gi, (m) => `${m.slice(0, 3)}\\.`)
      // a zero-width space after `@` stops GitHub's mention, team-mention and e-mail autolink
      // matching (Renovate writes the same entity)
      .replace(/@/g, '@&#8203;')
  );
}

/**
 * A code span holding `text` verbatim (one line). Inside a table cell (`inTable`), `|` is
 * escaped as GFM requires even within code spans. Empty text gives an empty string.
 */
export function mdCode(text: string, inTable = false): string {
  let t = oneLine(text);
  if (t === '') return '';
  if (inTable) t = t.replace(/\|/g, '\\|');
  const longest = Math.max(0, ...(t.match(/`+/g) ?? []).map((run) => run.length));
  const fence = '`'.repeat(longest + 1);
  const pad = t.startsWith('`') || t.endsWith('`') || (t.startsWith(' ') && t.endsWith(' ')) ? ' ' : '';
  return `${fence}${pad}${t}${pad}${fence}`;
}

/** Text for raw HTML (`<summary>` of a `<details>` block): one line, entities for `& < > " '`. */
export function htmlText(text: string): string {
  return oneLine(text)
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;')
    .replace(/@/g, '@&#8203;');
}

/** A link `[text](url)` when `url` is a plain http(s) URL, else the escaped text. */
export function mdLink(text: string, url: string | undefined): string {
  if (!url || !isWebUrl(url)) return mdText(text);
  return `[${mdText(text)}](${url})`;
}
