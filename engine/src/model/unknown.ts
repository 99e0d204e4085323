/** A per-file problem: the file was skipped or partly read, and the scan went on. */
export interface Unknown {
  /** image-relative path (no leading slash), or a layer/blob descriptor for layer-level problems. */
  path: string;
  message: string;
  /** diffID of the layer the file was in, for image scans. */
  layer?: string;
  /** analyzer (e.g. `os/rpm`) or stage (e.g. `walk`) that reported it. */
  source?: string;
}
