import type { MarathonClient } from './client';

/**
 * The Marathon writes a deployment tool needs (zdd.py's calls), over the project's client: same
 * auth, failover across URLs, leader redirects and TLS trust as its reads. App ids are Marathon
 * paths (`/nginx-blue`); each call rejects with the client's MarathonError on a non-2xx answer.
 */
export interface MarathonWrites {
  /** GET /v2/apps: every app (no tasks embedded). */
  listApps(): Promise<unknown>;
  /** GET /v2/apps/{id}: `{app: …}` with its tasks and deployments. */
  getApp(id: string): Promise<unknown>;
  /** POST /v2/apps. */
  createApp(definition: unknown): Promise<unknown>;
  /** PUT /v2/apps/{id} with `{instances}`. */
  scaleApp(id: string, instances: number): Promise<unknown>;
  /** POST /v2/tasks/delete?scale=true: kills the tasks and lowers their apps' instances. */
  killTasksAndScale(taskIds: readonly string[]): Promise<unknown>;
  /** DELETE /v2/apps/{id}. */
  deleteApp(id: string): Promise<unknown>;
}

/** `/nginx` → `/nginx`, `nginx` → `/nginx`; each path segment URL-encoded. */
function appPath(id: string): string {
  return (
    '/' +
    id
      .split('/')
      .filter((s) => s !== '')
      .map(encodeURIComponent)
      .join('/')
  );
}

export function marathonWrites(client: MarathonClient): MarathonWrites {
  return {
    listApps: () => client.requestJson('GET', '/v2/apps'),
    getApp: (id) => client.requestJson('GET', `/v2/apps${appPath(id)}`),
    createApp: (definition) => client.requestJson('POST', '/v2/apps', definition),
    scaleApp: (id, instances) => client.requestJson('PUT', `/v2/apps${appPath(id)}`, { instances }),
    killTasksAndScale: (taskIds) => client.requestJson('POST', '/v2/tasks/delete?scale=true', { ids: taskIds }),
    deleteApp: (id) => client.requestJson('DELETE', `/v2/apps${appPath(id)}`),
  };
}
