/**
 * The operations room: GET /healthz, /readyz, /status, /live, /metrics and /openapi.json, as
 * operations-api.ts describes them.
 */
import { Router } from 'express';
import type { Registry } from 'prom-client';
import { metricsHandler } from '../../http/metrics-route.js';
import { mount } from '../api/operation.js';
import type { FleetStateWatch } from '../process/fleet-state.js';
import type { WebProcessSnapshot } from '../process/web-processes.js';
import { healthHandlers, type ReadinessDeps } from './health-routes.js';
import { liveHandler } from './live-route.js';
import { OPERATIONS_API } from './operations-api.js';
import { statusHandler, type WebTierStatus } from './status-route.js';

export interface OperationsDeps {
  readonly readiness: ReadinessDeps;
  /** Where the autoscaler's status is read; undefined while it is unknown. */
  readonly autoscalerStatusUrl: () => string | undefined;
  /** The web tier's part of GET /status. */
  readonly webStatus: () => WebTierStatus;
  /** This process and the machine's others, for GET /live. */
  readonly webProcesses: () => readonly WebProcessSnapshot[];
  readonly fleetState: FleetStateWatch;
  readonly metrics: Registry;
  /** The OpenAPI document GET /openapi.json serves (openapi.ts renders it from every room's operations). */
  readonly openApi: Record<string, unknown>;
  /** With it set, GET /status shows where the metrics are only to a request that carries it. */
  readonly apiKey: string | undefined;
}

export function operationsRoutes(deps: OperationsDeps): Router {
  const { healthz, readyz } = healthHandlers(deps.readiness);
  return mount(Router(), OPERATIONS_API, {
    '/healthz': { get: healthz },
    '/readyz': { get: readyz },
    '/status': { get: statusHandler(deps.autoscalerStatusUrl, deps.webStatus, deps.apiKey) },
    '/live': { get: liveHandler(deps.webProcesses, deps.fleetState) },
    '/metrics': { get: metricsHandler(deps.metrics) },
    '/openapi.json': {
      get: (_req, res) => {
        res.json(deps.openApi);
      },
    },
  });
}
