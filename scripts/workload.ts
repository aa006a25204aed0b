/**
 * `npm run workload -- --images DIR [options]`: the workload generator. Sends images to the web tier as the
 * course's official generator does (multipart field "inputFile", 100 at once, a fresh TCP connection each, no
 * client timeout), checks the answers against a labels CSV, shows progress, and ends with the official
 * summary plus latency percentiles and requests per second. Exits 1 when any request failed or was wrong,
 * 2 on a usage error.
 */
import { SingleBar } from 'cli-progress';
import { Command, Option } from 'commander';
import { EXTENSION_NAMES } from '../src/shared/wire/image-formats.js';
import { MonitorReporter } from '../src/monitor/reporter.js';
import { runningStack } from '../src/local/running-stack.js';
import { httpUrl, positiveInt, positiveNumber, wholeNumber } from './lib/options.js';
import {
  assertReachable,
  formatSummary,
  loadLabels,
  pickImages,
  runWorkload,
  UsageError,
  type Outcome,
} from './lib/workload.js';

const program = new Command()
  .name('npm run workload --')
  .description('Send images to the face-recognition web tier and check the answers.')
  .requiredOption('--images <dir>', `folder of ${EXTENSION_NAMES} images`)
  .option(
    '--url <url>',
    'web tier URL (default: the one npm start runs with this DATA_DIR, else http://127.0.0.1:8000/)',
    httpUrl,
    new URL(runningStack().addresses?.webUrl ?? 'http://127.0.0.1:8000/'),
  )
  .option('--labels <csv>', 'expected labels, a CSV with columns Image (file stem) and Results')
  .option('-n, --requests <n>', 'requests to send (default: every image in the folder)', positiveInt)
  .option('-c, --concurrency <n>', 'requests in flight at once', positiveInt, 100)
  .addOption(
    new Option('--pick <order>', 'which images: the first N by name, or a seeded random sample')
      .choices(['first', 'random'])
      .default('first'),
  )
  .option('--seed <n>', 'seed for --pick random', wholeNumber, 1)
  .option('--keep-alive', 'reuse connections (default: a fresh TCP connection per request, like the official client)')
  .option('--timeout-seconds <s>', 'give up on a request after this long (default: wait for ever)', positiveNumber)
  .option(
    '--monitor <url>',
    'where to report each answer (its latency and the server’s metrics) for the monitoring page (default: the web tier’s /monitoring/reports)',
    httpUrl,
  )
  .option('--no-monitor', 'report nothing to the monitoring server')
  .option('--json', 'print the summary as one JSON object')
  .option('--no-progress', 'no progress output');

interface Options {
  images: string;
  url: URL;
  labels?: string;
  requests?: number;
  concurrency: number;
  pick: 'first' | 'random';
  seed: number;
  keepAlive?: boolean;
  timeoutSeconds?: number;
  json?: boolean;
  progress: boolean;
  /** Given with --monitor; false with --no-monitor; undefined: the web tier's /monitoring/reports. */
  monitor?: URL | false;
}

/** A bar on a terminal; elsewhere (CI logs, pipes) a plain line at every tenth of the run. */
function progressReporter(total: number, enabled: boolean): { tick(n: number, o: Outcome): void; stop(): void } {
  if (!enabled) return { tick: () => undefined, stop: () => undefined };
  if (process.stderr.isTTY) {
    const bar = new SingleBar({
      format: 'requests [{bar}] {value}/{total} | failed {failed} | wrong {wrong} | {duration}s',
      stream: process.stderr,
      hideCursor: true,
    });
    let failed = 0;
    let wrong = 0;
    bar.start(total, 0, { failed, wrong });
    return {
      tick: (n, outcome) => {
        if (outcome === 'failed') failed++;
        if (outcome === 'wrong') wrong++;
        bar.update(n, { failed, wrong });
      },
      stop: () => bar.stop(),
    };
  }
  const step = Math.max(1, Math.ceil(total / 10));
  const started = performance.now();
  return {
    tick: (n) => {
      if (n % step === 0 || n === total) {
        const seconds = ((performance.now() - started) / 1000).toFixed(1);
        process.stderr.write(`${n}/${total} answered after ${seconds} s\n`);
      }
    },
    stop: () => undefined,
  };
}

async function main(): Promise<void> {
  const o = program.parse().opts<Options>();
  const labels = o.labels ? await loadLabels(o.labels) : undefined;
  const images = await pickImages(o.images, o.requests, o.pick, o.seed);
  await assertReachable(o.url);
  const progress = progressReporter(images.length, o.progress && !o.json);
  const monitorUrl = o.monitor === false ? undefined : (o.monitor ?? new URL('monitoring/reports', o.url));
  const monitor = monitorUrl && new MonitorReporter({ url: monitorUrl.href });
  const result = await runWorkload({
    url: o.url,
    folder: o.images,
    images,
    concurrency: o.concurrency,
    freshConnection: !o.keepAlive,
    timeoutMs: o.timeoutSeconds === undefined ? undefined : o.timeoutSeconds * 1000,
    labels,
    onAnswer: (n, outcome) => progress.tick(n, outcome),
    monitor,
  });
  progress.stop();
  await monitor?.close();
  const reported = monitor && { url: monitorUrl!.href, ...monitor.stats, problem: monitor.lastProblem };
  console.log(o.json ? JSON.stringify({ ...result, monitor: reported }, null, 2) : formatSummary(result));
  if (reported && !o.json) {
    console.log(
      `Monitoring: ${reported.sent} answers reported to ${reported.url}` +
        (reported.dropped > 0 ? `, ${reported.dropped} dropped (${reported.problem ?? 'unknown reason'})` : ''),
    );
  }
  process.exitCode = result.failed + result.wrong > 0 ? 1 : 0;
}

try {
  await main();
} catch (err) {
  if (!(err instanceof UsageError)) throw err;
  console.error(`workload: ${err.message}`);
  process.exitCode = 2;
}
