/**
 * Shipping the instances' logs to CloudWatch Logs (LOG_SHIPPING=cloudwatch, `npm run aws:provision -- --logs`).
 * The image has the CloudWatch agent (deploy/bake.sh); at boot, deploy/logs/facefleet-logs.service copies every
 * facefleet unit's journal to /var/log/facefleet/units.log (the agent reads files, not the journal) and starts
 * the agent with the configuration below, written by `scripts/cloudwatch-agent-config.ts` on the instance.
 */

/** AWS's managed policy for the agent: put log events, create the group and its streams (CloudWatch User Guide). */
export const CLOUDWATCH_AGENT_POLICY = 'arn:aws:iam::aws:policy/CloudWatchAgentServerPolicy';
/** Where the journal copy is, on every instance. */
export const UNITS_LOG = '/var/log/facefleet/units.log';

/** The log group of a deployment. */
export function logGroupName(prefix: string): string {
  return `/facefleet/${prefix}`;
}

/** CloudWatch Logs keeps a group's events for one of these numbers of days. */
const RETENTION_CHOICES = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
];

/** The agent's configuration: the units' log, one stream per instance, kept the deployment's retention. */
export function cloudWatchAgentConfig(prefix: string, retentionDays: number | undefined) {
  const days = retentionDays === undefined ? -1 : (RETENTION_CHOICES.find((d) => d >= retentionDays) ?? 3653);
  return {
    agent: { run_as_user: 'root' },
    logs: {
      logs_collected: {
        files: {
          collect_list: [
            {
              file_path: UNITS_LOG,
              log_group_name: logGroupName(prefix),
              log_stream_name: '{instance_id}',
              // -1: never expire (RETENTION_DAYS=0 keeps everything).
              retention_in_days: days,
            },
          ],
        },
      },
    },
  };
}
