/**
 * marathon-lb's :443 frontend needs a certificate; its image writes a self-signed one to
 * /etc/ssl/cert.pem at start when none is given (docker/run does the same here). Outside the image
 * the default path is usually empty, and HAProxy would refuse the whole config. So when
 * --ssl-certs is left at its default and that file is missing, a self-signed certificate (CN=*,
 * as docker/run makes) is created next to --haproxy-config and used instead, with a warning.
 *
 * It is never written to /etc/ssl: outside the image that directory belongs to the system (and
 * its other services), while the --haproxy-config directory is already this service's. A
 * certificate made by an earlier start is reused.
 */
import { execFile } from 'node:child_process';
import { promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { err, ok, type Result } from '../result';
import { ensureConfigDirectory } from '../ensureDirectory';

const DEFAULT_SSL_CERT = '/etc/ssl/cert.pem';
/** File name of the generated certificate in the --haproxy-config directory. */
export const SELF_SIGNED_NAME = 'marathon-lb-self-signed.pem';

/** Makes a self-signed certificate + key, PEM, in that order. */
export type MakeSelfSigned = () => Promise<string>;

/** The --ssl-certs to use, and what to tell the operator about it. */
interface Certificate {
  readonly sslCerts: string;
  readonly warning?: string;
  readonly info?: string;
}

export type CertificateChoice = Result<Certificate>;

export interface CertificateInput {
  /** --ssl-certs as given (comma-separated). */
  readonly sslCerts: string;
  readonly haproxyConfig: string;
  /** The path --ssl-certs defaults to (tests point it elsewhere; see MARATHON_LB_DEFAULT_SSL_CERT). */
  readonly defaultPath?: string;
}

async function exists(file: string): Promise<boolean> {
  return fs.access(file).then(
    () => true,
    () => false,
  );
}

export async function ensureDefaultCertificate(
  input: CertificateInput,
  make: MakeSelfSigned = opensslSelfSigned,
): Promise<CertificateChoice> {
  const defaultPath = input.defaultPath ?? DEFAULT_SSL_CERT;
  // Only the default: a path the user named is theirs to provide (HAProxy names it if it is missing).
  if (input.sslCerts !== DEFAULT_SSL_CERT || (await exists(defaultPath)))
    return ok({ sslCerts: input.sslCerts === DEFAULT_SSL_CERT ? defaultPath : input.sslCerts });
  const generated = path.join(path.dirname(path.resolve(input.haproxyConfig)), SELF_SIGNED_NAME);
  if (await exists(generated)) {
    return ok({
      sslCerts: generated,
      info: `no certificate at ${defaultPath}: using the self-signed one created earlier, ${generated}`,
    });
  }
  // The service makes this directory later; the certificate comes first, and a directory that
  // cannot be made is named as the service would name it.
  const made = ensureConfigDirectory(path.dirname(generated));
  if (!made.ok) return made;
  let pem: string;
  try {
    pem = await make();
  } catch (e) {
    return err(
      `no certificate at ${defaultPath} (the --ssl-certs default), and none could be created: ${(e as Error).message}. Pass --ssl-certs with your certificate`,
    );
  }
  try {
    // Private from its first byte (it holds the key), and whole or absent for a reader.
    const tmp = `${generated}.${process.pid}.tmp`;
    await fs.writeFile(tmp, pem, { mode: 0o600 });
    await fs.rename(tmp, generated);
  } catch (e) {
    return err(
      `no certificate at ${defaultPath} (the --ssl-certs default), and ${generated} cannot be written: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}. Pass --ssl-certs with your certificate`,
    );
  }
  return ok({
    sslCerts: generated,
    warning:
      `no certificate at ${defaultPath} (the --ssl-certs default): created a self-signed one (CN=*) at ${generated} ` +
      'so the HTTPS frontend can start; browsers will not trust it. Pass --ssl-certs with your certificate',
  });
}

/** The arguments of `openssl req -x509` for an unencrypted RSA 2048 self-signed certificate. */
export function selfSignedArgs(o: { days: number; subject: string; keyOut: string; certOut: string }): string[] {
  return [
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-days',
    String(o.days),
    '-subj',
    o.subject,
    '-keyout',
    o.keyOut,
    '-out',
    o.certOut,
  ];
}

/** `openssl req -x509` as docker/run runs it: RSA 2048, 10 years, CN=*. */
const opensslSelfSigned: MakeSelfSigned = async () => {
  const dir = await fs.mkdtemp(path.join(tmpdir(), 'mlb-cert-'));
  try {
    const key = path.join(dir, 'key.pem');
    const crt = path.join(dir, 'cert.pem');
    await new Promise<void>((resolve, reject) => {
      execFile(
        'openssl',
        selfSignedArgs({ days: 3650, subject: '/CN=*', keyOut: key, certOut: crt }),
        { timeout: 60_000 },
        (err, _out, stderr) => {
          if (!err) return resolve();
          const code = (err as NodeJS.ErrnoException).code;
          reject(
            new Error(
              code === 'ENOENT'
                ? 'openssl is not installed'
                : `openssl failed: ${String(stderr).trim().split('\n').pop() ?? err.message}`,
            ),
          );
        },
      );
    });
    return (await fs.readFile(crt, 'utf8')) + (await fs.readFile(key, 'utf8'));
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
};
