/**
 * A health check's timing when the envfile gives none. Probed every 25 ms while starting (so up
 * is fast), then every interval: an idle stack costs next to nothing. Kept here rather than in
 * envfile/ so that code which only needs the constant (spec/image-ports.ts, on `status`'s path)
 * does not bring the envfile loader and its YAML parser into the CLI's bundle chunks.
 */
export const DEFAULT_HEALTH_TIMING = { intervalMs: 10_000, timeoutMs: 2000, retries: 3, startPeriodMs: 0 }
