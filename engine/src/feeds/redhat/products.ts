/**
 * Resolves CSAF product ids (CSAF 2.0 §3.1.2 product_tree, https://docs.oasis-open.org/csaf/csaf/v2.0/os/csaf-v2.0-os.html)
 * the way Red Hat builds them (https://redhatproductsecurity.github.io/security-data-guidelines/csaf-vex/):
 * a relationship `<platform>:<component>` joins a platform product (a RHEL release and
 * repository, identified by a CPE) and a component (an rpm, identified by a purl; unfixed
 * components carry a name only). Modular rpms name their module in the purl's `rpmmod`
 * qualifier (`nodejs:18:8090020231019152822:a75119d5`) or, in older documents, in a `::<name>:<stream>`
 * suffix of the component id.
 */
import { PackageURL } from 'packageurl-js';

/** What a product id stands for, as far as an rpm matcher is concerned. */
export interface RpmProduct {
  /** namespace `rhel:<major>`, from the platform CPE */
  namespace: string;
  /** rpm name (source rpm when `source`) */
  name: string;
  /** the component is a source rpm (`arch=src`) */
  source: boolean;
  /** `version-release`, with `epoch:` in front unless the epoch is 0; absent for unversioned components */
  evr?: string;
  /** `name:stream` of the module the rpm belongs to */
  module?: string;
}

interface Helper {
  cpe?: string;
  purl?: string;
}

/**
 * RHEL releases Vigil matches: `cpe:/o:redhat:enterprise_linux:9::baseos`,
 * `cpe:/a:redhat:enterprise_linux:8::appstream`, `cpe:/o:redhat:enterprise_linux:7::server`…
 * Extended-support streams (rhel_eus, rhel_aus, rhel_e4s, rhel_tus, rhel_els) and other products
 * have CPEs of their own and fix versions of their own: they are not mixed into `rhel:<major>`.
 */
const RHEL_CPE = /^cpe:\/[aho]:redhat:enterprise_linux:(\d+)(?:$|[.:])/;

/** `rhel:<major>` for a RHEL release CPE, else undefined. */
export function rhelNamespace(cpe: string): string | undefined {
  const major = RHEL_CPE.exec(cpe.trim())?.[1];
  return major === undefined ? undefined : `rhel:${major}`;
}

const NEVRA = /^(.+)-(?:(\d+):)?([^-:]+)-([^-:]+)\.([A-Za-z0-9_]+)$/;

/** `E:V-R` with the epoch left out when it is 0 or absent (rpm's own notation). */
export function evr(epoch: string | undefined, versionRelease: string): string {
  return epoch && epoch !== '0' ? `${epoch}:${versionRelease}` : versionRelease;
}

export class ProductTree {
  private readonly helpers = new Map<string, Helper>();
  private readonly relations = new Map<string, { component: string; platform: string }>();
  private readonly cache = new Map<string, RpmProduct | null>();

  constructor(tree: unknown) {
    if (!isObject(tree)) return;
    const walk = (branches: unknown, depth: number) => {
      if (!Array.isArray(branches) || depth > 32) return;
      for (const b of branches) {
        if (!isObject(b)) continue;
        this.addProduct(b.product);
        walk(b.branches, depth + 1);
      }
    };
    walk(tree.branches, 0);
    if (Array.isArray(tree.full_product_names)) for (const p of tree.full_product_names) this.addProduct(p);
    if (Array.isArray(tree.relationships)) {
      for (const r of tree.relationships) {
        if (!isObject(r) || !isObject(r.full_product_name)) continue;
        const id = r.full_product_name.product_id;
        const component = r.product_reference;
        const platform = r.relates_to_product_reference;
        if (typeof id === 'string' && typeof component === 'string' && typeof platform === 'string')
          if (!this.relations.has(id)) this.relations.set(id, { component, platform });
      }
    }
  }

  private addProduct(p: unknown): void {
    if (!isObject(p) || typeof p.product_id !== 'string' || this.helpers.has(p.product_id)) return;
    const h = isObject(p.product_identification_helper) ? p.product_identification_helper : {};
    const helper: Helper = {};
    if (typeof h.cpe === 'string') helper.cpe = h.cpe;
    if (typeof h.purl === 'string') helper.purl = h.purl;
    // the first occurrence wins: Red Hat repeats ids with the same meaning
    this.helpers.set(p.product_id, helper);
  }

  /** The rpm a product id names on a RHEL release, or null (other products, unresolvable ids). */
  resolve(productId: string): RpmProduct | null {
    let hit = this.cache.get(productId);
    if (hit === undefined) {
      hit = this.compute(productId);
      this.cache.set(productId, hit);
    }
    return hit;
  }

  private compute(productId: string): RpmProduct | null {
    const rel = this.relations.get(productId);
    if (!rel) return null;
    const cpe = this.helpers.get(rel.platform)?.cpe;
    const namespace = cpe ? rhelNamespace(cpe) : undefined;
    if (namespace === undefined) return null;
    // "::module:stream" at the end of older component ids
    let ref = rel.component;
    let module: string | undefined;
    const mod = /::([^:\s]+:[^:\s]+)$/.exec(ref);
    if (mod) {
      module = mod[1];
      ref = ref.slice(0, mod.index);
    }
    const purl = this.helpers.get(rel.component)?.purl;
    if (purl !== undefined) {
      let p: PackageURL;
      try {
        p = PackageURL.fromString(purl);
      } catch {
        return null;
      }
      if (p.type !== 'rpm' || !p.name) return null; // containers (oci), modules themselves (rpmmod)
      const q = (p.qualifiers ?? {}) as Record<string, string | undefined>;
      const rpmmod = q.rpmmod?.split(':');
      if (rpmmod && rpmmod.length >= 2 && rpmmod[0] && rpmmod[1]) module = `${rpmmod[0]}:${rpmmod[1]}`;
      const out: RpmProduct = { namespace, name: p.name, source: q.arch === 'src' };
      if (p.version) out.evr = evr(q.epoch, p.version);
      if (module) out.module = module;
      return out;
    }
    // no purl: read the id itself, a NEVRA (`pam-0:1.5.1-21.el9_5.x86_64`) or a bare name
    const m = NEVRA.exec(ref);
    if (m) {
      const out: RpmProduct = {
        namespace,
        name: m[1]!,
        source: m[5] === 'src',
        evr: evr(m[2], `${m[3]}-${m[4]}`),
      };
      if (module) out.module = module;
      return out;
    }
    if (!/^[A-Za-z0-9][A-Za-z0-9._+-]*$/.test(ref)) return null;
    const out: RpmProduct = { namespace, name: ref, source: false };
    if (module) out.module = module;
    return out;
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
