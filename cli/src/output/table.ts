/**
 * Human table of a scan: rendered by the engine (renderTable: findings per target for a matched
 * scan, the package table for an inventory), colour only when asked (the caller passes "stdout
 * is a TTY").
 */
import { renderTable as renderReportTable, type ReportInput } from '@vigil/engine/core';

export function renderTable(scan: ReportInput, color: boolean): string {
  return renderReportTable(scan, { color });
}
