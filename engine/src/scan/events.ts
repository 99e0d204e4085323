/** Progress events of a scan (the engine never logs; callers render these). */
export type ScanEvent =
  | { type: 'source-open'; name: string }
  | { type: 'layer-start'; index: number; total: number; diffId: string; size?: number }
  | { type: 'layer-progress'; diffId: string; bytes: number }
  | { type: 'layer-done'; index: number; diffId: string; cached: boolean; files: number; complete: boolean }
  | { type: 'walk-progress'; files: number }
  | { type: 'scan-done'; packages: number; unknowns: number };

export type ScanEventListener = (event: ScanEvent) => void;
