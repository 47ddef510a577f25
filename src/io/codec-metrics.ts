/**
 * Counters of what a node's codec accepted and dropped, by reason: untrusted input is validated,
 * dropped and counted, never reported one event per frame (STYLE.md: three kinds of failure).
 * One `CodecMetrics` serves every decoder (the v2 envelope and each family's body codec): a
 * frame is counted once, by the first refusal it met or as decoded.
 */
import type { Result } from '../core/result.ts';
import { codecErrorCodes, type CodecError, type CodecErrorCode } from './codec-error.ts';

/** Counters a driver exports: frames accepted, and frames dropped by reason. */
export interface CodecMetrics {
  framesDecoded: number;
  framesDropped: number;
  readonly droppedByCode: Record<CodecErrorCode, number>;
}

export function createCodecMetrics(): CodecMetrics {
  const droppedByCode = Object.fromEntries(codecErrorCodes.map((code) => [code, 0])) as Record<CodecErrorCode, number>;
  return { framesDecoded: 0, framesDropped: 0, droppedByCode };
}

/** Count one frame's outcome: decoded, or dropped with its code. */
export function countDecode(metrics: CodecMetrics, result: Result<unknown, CodecError>): void {
  if (result.ok) {
    metrics.framesDecoded++;
    return;
  }
  metrics.framesDropped++;
  metrics.droppedByCode[result.error.code]++;
}
