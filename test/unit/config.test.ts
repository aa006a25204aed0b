import { describe, expect, it } from 'vitest';
import { childEnvironment, ConfigError, loadConfig } from '../../src/shared/config/config.js';

describe('loadConfig', () => {
  it('defaults to the local stack on port 8000 with the emulator at 127.0.0.1:4566', () => {
    const config = loadConfig({});
    expect(config.web.port).toBe(8000);
    expect(config.aws.endpoint).toBe('http://127.0.0.1:4566');
    expect(config.resources).toMatchObject({
      inBucket: 'facefleet-in-bucket',
      outBucket: 'facefleet-out-bucket',
      requestQueue: 'facefleet-req-queue',
      responseQueue: 'facefleet-resp-queue',
    });
    expect(config.web.maxUploadBytes).toBe(10 * 1024 * 1024);
    expect(Object.isFrozen(config.web)).toBe(true);
  });

  it('listens on loopback locally, like every other local part, and on every interface on AWS', () => {
    expect(loadConfig({}).web.host).toBe('127.0.0.1');
    expect(loadConfig({ FACEFLEET_STACK: 'aws' }).web.host).toBe('0.0.0.0');
    expect(loadConfig({ HOST: '0.0.0.0' }).web.host).toBe('0.0.0.0');
  });

  it('runs the student records’ dynalite beside the emulator, on the next port or a free one', () => {
    expect(loadConfig({}).aws.dynamodbEndpoint).toBe('http://127.0.0.1:4567');
    expect(loadConfig({ EMULATOR_PORT: '5000' }).dynamodb.port).toBe(5001);
    expect(loadConfig({ EMULATOR_PORT: '0' }).dynamodb.port).toBe(0);
    expect(loadConfig({ EMULATOR_PORT: '5000', DYNAMODB_PORT: '6000' }).aws.dynamodbEndpoint).toBe(
      'http://127.0.0.1:6000',
    );
    expect(() => loadConfig({ EMULATOR_PORT: '65535' })).toThrow(/DYNAMODB_PORT: must be set when EMULATOR_PORT/);
    // On AWS: DynamoDB's own endpoint, from the region.
    expect(loadConfig({ FACEFLEET_STACK: 'aws' }).aws.dynamodbEndpoint).toBeUndefined();
  });

  it('uses the default AWS endpoints and credential chain on the aws stack', () => {
    const config = loadConfig({ FACEFLEET_STACK: 'aws', RESOURCE_PREFIX: 'asu1234' });
    expect(config.aws.endpoint).toBeUndefined();
    expect(config.aws.useEmulatorCredentials).toBe(false);
    expect(config.resources.inBucket).toBe('asu1234-in-bucket');
  });

  it.each([
    [{ PORT: 'eighty' }, /PORT \(got "eighty"\): must be a number/],
    [{ WORKER_BATCH_SIZE: '11' }, /WORKER_BATCH_SIZE \(got "11"\): must be at most 10/],
    [{ RESULT_TIMEOUT_SECONDS: '1.5' }, /RESULT_TIMEOUT_SECONDS \(got "1.5"\): must be a whole number/],
    [{ WORKER_WAIT_SECONDS: '21' }, /WORKER_WAIT_SECONDS/],
    [{ RESOURCE_PREFIX: 'Bad_Prefix' }, /RESOURCE_PREFIX .*lowercase/],
    [{ FACEFLEET_STACK: 'gcp' }, /FACEFLEET_STACK/],
    [{ MIN_WORKERS: '5', MAX_WORKERS: '4' }, /MIN_WORKERS \(got "5"\): must be at most MAX_WORKERS \(4\)/],
    [{ MESSAGES_PER_WORKER: '0' }, /MESSAGES_PER_WORKER \(got "0"\): must be at least 1/],
    [
      { HEADERS_TIMEOUT_SECONDS: '30', UPLOAD_TIMEOUT_SECONDS: '10' },
      /HEADERS_TIMEOUT_SECONDS \(got "30"\): must be at most UPLOAD_TIMEOUT_SECONDS \(10\): the headers are part of the upload/,
    ],
    [{ MAX_CONCURRENT_UPLOADS: '0' }, /MAX_CONCURRENT_UPLOADS \(got "0"\): must be at least 1/],
    [
      { HEARTBEAT_SECONDS: '30', VISIBILITY_TIMEOUT_SECONDS: '30' },
      /HEARTBEAT_SECONDS \(got "30"\): must be less than VISIBILITY_TIMEOUT_SECONDS \(30\)/,
    ],
    [
      { RETENTION_DAYS: 'forever' },
      /RETENTION_DAYS \(got "forever"\): must be a number of days \(0 keeps everything\)/,
    ],
    [
      { MAX_UPLOAD_MEMORY_BYTES: '2000000', MAX_UPLOAD_BYTES: '3000000' },
      /MAX_UPLOAD_MEMORY_BYTES \(got "2000000"\): must be at least MAX_UPLOAD_BYTES \(3000000\)/,
    ],
    [{ FLEET_DRIVER: 'k8s' }, /FLEET_DRIVER/],
    [{ WARM_POOL: 'yes' }, /WARM_POOL \(got "yes"\): must be true or false/],
    [{ APP_TIER_AMI_ID: 'ubuntu' }, /APP_TIER_AMI_ID .*must be an AMI id/],
    [{ MATCH_THRESHOLD: '1.5' }, /MATCH_THRESHOLD \(got "1.5"\): must be at most 1/],
    [{ MATCH_THRESHOLD: 'never' }, /MATCH_THRESHOLD \(got "never"\)/],
    [{ API_KEY: 'short' }, /^Invalid configuration:\n {2}- API_KEY: must be at least 16 characters$/],
    [{ MAX_FACES: '0' }, /MAX_FACES/],
    [
      { WEB_PROCESSES: '2', REPLY_QUEUE: 'shared' },
      /REPLY_QUEUE \(got "shared"\): cannot be shared with WEB_PROCESSES=2/,
    ],
    [
      { REPLY_QUEUE_HEARTBEAT_SECONDS: '60', REPLY_QUEUE_IDLE_SECONDS: '60' },
      /REPLY_QUEUE_IDLE_SECONDS \(got "60"\): must be more than REPLY_QUEUE_HEARTBEAT_SECONDS \(60\)/,
    ],
    [{ WEB_PROCESSES: '0' }, /WEB_PROCESSES \(got "0"\): must be at least 1/],
  ])('refuses %o, naming the variable', (env, message) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(message);
  });

  it('scales from 0 to one worker per core locally, and to 19 app-tier instances on AWS', () => {
    expect(loadConfig({}).autoscaler.policy).toMatchObject({
      minWorkers: 0,
      messagesPerWorker: 4,
      scaleInIdleMs: 3000,
    });
    expect(loadConfig({}).fleet.driver).toBe('local');
    const aws = loadConfig({ FACEFLEET_STACK: 'aws', APP_TIER_SECURITY_GROUP_IDS: 'sg-1, sg-2' });
    expect(aws.autoscaler.policy.maxWorkers).toBe(19);
    expect(aws.fleet.driver).toBe('ec2');
    expect(aws.fleet.ec2).toMatchObject({
      instanceType: 't3.micro',
      securityGroupIds: ['sg-1', 'sg-2'],
      warmPool: false,
    });
  });

  it('matches with the measured threshold unless told otherwise, and can always name the nearest person', () => {
    expect(loadConfig({}).matching).toEqual({ threshold: 0.45, grows: true, maxFaces: 20 });
    expect(loadConfig({}).matching).toMatchObject({ threshold: 0.45, grows: true });
    expect(loadConfig({ MATCH_THRESHOLD: 'auto' }).matching).toMatchObject({ threshold: 0.45, grows: true });
    expect(loadConfig({ MATCH_THRESHOLD: '0.5' }).matching).toMatchObject({ threshold: 0.5, grows: false });
    expect(loadConfig({ MATCH_THRESHOLD: 'off' }).matching.threshold).toBeUndefined();
    expect(loadConfig({ MATCH_THRESHOLD: '0.3' }).matching.threshold).toBe(0.3);
    expect(loadConfig({ MATCH_THRESHOLD: '-1' }).matching.threshold).toBe(-1);
  });

  it('turns the enrollment API off without a key, and gives workers health probes only on AWS', () => {
    expect(loadConfig({}).enrollment).toEqual({ apiKey: undefined, readRequiresKey: true });
    expect(loadConfig({ API_KEY: 'k'.repeat(16), PEOPLE_READ_REQUIRES_KEY: 'false' }).enrollment).toEqual({
      apiKey: 'k'.repeat(16),
      readRequiresKey: false,
    });
    expect(loadConfig({}).worker.healthPort).toBeUndefined();
    expect(loadConfig({ FACEFLEET_STACK: 'aws' }).worker.healthPort).toBe(8002);
    expect(loadConfig({ WORKER_HEALTH_PORT: '0' }).worker.healthPort).toBe(0);
  });

  it('polls each reply queue with two loops for a lone web process, and one each among several', () => {
    expect(loadConfig({}).web.responsePollers).toBe(2);
    expect(loadConfig({ WEB_PROCESSES: '2' }).web.responsePollers).toBe(1);
    expect(loadConfig({ WEB_PROCESSES: '2', RESPONSE_POLLERS: '3' }).web.responsePollers).toBe(3);
  });

  it('treats empty variables as unset', () => {
    expect(loadConfig({ PORT: '' }).web.port).toBe(8000);
  });

  it('keeps uploads and labels for RETENTION_DAYS, 7 by default, and for ever with 0', () => {
    expect(loadConfig({}).retention.days).toBe(7);
    expect(loadConfig({ RETENTION_DAYS: '0.5' }).retention.days).toBe(0.5);
    expect(loadConfig({ RETENTION_DAYS: '0' }).retention.days).toBeUndefined();
  });

  it('keeps API_KEY out of the environment of child processes, unless asked to', () => {
    const before = process.env['API_KEY'];
    process.env['API_KEY'] = 'a-key-of-sixteen-or-more';
    try {
      expect(childEnvironment({ PORT: '1' })).not.toHaveProperty('API_KEY');
      expect(childEnvironment({ PORT: '1' })['PORT']).toBe('1');
      expect(childEnvironment({}, { keepSecrets: true })['API_KEY']).toBe('a-key-of-sixteen-or-more');
    } finally {
      if (before === undefined) delete process.env['API_KEY'];
      else process.env['API_KEY'] = before;
    }
  });

  it.each([
    [{}, 10],
    [{ VISIBILITY_TIMEOUT_SECONDS: '2' }, 1],
    [{ VISIBILITY_TIMEOUT_SECONDS: '300' }, 100],
    [{ VISIBILITY_TIMEOUT_SECONDS: '300', HEARTBEAT_SECONDS: '20' }, 20],
  ])('extends held messages every third of the visibility timeout unless told: %j → %d s', (env, seconds) => {
    expect(loadConfig(env).worker.heartbeatSeconds).toBe(seconds);
  });
});
