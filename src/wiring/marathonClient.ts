/**
 * The parts that talk to Marathon: its client from marathon-lb's flags, and the live service's parts
 * built with it. Apart from parts.ts, so that only what fetches (the service, --dry without
 * --apps-file) loads the client's modules (auth, http, crypto): a dry render from a file does not.
 */
import type { Options } from '../cli/options';
import { basicAuth, dcosAuth, parseDcosCredentials, type AuthProvider } from '../marathon/auth';
import { chosenCredentials } from '../marathon/credentials';
import { readCaCertFlag, readFlagFile } from '../flagFile';
import { MarathonClient, type MarathonLogger } from '../marathon/client';
import { err, ok, type Result } from '../result';
import { controllerSettings, serviceSettings, type ControllerSettings, type ServiceSettings } from './parts';

type Env = Readonly<Record<string, string | undefined>>;

/** The least bound on one whole request to Marathon and its answer. */
const WHOLE_READ_MS = 300_000;

/** Builds the Marathon client from marathon-lb's flags (reading the CA and credential files); returns one clear message on bad input. */
export function marathonClientFromOptions(o: Options, logger: MarathonLogger): Result<MarathonClient> {
  let caCert: string | undefined;
  if (o.marathonCaCert !== undefined) {
    const read = readCaCertFlag(o.marathonCaCert);
    if (!read.ok) return read;
    caCert = read.value;
  }
  if (o.marathonInsecure) logger.warn('--marathon-insecure: TLS certificates of Marathon are NOT verified');
  const timeoutMs = o.requestTimeout * 1000;
  const connectTimeoutMs = o.connectTimeout * 1000;
  const chosen = chosenCredentials(
    { file: o.marathonAuthCredentialFile, basic: o.authCredentials, dcos: o.dcosAuthCredentials },
    (file) => readFlagFile('--marathon-auth-credential-file', file),
  );
  if (!chosen.ok) return chosen;
  let auth: AuthProvider | undefined;
  if (chosen.value.kind === 'basic') auth = basicAuth(chosen.value.credentials);
  else if (chosen.value.kind === 'dcos') {
    const creds = parseDcosCredentials(chosen.value.text);
    if (!creds.ok) return creds;
    auth = dcosAuth({
      credentials: creds.value,
      caCert,
      insecure: o.marathonInsecure,
      timeoutMs,
      connectTimeoutMs,
      logger,
    });
  }
  try {
    return ok(
      new MarathonClient({
        urls: o.marathon,
        auth,
        caCert,
        insecure: o.marathonInsecure,
        timeoutMs,
        connectTimeoutMs,
        // A whole read is bounded, however its bytes come: one trickled a byte a second held the
        // controller's reads for good, SIGHUP and new events waiting behind it (an audit). A big
        // Marathon sends its 30 MB in tens of seconds.
        totalTimeoutMs: Math.max(WHOLE_READ_MS, 5 * timeoutMs),
        logger,
      }),
    );
  } catch (e) {
    return err((e as Error).message);
  }
}

/** What the live service (service.ts) is built from: its settings, the controller's and the Marathon client. */
export interface ServiceParts {
  readonly service: ServiceSettings;
  readonly controller: ControllerSettings;
  readonly client: MarathonClient;
}

export function serviceParts(o: Options, env: Env, logger: MarathonLogger, pidFile?: string): Result<ServiceParts> {
  const service = serviceSettings(o, env, pidFile);
  const client = marathonClientFromOptions(o, logger);
  return client.ok ? ok({ service, controller: controllerSettings(o, env), client: client.value }) : client;
}
