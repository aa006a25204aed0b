/**
 * The student records table (`<prefix>-students`; dynalite under `npm start`, DynamoDB on AWS), read and
 * written with the AWS SDK's DynamoDB client. An item per student: `key` (the enrolled name as `recordKey` reads
 * it, so that "Zoë" and "Zoe\u0308" are one student), `name` as it was written, `record` (a map of the record's
 * fields) and `fields` (their order in the file that loaded them).
 *
 * Loading is in batches of 25 (BatchWriteItem); DynamoDB may leave some items unprocessed under load, and those
 * are sent again with a growing pause. A batch write is not a transaction: what is still unwritten after the
 * last try is reported by name, and loading the same file again finishes the job (each write replaces the
 * student's item whole).
 */
import {
  BatchGetItemCommand,
  BatchWriteItemCommand,
  CreateTableCommand,
  DescribeTableCommand,
  type DynamoDBClient,
  waitUntilTableExists,
  type AttributeValue,
  type WriteRequest,
} from '@aws-sdk/client-dynamodb';
import { isNotFound } from '../aws/clients.js';
import { recordKey } from '../collections/names-and-faces.js';
import type { StudentRecord } from './student-records.js';
import type { StudentRecords } from './student-records.js';

/** DynamoDB's limits: 25 writes per BatchWriteItem, 100 keys per BatchGetItem. */
const WRITE_BATCH = 25;
const READ_BATCH = 100;
/** Tries of one batch's unprocessed items, with pauses of 50 ms, 100 ms, … */
const TRIES = 8;

/** The table's definition, for `npm start` and provisioning alike: on-demand, keyed by `key`. */
export function studentTableDefinition(TableName: string) {
  return {
    TableName,
    KeySchema: [{ AttributeName: 'key', KeyType: 'HASH' as const }],
    AttributeDefinitions: [{ AttributeName: 'key', AttributeType: 'S' as const }],
    BillingMode: 'PAY_PER_REQUEST' as const,
  };
}

/** Creates the table when it is not there (`npm start`), and waits until it is active. */
export async function ensureStudentTable(dynamodb: DynamoDBClient, TableName: string): Promise<void> {
  try {
    await dynamodb.send(new DescribeTableCommand({ TableName }));
    return;
  } catch (err) {
    if (!isNotFound(err) && (err as Error).name !== 'ResourceNotFoundException') throw err;
  }
  await dynamodb.send(new CreateTableCommand(studentTableDefinition(TableName)));
  await waitUntilTableExists({ client: dynamodb, maxWaitTime: 60 }, { TableName });
}

export interface StudentLookup {
  /** Each student found, by the name asked for. */
  readonly records: ReadonlyMap<string, StudentRecord>;
  /** The record fields of the students found, in their files' order, each once. */
  readonly fields: readonly string[];
}

export interface LoadResult {
  readonly written: number;
  /** Students still unwritten after every try. */
  readonly unwritten: readonly string[];
}

export class StudentTable {
  constructor(
    private readonly dynamodb: DynamoDBClient,
    private readonly tableName: string,
    private readonly pause: (ms: number) => Promise<void> = (ms) => new Promise((r) => setTimeout(r, ms)),
  ) {}

  /** Writes every record (replacing a student's earlier one whole); reports the students left unwritten. */
  async load({ fields, records }: StudentRecords): Promise<LoadResult> {
    const items = [...records].map(([name, record]) => ({
      name,
      request: {
        PutRequest: {
          Item: {
            key: { S: recordKey(name) },
            name: { S: name },
            fields: { L: fields.map((f) => ({ S: f })) },
            record: { M: Object.fromEntries(fields.map((f) => [f, { S: record[f] ?? '' }])) },
          },
        },
      } satisfies WriteRequest,
    }));
    const unwritten: string[] = [];
    for (let i = 0; i < items.length; i += WRITE_BATCH) {
      const batch = items.slice(i, i + WRITE_BATCH);
      let pending: WriteRequest[] = batch.map((b) => b.request);
      for (let attempt = 0; pending.length > 0 && attempt < TRIES; attempt++) {
        if (attempt > 0) await this.pause(50 * 2 ** (attempt - 1));
        const { UnprocessedItems } = await this.dynamodb.send(
          new BatchWriteItemCommand({ RequestItems: { [this.tableName]: pending } }),
        );
        pending = UnprocessedItems?.[this.tableName] ?? [];
      }
      const left = new Set(pending.map((p) => p.PutRequest?.Item?.['key']?.S));
      unwritten.push(...batch.filter((b) => left.has(recordKey(b.name))).map((b) => b.name));
    }
    return { written: items.length - unwritten.length, unwritten };
  }

  /** The records of these students; a student without one is left out. */
  async lookup(names: readonly string[]): Promise<StudentLookup> {
    const byKey = new Map(names.map((n) => [recordKey(n), n]));
    const keys = [...byKey.keys()];
    const records = new Map<string, StudentRecord>();
    const fields: string[] = [];
    for (let i = 0; i < keys.length; i += READ_BATCH) {
      let pending: Record<string, AttributeValue>[] = keys.slice(i, i + READ_BATCH).map((k) => ({ key: { S: k } }));
      for (let attempt = 0; pending.length > 0; attempt++) {
        if (attempt >= TRIES) throw new Error(`DynamoDB left ${pending.length} student lookups unprocessed`);
        if (attempt > 0) await this.pause(50 * 2 ** (attempt - 1));
        const { Responses, UnprocessedKeys } = await this.dynamodb.send(
          new BatchGetItemCommand({ RequestItems: { [this.tableName]: { Keys: pending } } }),
        );
        for (const item of Responses?.[this.tableName] ?? []) {
          const name = byKey.get(item['key']?.S ?? '');
          if (name === undefined) continue;
          const order = (item['fields']?.L ?? []).flatMap((f) => (f.S === undefined ? [] : [f.S]));
          const values = item['record']?.M ?? {};
          records.set(name, Object.fromEntries(order.map((f) => [f, values[f]?.S ?? ''])));
          for (const f of order) if (!fields.includes(f)) fields.push(f);
        }
        pending = UnprocessedKeys?.[this.tableName]?.Keys ?? [];
      }
    }
    return { records, fields };
  }
}
