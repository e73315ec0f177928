import * as fs from 'node:fs';
import type { Options } from '../cli/options';
import { basicAuth, dcosAuth, parseBasicCredentials, parseDcosCredentials, type AuthProvider } from './auth';
import { MarathonClient, type MarathonLogger } from './client';

/** Builds the Marathon client from marathon-lb's flags; returns one clear message on bad input. */
export function marathonClientFromOptions(o: Options, logger: MarathonLogger): MarathonClient | { readonly error: string } {
  let caCert: string | undefined;
  if (o.marathonCaCert !== undefined) {
    try {
      caCert = fs.readFileSync(o.marathonCaCert, 'utf8');
    } catch (e) {
      return { error: `--marathon-ca-cert ${o.marathonCaCert}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}` };
    }
  }
  if (o.marathonInsecure) logger.warn('--marathon-insecure: TLS certificates of Marathon are NOT verified');
  const timeoutMs = o.requestTimeout * 1000;
  const connectTimeoutMs = o.connectTimeout * 1000;
  let auth: AuthProvider | undefined;
  if (o.dcosAuthCredentials !== undefined) {
    const creds = parseDcosCredentials(o.dcosAuthCredentials);
    if (!creds.ok) return { error: creds.error };
    auth = dcosAuth({ credentials: creds.value, caCert, insecure: o.marathonInsecure, timeoutMs, connectTimeoutMs, logger });
  } else {
    let text = o.authCredentials;
    let source = '--auth-credentials';
    if (text === undefined && o.marathonAuthCredentialFile !== undefined) {
      source = `--marathon-auth-credential-file ${o.marathonAuthCredentialFile}`;
      try {
        text = fs.readFileSync(o.marathonAuthCredentialFile, 'utf8');
      } catch (e) {
        return { error: `${source}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}` };
      }
    }
    if (text !== undefined) {
      const creds = parseBasicCredentials(text, source);
      if (!creds.ok) return { error: creds.error };
      auth = basicAuth(creds.value);
    }
  }
  try {
    return new MarathonClient({ urls: o.marathon, auth, caCert, insecure: o.marathonInsecure, timeoutMs, connectTimeoutMs, logger });
  } catch (e) {
    return { error: (e as Error).message };
  }
}
