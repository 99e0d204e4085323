/**
 * Reads an installed gem's specification (`specifications/<name>-<version>[-<platform>].gemspec`).
 * RubyGems writes these with `Gem::Specification#to_ruby`: a `# stub:` header line and a
 * `Gem::Specification.new do |s| … end` block of plain assignments, e.g.
 *
 *   # stub: nokogiri 1.13.6 x86_64-linux lib
 *   Gem::Specification.new do |s|
 *     s.name = "nokogiri".freeze
 *     s.version = "1.13.6"
 *     s.platform = "x86_64-linux".freeze
 *     s.licenses = ["MIT".freeze]
 *
 * Format: https://guides.rubygems.org/specification-reference/ and RubyGems'
 * `Gem::Specification#to_ruby` / `Gem::StubSpecification` (the stub line). The file is Ruby code;
 * like trivy and syft we never evaluate it, we read literal assignments line by line (any
 * receiver name: `s.`, `spec.`, `gem.`; the block variable wins when there is one) and fall
 * back to the stub line when an assignment is not a literal (`s.version = Foo::VERSION`).
 */
import { rubyLiterals } from './ruby-literals.js';

/** What a gemspec says about its gem. */
export interface GemspecInfo {
  name: string;
  version: string;
  /** license identifiers as written, deduplicated, in order */
  licenses: string[];
  /** `s.platform` when it is not the pure-Ruby `ruby` platform */
  platform?: string;
}

/** Thrown when a gemspec yields no usable name or version (the caller turns it into an unknown). */
export class GemspecError extends Error {
  override name = 'GemspecError';
}

/** RubyGems' Gem::Version::ANCHORED_VERSION_PATTERN, without the empty alternative. */
const GEM_VERSION = /^[0-9]+(?:\.[0-9a-zA-Z]+)*(?:-[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?$/;
/** RubyGems accepts letters, digits, `.`, `-` and `_` in gem names (Gem::Specification::VALID_NAME_PATTERN). */
const GEM_NAME = /^[A-Za-z0-9._-]+$/;

const SPEC_NEW = /Gem::Specification\.new\b[^|]*\|\s*([A-Za-z_]\w*)\s*\|/;
const ASSIGNMENT = /^\s*([A-Za-z_]\w*)\.(name|version|license|licenses|platform)\s*=(?!=)\s*(.*)$/;
const STUB = /^#\s*stub:\s+(\S+)\s+(\S+)(?:\s+(\S+))?/;

/**
 * Parses gemspec text. Returns the gem's name, version, licenses and platform.
 * Throws GemspecError when the name or version cannot be read as a literal (nor from the stub line).
 */
export function parseGemspec(text: string): GemspecInfo {
  const lines = text.split(/\r?\n/);
  let specVar: string | undefined;
  let stub: { name: string; version: string; platform?: string } | undefined;
  let name: string | undefined;
  let version: string | undefined;
  let platform: string | undefined;
  let licenses: string[] | undefined;

  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (!stub) {
      const m = STUB.exec(line);
      if (m) stub = { name: m[1]!, version: m[2]!, ...(m[3] ? { platform: m[3] } : {}) };
    }
    if (!specVar) {
      const m = SPEC_NEW.exec(line);
      if (m) {
        specVar = m[1]!;
        continue;
      }
    }
    const a = ASSIGNMENT.exec(line);
    if (!a || (specVar !== undefined && a[1] !== specVar)) continue;
    const field = a[2]!;
    let expr = a[3]!;
    let lit = rubyLiterals(expr);
    // a licenses array may run over several lines (bounded: real ones are a few lines long)
    for (let more = 0; lit.open && field === 'licenses' && i + 1 < lines.length && more < 100; more++) {
      expr += '\n' + lines[++i]!;
      lit = rubyLiterals(expr);
    }
    const first = lit.dynamic ? undefined : lit.strings[0]?.trim();
    switch (field) {
      case 'name':
        if (name === undefined && first && GEM_NAME.test(first)) name = first;
        break;
      case 'version':
        if (version === undefined && first && GEM_VERSION.test(first)) version = first;
        break;
      case 'platform':
        if (platform === undefined && first) platform = first;
        break;
      default:
        // `license=` and `licenses=` both replace the list: the last assignment wins
        licenses = lit.dynamic ? [] : lit.strings.map((s) => s.trim()).filter(Boolean);
    }
  }

  if (name === undefined && stub && GEM_NAME.test(stub.name)) name = stub.name;
  if (version === undefined && stub && GEM_VERSION.test(stub.version)) version = stub.version;
  if (platform === undefined) platform = stub?.platform;
  if (name === undefined) throw new GemspecError('gemspec: no literal gem name (s.name) found');
  if (version === undefined)
    throw new GemspecError(`gemspec of ${name}: no literal gem version (s.version) found`);

  const info: GemspecInfo = { name, version, licenses: [...new Set(licenses ?? [])] };
  if (platform && platform !== 'ruby') info.platform = platform;
  return info;
}
