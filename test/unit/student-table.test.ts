/**
 * What DynamoDB does under load and dynalite never does: leave items of a batch unprocessed. Those are sent
 * again with a growing pause; what is still unwritten after the last try is named; reads retry the same way.
 * (Everything else of the table runs on dynalite in test/integration/videos.test.ts.)
 */
import {
  BatchGetItemCommand,
  BatchWriteItemCommand,
  DynamoDBClient,
  type WriteRequest,
} from '@aws-sdk/client-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { nameKey } from '../../src/shared/collections/names-and-faces.js';
import { parseStudentRecords } from '../../src/shared/video/student-records.js';
import { StudentTable } from '../../src/shared/video/student-table.js';

const TABLE = 'p-students';
const dynamodb = mockClient(DynamoDBClient);
afterEach(() => dynamodb.reset());

const records = (n: number) =>
  parseStudentRecords(`name,id\n${Array.from({ length: n }, (_, i) => `Student ${i},S-${i}`).join('\n')}\n`);

describe('the students table under load', () => {
  it('writes in batches of 25 and sends what DynamoDB left unprocessed again, pausing longer each time', async () => {
    const pauses: number[] = [];
    let calls = 0;
    dynamodb
      .on(BatchWriteItemCommand)
      .callsFake(({ RequestItems }: { RequestItems: Record<string, WriteRequest[]> }) => {
        calls++;
        const items = RequestItems[TABLE]!;
        // The first batch's first two tries leave its last 5 items unprocessed.
        return calls <= 2 ? { UnprocessedItems: { [TABLE]: items.slice(-5) } } : { UnprocessedItems: {} };
      });
    const table = new StudentTable(new DynamoDBClient({}), TABLE, async (ms) => void pauses.push(ms));
    expect(await table.load(records(30))).toEqual({ written: 30, unwritten: [] });
    const sizes = dynamodb.commandCalls(BatchWriteItemCommand).map((c) => c.args[0].input.RequestItems![TABLE]!.length);
    expect(sizes).toEqual([25, 5, 5, 5]);
    expect(pauses).toEqual([50, 100]);
    const first = dynamodb.commandCalls(BatchWriteItemCommand)[0]!.args[0].input.RequestItems![TABLE]![0]!;
    expect(first.PutRequest!.Item).toEqual({
      key: { S: nameKey('Student 0') },
      name: { S: 'Student 0' },
      fields: { L: [{ S: 'id' }] },
      record: { M: { id: { S: 'S-0' } } },
    });
  });

  it('names the students still unwritten after the last try, and writes the rest', async () => {
    dynamodb
      .on(BatchWriteItemCommand)
      .callsFake(({ RequestItems }: { RequestItems: Record<string, WriteRequest[]> }) => ({
        UnprocessedItems: {
          [TABLE]: RequestItems[TABLE]!.filter((r) => r.PutRequest!.Item!['name']!.S === 'Student 1'),
        },
      }));
    const table = new StudentTable(new DynamoDBClient({}), TABLE, async () => undefined);
    expect(await table.load(records(3))).toEqual({ written: 2, unwritten: ['Student 1'] });
    expect(dynamodb.commandCalls(BatchWriteItemCommand)).toHaveLength(8);
  });

  it('reads again the keys DynamoDB left unprocessed, and gives up after as many tries', async () => {
    let calls = 0;
    dynamodb.on(BatchGetItemCommand).callsFake(({ RequestItems }) => {
      calls++;
      const keys = RequestItems[TABLE].Keys as { key: { S: string } }[];
      const item = (k: { key: { S: string } }) => ({
        key: k.key,
        fields: { L: [{ S: 'major' }] },
        record: { M: { major: { S: `of ${k.key.S}` } } },
      });
      return calls === 1
        ? { Responses: { [TABLE]: [item(keys[0]!)] }, UnprocessedKeys: { [TABLE]: { Keys: keys.slice(1) } } }
        : { Responses: { [TABLE]: keys.map(item) }, UnprocessedKeys: {} };
    });
    const table = new StudentTable(new DynamoDBClient({}), TABLE, async () => undefined);
    const found = await table.lookup(['Ann Lee', 'Bo Chen']);
    expect(Object.fromEntries(found.records)).toEqual({
      'Ann Lee': { major: 'of annlee' },
      'Bo Chen': { major: 'of bochen' },
    });
    expect(found.fields).toEqual(['major']);

    dynamodb.reset();
    dynamodb.on(BatchGetItemCommand).callsFake(({ RequestItems }) => ({
      Responses: {},
      UnprocessedKeys: { [TABLE]: RequestItems[TABLE] },
    }));
    await expect(table.lookup(['Ann Lee'])).rejects.toThrow('DynamoDB left 1 student lookups unprocessed');
  });
});
