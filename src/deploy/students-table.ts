/**
 * The student records' DynamoDB table, `<prefix>-students`: on demand (no capacity to plan for a roster read
 * per video), keyed by `key` (student-table.ts). Created when missing and waited for; teardown deletes it.
 */
import {
  CreateTableCommand,
  DeleteTableCommand,
  DescribeTableCommand,
  waitUntilTableExists,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import { studentTableDefinition } from '../shared/video/student-table.js';
import { orMissing, type Session } from './session.js';

export interface TableDeployment {
  readonly dynamodb: DynamoDBClient;
  readonly session: Session;
}

export async function ensureStudentsTable({ dynamodb, session }: TableDeployment, TableName: string): Promise<void> {
  const step = `table ${TableName}`;
  const found = await session.read(step, dynamodb, new DescribeTableCommand({ TableName })).catch(orMissing);
  if (found?.Table) {
    const key = found.Table.KeySchema?.map((k) => `${k.AttributeName}:${k.KeyType}`).join(',');
    if (key !== 'key:HASH')
      session.report(step, 'unchanged', `its key is ${key}, not key:HASH: delete it (teardown) and provision again`);
    else session.report(step, 'unchanged');
    return;
  }
  await session.change(step, dynamodb, new CreateTableCommand(studentTableDefinition(TableName)));
  if (!session.dryRun) await waitUntilTableExists({ client: dynamodb, maxWaitTime: 120 }, { TableName });
  session.report(step, 'created', 'on demand, keyed by the student’s name');
}

export async function deleteStudentsTable({ dynamodb, session }: TableDeployment, TableName: string): Promise<void> {
  const step = `table ${TableName}`;
  const found = await session.read(step, dynamodb, new DescribeTableCommand({ TableName })).catch(orMissing);
  if (!found?.Table) {
    session.report(step, 'already gone');
    return;
  }
  await session.change(step, dynamodb, new DeleteTableCommand({ TableName }));
  session.report(step, 'deleted');
}
