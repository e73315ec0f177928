/**
 * The parts of Marathon's `/v2/apps?embed=apps.tasks` JSON that routing reads (Marathon 1.4–1.10).
 * Everything is optional because real clusters omit fields freely; src/model/appsJson.ts checks the shape.
 */
export interface MarathonHealthCheck {
  readonly protocol?: string;
  readonly path?: string;
  readonly portIndex?: number;
  readonly port?: number;
  readonly timeoutSeconds?: number;
  readonly intervalSeconds?: number;
  readonly gracePeriodSeconds?: number;
  readonly maxConsecutiveFailures?: number;
  readonly [key: string]: unknown;
}

export interface MarathonPortMapping {
  readonly containerPort?: number;
  readonly hostPort?: number;
  readonly servicePort?: number;
  readonly [key: string]: unknown;
}

export interface MarathonTask {
  readonly id: string;
  readonly host?: string;
  readonly state?: string;
  readonly ports?: readonly number[];
  readonly ipAddresses?: readonly { readonly ipAddress?: string }[];
  readonly healthCheckResults?: readonly { readonly alive?: boolean }[];
  readonly startedAt?: string;
  /** Set by blue/green merging (not by Marathon): an old task being drained. */
  readonly draining?: boolean;
  readonly [key: string]: unknown;
}

export interface MarathonApp {
  readonly id: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly tasks: readonly MarathonTask[];
  readonly instances?: number;
  readonly ports?: readonly number[];
  readonly portDefinitions?: readonly { readonly port?: number; readonly [key: string]: unknown }[];
  readonly healthChecks?: readonly MarathonHealthCheck[];
  readonly ipAddress?: {
    readonly discovery?: { readonly ports?: readonly { readonly number?: number | string }[] };
    readonly [key: string]: unknown;
  } | null;
  readonly container?: {
    readonly docker?: { readonly network?: string; readonly portMappings?: readonly MarathonPortMapping[] | null };
    readonly portMappings?: readonly MarathonPortMapping[] | null;
    readonly [key: string]: unknown;
  } | null;
  readonly networks?: readonly { readonly mode?: string; readonly name?: string }[];
  readonly versionInfo?: { readonly lastScalingAt?: string; readonly [key: string]: unknown };
  readonly [key: string]: unknown;
}
