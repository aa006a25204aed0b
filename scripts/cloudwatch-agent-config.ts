/**
 * On an instance, at boot (deploy/logs/facefleet-logs.service): prints the CloudWatch agent's configuration for
 * this deployment (src/deploy/cloudwatch-agent.ts), from the instance's environment file.
 */
import { cloudWatchAgentConfig } from '../src/deploy/cloudwatch-agent.js';
import { loadConfig } from '../src/shared/config/config.js';

const config = loadConfig();
console.log(JSON.stringify(cloudWatchAgentConfig(config.resources.prefix, config.retention.days), null, 2));
