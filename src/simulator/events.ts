import { appDefinition } from './render';
import type { AppDef, SimEvent, SimTask, TaskState } from './types';

/** Builders for the event payloads Marathon 1.5–1.10 puts on `/v2/events` (data of each SSE message). */

export function apiPostEvent(def: AppDef, now: string, clientIp = '127.0.0.1'): SimEvent {
  return {
    clientIp,
    uri: `/v2/apps${def.id}`,
    appDefinition: appDefinition(def),
    eventType: 'api_post_event',
    timestamp: now,
  };
}

export function statusUpdateEvent(task: SimTask, status: TaskState, now: string, message = ''): SimEvent {
  return {
    slaveId: task.slaveId,
    taskId: task.id,
    taskStatus: status,
    message,
    appId: task.appId,
    host: task.host,
    ipAddresses: [{ ipAddress: task.host, protocol: 'IPv4' }],
    ports: task.ports,
    version: task.version,
    eventType: 'status_update_event',
    timestamp: now,
  };
}

export function healthStatusChangedEvent(task: SimTask, alive: boolean, now: string): SimEvent {
  return {
    appId: task.appId,
    taskId: task.id,
    instanceId: instanceIdOf(task.id),
    version: task.version,
    alive,
    eventType: 'health_status_changed_event',
    timestamp: now,
  };
}

export function appTerminatedEvent(appId: string, now: string): SimEvent {
  return { appId, eventType: 'app_terminated_event', timestamp: now };
}

export type DeploymentAction = 'StartApplication' | 'ScaleApplication' | 'RestartApplication' | 'StopApplication';

/** `deployment_info` (start), `deployment_step_success` and `deployment_success` (end) around one app change. */
export function deploymentEvents(
  deploymentId: string,
  appId: string,
  action: DeploymentAction,
  version: string,
  now: string,
): { readonly info: SimEvent; readonly stepSuccess: SimEvent; readonly success: SimEvent } {
  const step = { actions: [{ action, app: appId }] };
  const plan = { id: deploymentId, version, steps: [step] };
  return {
    info: { plan, currentStep: step, eventType: 'deployment_info', timestamp: now },
    stepSuccess: { plan, currentStep: step, eventType: 'deployment_step_success', timestamp: now },
    success: { id: deploymentId, plan, eventType: 'deployment_success', timestamp: now },
  };
}

export function eventStreamAttached(remoteAddress: string, now: string): SimEvent {
  return { remoteAddress, eventType: 'event_stream_attached', timestamp: now };
}

/** Marathon 1.5+ reports health per instance; for the simulator, instance id = task id. */
export const instanceIdOf = (taskId: string): string => taskId;
