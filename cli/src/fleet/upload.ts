/**
 * `vigil image|fs|sbom … --server URL --token T`: the JSON report of the local scan goes to `POST /api/v1/reports`,
 * where it is recorded as a completed scan of the image it names; the answer names the scan and the image, and
 * the console shows the image at `<server>/images/<imageId>`.
 */
import { callJson, type FleetTarget } from './client.js';

export interface Uploaded {
  scanId: string;
  imageId: string;
  /** the image's page in the console */
  consoleUrl: string;
  /** the same image in the REST API */
  apiUrl: string;
}

/** Where the console shows an image. */
export const consoleImageUrl = (target: FleetTarget, imageId: string): string =>
  `${target.server}/images/${encodeURIComponent(imageId)}`;

/**
 * Uploads a Vigil JSON report (the text `--format json` prints).
 * @throws CLI_SERVER_FORBIDDEN for a token without the `ci` scope, CLI_SERVER_UNAUTHENTICATED, CLI_SERVER_REFUSED
 *   (CP_REPORT_INVALID: e.g. a report without an image digest), CLI_SERVER_UNREACHABLE, CLI_SERVER_ERROR
 */
export async function uploadReport(target: FleetTarget, reportJson: string): Promise<Uploaded> {
  const { body } = await callJson<{ scan: { id: string }; image: { id: string } }>(
    target,
    'POST',
    '/reports',
    reportJson,
  );
  return {
    scanId: body.scan.id,
    imageId: body.image.id,
    consoleUrl: consoleImageUrl(target, body.image.id),
    apiUrl: `${target.server}/api/v1/images/${encodeURIComponent(body.image.id)}`,
  };
}
