/**
 * The node tab's health facts (demo/node.html): its lifecycle (joining, syncing, active,
 * leaving, down) with the reason, and the alerts active now with the member each is about.
 * Read from `status().health` (src/runtime/node-health.ts), which the tab already polls; apart
 * from node.ts so that the node page stays one screen of code.
 */
import type { NodeStatus } from '../src/client/index.ts';
import { byId } from './shared.ts';

export function renderHealth(status: NodeStatus | null): void {
  const h = status?.health;
  byId('lifecycle').textContent = h === undefined ? '–' : `${h.lifecycle} (${h.reason})`;
  const alerts = h?.alerts ?? [];
  byId('alerts').textContent = alerts.length === 0 ? 'none' : alerts.map((a) => (a.subject === null ? a.rule : `${a.rule}: ${a.subject}`)).join(', ');
}
