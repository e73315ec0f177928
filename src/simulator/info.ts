import type { Simulator } from './simulator';

const MARATHON_VERSION = '1.10.17';

/** `GET /v2/info` as Marathon 1.10 answers it (the fields clients look at). */
export function marathonInfo(sim: Simulator): Record<string, unknown> {
  const leader = `${sim.host}:${sim.port}`;
  const tls = sim.options.tls !== undefined;
  return {
    name: 'marathon',
    version: MARATHON_VERSION,
    buildref: 'marathon-lb-simulator',
    elected: sim.leader.redirectTo === undefined,
    leader:
      sim.leader.redirectTo === undefined
        ? leader
        : sim.leader.redirectTo.replace(/^https?:\/\//, '').replace(/\/.*$/, ''),
    frameworkId: 'sim-framework-0000',
    marathon_config: {
      master: 'zk://127.0.0.1:2181/mesos',
      hostname: sim.host,
      http_port: sim.port,
      https_port: tls ? sim.port : 8443,
      framework_name: 'marathon',
      mesos_role: '*',
      local_port_min: 10000,
      local_port_max: 20000,
      leader_proxy_connection_timeout_ms: 5000,
      leader_proxy_read_timeout_ms: 10000,
      task_launch_timeout: 300000,
      checkpoint: true,
      failover_timeout: 604800,
      webui_url: null,
      features: [],
    },
    zookeeper_config: {
      zk: 'zk://127.0.0.1:2181/marathon',
      zk_timeout: 10000,
      zk_session_timeout: 10000,
      zk_max_versions: 50,
    },
    http_config: { http_port: sim.port, https_port: tls ? sim.port : 8443 },
    event_subscriber: null,
  };
}
