/**
 * The timeouts between a load balancer and the web tier, from one rule, so that neither side cuts what the
 * other still holds:
 *
 * - a request that waits for its answer sends no byte for as long as the longest wait (RESULT_TIMEOUT_SECONDS,
 *   VIDEO_RESULT_TIMEOUT_SECONDS): the load balancer's idle timeout is longer than that;
 * - the web tier keeps an idle keep-alive connection open longer than the load balancer does, so that it is
 *   always the load balancer that closes one (otherwise it may send a request on a socket the server is closing,
 *   and answer 502);
 * - a web instance being removed is deregistered for long enough to receive its last upload and wait its answer.
 */
import type { Config } from './config.js';

/** AWS load balancers' default idle timeout; also the least ours is set to. */
const DEFAULT_IDLE_SECONDS = 60;
/** An Application Load Balancer's longest deregistration delay. */
const MAX_DEREGISTRATION_SECONDS = 3600;

export function frontDoorTimeouts(config: Pick<Config, 'web' | 'video'>) {
  const longestWait = Math.max(config.web.resultTimeoutSeconds, config.video.resultTimeoutSeconds);
  const idleTimeoutSeconds = Math.max(DEFAULT_IDLE_SECONDS, longestWait + 10);
  return {
    /** The load balancer's idle timeout: longer than the longest silent wait for an answer. */
    idleTimeoutSeconds,
    /** The web tier's keep-alive timeout: longer than the load balancer's idle timeout. */
    keepAliveSeconds: idleTimeoutSeconds + 5,
    /** The target group's deregistration delay: the longest upload and its wait, within the ALB's limit. */
    deregistrationDelaySeconds: Math.min(
      MAX_DEREGISTRATION_SECONDS,
      config.web.uploadTimeoutSeconds + longestWait + 10,
    ),
  };
}
