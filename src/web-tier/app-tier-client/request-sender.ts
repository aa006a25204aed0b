/**
 * Sends request messages to the request queue in batches. A message goes out at once when no batch is in the
 * air; messages that arrive while one is become the next batch (up to SQS's ten per call). An idle request
 * therefore waits for nothing, while 100 concurrent uploads cost about a tenth of the SendMessage calls: each
 * call is a signed HTTP exchange that costs the web tier (and on this machine the emulator) CPU per call,
 * not per message.
 */
import { SendMessageBatchCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { SQS_MAX_BATCH } from '../../shared/config/settings.js';

interface Pending {
  readonly body: string;
  readonly resolve: () => void;
  readonly reject: (err: Error) => void;
}

/** One entry of a batch that SQS refused (the others of the batch were sent). */
export class MessageRefusedError extends Error {
  constructor(
    readonly code: string | undefined,
    reason: string | undefined,
  ) {
    super(`the request queue refused the message: ${code ?? 'unknown code'} (${reason ?? 'no reason given'})`);
    this.name = 'MessageRefusedError';
  }
}

export class RequestSender {
  private pending: Pending[] = [];
  private inFlight = 0;

  /**
   * @param maxInFlight Batches in the air at once. Two, so that one slow call does not hold every request
   *   behind it, while under load each call still carries the messages that arrived during the previous one.
   */
  constructor(
    private readonly sqs: SQSClient,
    private readonly queueUrl: string,
    private readonly maxInFlight = 2,
  ) {}

  /** Resolves once SQS has the message; rejects with the SDK's error or a MessageRefusedError. */
  send(body: string): Promise<void> {
    return new Promise((resolve, reject) => {
      this.pending.push({ body, resolve, reject });
      this.flush();
    });
  }

  private flush(): void {
    while (this.pending.length > 0 && this.inFlight < this.maxInFlight) {
      const batch = this.pending.splice(0, SQS_MAX_BATCH);
      this.inFlight++;
      void this.sendBatch(batch).finally(() => {
        this.inFlight--;
        this.flush();
      });
    }
  }

  private async sendBatch(batch: readonly Pending[]): Promise<void> {
    try {
      const { Failed = [] } = await this.sqs.send(
        new SendMessageBatchCommand({
          QueueUrl: this.queueUrl,
          Entries: batch.map((p, i) => ({ Id: String(i), MessageBody: p.body })),
        }),
      );
      const failed = new Map(Failed.map((f) => [Number(f.Id), f]));
      batch.forEach((p, i) => {
        const f = failed.get(i);
        if (f) p.reject(new MessageRefusedError(f.Code, f.Message));
        else p.resolve();
      });
    } catch (err) {
      for (const p of batch) p.reject(err as Error);
    }
  }
}
