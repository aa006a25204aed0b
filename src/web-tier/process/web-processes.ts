/**
 * Several web-tier processes on one machine (WEB_PROCESSES): a supervisor forks them, each listens on the same
 * port with SO_REUSEPORT (the kernel spreads connections among them, and a process that dies takes only its
 * own connections with it), and a dead one is started again with a new id and reply queue. The supervisor
 * relays what each process knows of its last seconds to the others once a second, so that GET /live and
 * GET /status in any one of them count them all.
 */
import { fileURLToPath } from 'node:url';
import { SupervisedPart } from '../../shared/child-part.js';
import type { Logger } from '../../shared/logger.js';
import type { AnswerWindow } from './recent-answers.js';

const WEB_MAIN = fileURLToPath(new URL('../main.ts', import.meta.url));
/** How often each process passes on its figures, and the supervisor the figures of all. */
export const PEER_INTERVAL_MS = 1000;
/** Figures older than this belong to a process that is gone. */
const PEER_STALE_MS = 3 * PEER_INTERVAL_MS;

/** One web process as the others see it. */
export interface WebProcessSnapshot {
  readonly id: string;
  readonly pid: number;
  /** Its 1-based index among the machine's web processes. */
  readonly index: number;
  readonly replyQueue: string;
  /** Requests waiting for a worker's answer. */
  readonly waiting: number;
  /** Where its own GET /metrics answers, when it has an address of its own. */
  readonly metricsUrl?: string;
  /** Its answers of the live window. */
  readonly answers: AnswerWindow;
  /** When it said so, epoch milliseconds. */
  readonly at: number;
}

/** What a web process tells its supervisor once it takes requests. */
export interface WebProcessReadyMessage {
  readonly type: 'facefleet:web-ready';
  readonly port: number;
  readonly process: WebProcessSnapshot;
}

interface LiveMessage {
  readonly type: 'facefleet:web-live';
  readonly process: WebProcessSnapshot;
}

interface PeersMessage {
  readonly type: 'facefleet:web-peers';
  readonly processes: readonly WebProcessSnapshot[];
}

/**
 * A web process's view of the machine's web processes: itself, fresh, and the others as the supervisor last
 * relayed them. A process that runs alone (no supervisor) sees itself only.
 */
export class WebPeers {
  private others: readonly WebProcessSnapshot[] = [];
  private timer: NodeJS.Timeout | undefined;
  private readonly onMessage = (m: unknown) => {
    if ((m as PeersMessage | undefined)?.type === 'facefleet:web-peers')
      this.others = (m as PeersMessage).processes.filter((p) => p.id !== this.self().id);
  };

  /**
   * @param supervised This process is one of a supervisor's (WEB_PROCESS_INDEX is set), which listens on the IPC
   *   channel; a process alone has none, or one to a parent that is not a supervisor (npm start's).
   */
  constructor(
    private readonly self: () => WebProcessSnapshot,
    private readonly supervised: boolean,
  ) {}

  start(): void {
    if (!this.supervised || typeof process.send !== 'function') return;
    process.on('message', this.onMessage);
    this.timer = setInterval(() => {
      const message: LiveMessage = { type: 'facefleet:web-live', process: this.self() };
      if (process.connected) process.send!(message, undefined, undefined, () => undefined);
    }, PEER_INTERVAL_MS);
    // The interval must not keep a stopping process alive.
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    process.off('message', this.onMessage);
  }

  /** This process first, then the others whose figures are fresh, by index. */
  all(): WebProcessSnapshot[] {
    const now = Date.now();
    const fresh = this.others.filter((p) => now - p.at <= PEER_STALE_MS);
    return [this.self(), ...fresh.sort((a, b) => a.index - b.index)];
  }
}

export interface WebProcessGroupOptions {
  readonly processes: number;
  /** The port they share; 0: the first picks a free one, and the others (and replacements) take it. */
  readonly port: number;
  /** Their environment on top of this process's (the emulator's endpoint, for npm start), read at each start. */
  readonly env: () => Record<string, string>;
  readonly logger: Logger;
  readonly stopGraceMs: number;
  /** Told when a process keeps dying (more than 5 times a minute) and is given up. */
  readonly onGiveUp?: (err: Error) => void;
}

interface Member {
  readonly index: number;
  readonly part: SupervisedPart<WebProcessReadyMessage>;
  latest?: WebProcessSnapshot;
}

/** The supervisor: forks the web processes, starts dead ones again, relays their figures. */
export class WebProcessGroup {
  private readonly members: Member[] = [];
  private relay: NodeJS.Timeout | undefined;
  private port = 0;

  private constructor(private readonly options: WebProcessGroupOptions) {}

  static async start(options: WebProcessGroupOptions): Promise<WebProcessGroup> {
    const group = new WebProcessGroup(options);
    try {
      // The first fixes the port when it is 0; the others bind the same one.
      group.port = options.port;
      await group.add(1);
      await Promise.all(Array.from({ length: options.processes - 1 }, (_, i) => group.add(i + 2)));
    } catch (err) {
      await group.stop();
      throw err;
    }
    group.relay = setInterval(() => group.relayFigures(), PEER_INTERVAL_MS);
    options.logger.info(
      { port: group.port, processes: group.processes().map((p) => ({ id: p.id, pid: p.pid })) },
      `${options.processes} web processes take requests on one port`,
    );
    return group;
  }

  get listeningPort(): number {
    return this.port;
  }

  /** The processes as they last said, by index (one that is being started again is absent). */
  processes(): WebProcessSnapshot[] {
    return this.members.flatMap((m) => (m.latest ? [m.latest] : []));
  }

  /** Sends a signal to process `index` (1-based); tests kill one with SIGKILL. */
  kill(index: number, signal: NodeJS.Signals): void {
    this.members[index - 1]?.part.kill(signal);
  }

  async stop(): Promise<void> {
    clearInterval(this.relay);
    await Promise.all(this.members.map((m) => m.part.stop()));
  }

  private async add(index: number): Promise<void> {
    const { options } = this;
    const member: Member = {
      index,
      part: new SupervisedPart<WebProcessReadyMessage>({
        main: WEB_MAIN,
        name: `web process ${index}`,
        readyType: 'facefleet:web-ready',
        env: () => ({ ...options.env(), PORT: String(this.port), WEB_PROCESS_INDEX: String(index) }),
        keepSecrets: true,
        logger: options.logger,
        stopGraceMs: options.stopGraceMs,
        onReady: (m) => {
          this.port = m.port;
          member.latest = m.process;
          options.logger.info({ index, web: m.process.id, pid: m.process.pid }, `web process ${index} takes requests`);
        },
        onMessage: (m) => {
          if ((m as LiveMessage | undefined)?.type === 'facefleet:web-live') member.latest = (m as LiveMessage).process;
        },
        onExit: () => (member.latest = undefined),
        onGiveUp: (err) => {
          options.logger.error({ err, index }, `web process ${index} keeps dying and is not started again`);
          options.onGiveUp?.(err);
        },
      }),
    };
    this.members.push(member);
    this.members.sort((a, b) => a.index - b.index);
    await member.part.start();
  }

  private relayFigures(): void {
    const message: PeersMessage = { type: 'facefleet:web-peers', processes: this.processes() };
    for (const m of this.members) m.part.send(message);
  }
}
