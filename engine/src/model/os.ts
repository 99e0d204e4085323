/**
 * The operating system of an image. `family` is the os-release `ID` normalised to the
 * distribution trackers' names: alpine, debian, ubuntu, rhel, centos, rocky, almalinux,
 * fedora, amzn, ol, sles, opensuse-leap, opensuse-tumbleweed, photon, mariner, azurelinux,
 * wolfi, chainguard, ... `version` is the release (VERSION_ID, or the finer alpine-release /
 * debian_version when present).
 */
export interface OsRelease {
  family: string;
  version: string;
  name?: string;
  prettyName?: string;
  codename?: string;
  /** os-release ID_LIKE, space separated in the file. */
  idLike?: string[];
  /** true for distroless-style images (os-release without a package manager). */
  distroless?: boolean;
  /** path of the file this was read from. */
  source?: string;
}
