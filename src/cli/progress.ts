import type { ListrTask } from 'listr2'
import type { ServiceEvent, UpResult } from '../runtime/index.js'
import { colors } from './output.js'

interface Deferred {
  settle: (event: ServiceEvent) => void
  update: (event: ServiceEvent) => void
}

/**
 * Shows one line per service while `work` runs (listr2, on stderr), driven by the runtime's
 * events. With `quiet` (--json) nothing is drawn.
 */
export async function withServiceProgress(
  services: string[],
  quiet: boolean,
  work: (onEvent: (event: ServiceEvent) => void) => Promise<UpResult>,
): Promise<UpResult> {
  if (quiet || services.length === 0) return work(() => {})
  const plain = !process.stderr.isTTY
  const handlers = new Map<string, Deferred>()
  const pending = new Map<string, ServiceEvent[]>()
  const onEvent = (event: ServiceEvent): void => {
    const handler = handlers.get(event.service)
    if (!handler) {
      pending.set(event.service, [...(pending.get(event.service) ?? []), event])
      return
    }
    if (event.phase === 'ready' || event.phase === 'unchanged' || event.phase === 'failed') handler.settle(event)
    else handler.update(event)
  }
  const tasks: ListrTask[] = services.map((service) => ({
    title: service,
    task: (_context, task) =>
      new Promise<void>((resolve, reject) => {
        const handler: Deferred = {
          update: (event) => {
            task.title = `${colors.bold(service)} ${colors.dim(event.message ?? event.phase)}`
          },
          settle: (event) => {
            if (event.phase === 'failed') {
              // The line-per-change renderer (no TTY) appends the error itself: do not say it twice.
              task.title = plain ? service : `${colors.bold(service)} ${event.message ?? 'failed'}`
              reject(new Error(event.message ?? 'failed'))
            } else {
              task.title = `${colors.bold(service)} ${event.phase === 'unchanged' ? colors.dim(`running at ${event.message}`) : `ready at ${event.message}`}`
              resolve()
            }
          },
        }
        handlers.set(service, handler)
        for (const event of pending.get(service) ?? []) onEvent(event)
        pending.delete(service)
        settleOnDone.set(service, () => resolve())
      }),
  }))
  const settleOnDone = new Map<string, () => void>()
  // Loaded here: commands that show no progress (status, logs) do not pay for listr2.
  const { Listr, ListrLogger, ProcessOutput } = await import('listr2')
  const list = new Listr(tasks, {
    concurrent: true,
    exitOnError: false,
    rendererOptions: {
      processOutput: new ProcessOutput(process.stderr, process.stderr),
      collapseErrors: false,
      showErrorMessage: false,
    },
    // Not a terminal: one line per change, still on stderr so stdout stays the command's result.
    fallbackRendererOptions: {
      logger: new ListrLogger({ processOutput: new ProcessOutput(process.stderr, process.stderr) }),
    },
    fallbackRendererCondition: () => plain,
  })
  const drawing = list.run().catch(() => undefined)
  let result: UpResult
  try {
    result = await work(onEvent)
  } finally {
    // Services the work never reported on (not targeted, or the work failed early) must not hang the display.
    for (const settle of settleOnDone.values()) settle()
  }
  await drawing
  return result
}
