import type * as Crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type * as Tls from 'node:tls';
import { readRegularFileBounded } from '../boundedRead';
import { lazyBuiltin } from '../lazyBuiltin';
import { err, ok, type Result } from '../result';
import type { FileChecks } from './bindOptions';

const PEM_CERT = '-----BEGIN CERTIFICATE-----';
const crypto = lazyBuiltin<typeof Crypto>('node:crypto');
const tls = lazyBuiltin<typeof Tls>('node:tls');

/**
 * FileChecks over the real file system, one verdict per path for the life of the object (the
 * controller builds one per snapshot's worth of work, or keeps one: a certificate fixed on disk
 * is seen at the next start). Effects live here so the model stays pure.
 */
export function fileChecks(
  read: (path: string) => string = (p) => readRegularFileBounded(p, MAX_PEM_BYTES).toString('utf8'),
  list: (path: string) => readonly string[] | null = listDirectory,
): FileChecks {
  const loaded = new Map<string, string | null>();
  const certs = new Map<string, string | null>();
  const pems = new Map<string, string | null>();
  const accounts = new Map<'user' | 'group', ReadonlySet<string> | null>();
  const tlsLists = new Map<string, string | null>();
  const load = (path: string): Result<string> => {
    if (!path.startsWith('/')) return err(`${path} is not an absolute path`);
    try {
      return ok(read(path));
    } catch (e) {
      return err(`cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
  };
  return {
    certificate(path) {
      let verdict = certs.get(path);
      if (verdict === undefined) certs.set(path, (verdict = certificatesVerdict(path, load, list)));
      return verdict;
    },
    knowsName(kind, name) {
      let names = accounts.get(kind);
      if (names === undefined)
        accounts.set(kind, (names = accountNames(kind === 'user' ? '/etc/passwd' : '/etc/group', read)));
      // A host whose account files cannot be read may know names another way (NSS): do not refuse then.
      return names === null || names.has(name);
    },
    threads: () => os.availableParallelism(),
    tlsList(keyword, list) {
      const key = `${keyword} ${list}`;
      let verdict = tlsLists.get(key);
      if (verdict === undefined) tlsLists.set(key, (verdict = tlsListVerdict(keyword, list)));
      return verdict;
    },
    loadedFile(file, asCrt) {
      const key = `${asCrt ? 'crt' : 'file'} ${file}`;
      let verdict = loaded.get(key);
      if (verdict === undefined) loaded.set(key, (verdict = loadedFileVerdict(file, asCrt)));
      return verdict;
    },
    crtListLines(path) {
      const text = load(path);
      if (!text.ok) return text.error;
      return text.value.split('\n').map((l) => l.trim());
    },
    pemFile(path) {
      let verdict = pems.get(path);
      if (verdict === undefined) {
        const text = load(path);
        verdict = !text.ok ? text.error : text.value.includes('-----BEGIN ') ? null : `${path} is not a PEM file`;
        pems.set(path, verdict);
      }
      return verdict;
    },
  };
}

/** Certificates, keys, CA and CRL files: a bound far above any (a system CA bundle is ~200 KB). */
const MAX_PEM_BYTES = 4 * 2 ** 20;
/** Files a template label names (maps, error files, certificates): larger ones held `haproxy -c` for seconds. */
const MAX_LOADED_FILE_BYTES = 64 * 2 ** 20;

/** Most files a `crt` directory may hold: HAProxy loads each when it loads the config. */
const MAX_CRT_DIRECTORY_ENTRIES = 10_000;
const UNDER_PROC = 'is under /proc or /sys (or a link there): HAProxy would read it when it loads the config';
const DEVICE =
  'is a device, a pipe or /dev (or a link to one): HAProxy would read it when it loads the config, and it may never end';
const TOO_LARGE = `is larger than ${MAX_LOADED_FILE_BYTES / 2 ** 20} MiB: HAProxy would read it when it loads the config`;
const SPECIAL = /^\/(proc|sys)(\/|$)/;
const isUnderDev = (p: string): boolean => p === '/dev' || p.startsWith('/dev/');

/**
 * Whether HAProxy can read `file` when it loads the config and be done (a template label names it;
 * `asCrt`: as `crt`, which loads every file of a directory): a regular file (not too large), a
 * directory outside /dev (as `crt`, not too many nor too large files in it), a socket (a log
 * target, a server's unix@ address) or /dev/null. A device or a pipe may never end (`crt /dev/zero`
 * in a template label held every `haproxy -c` until its timeout, and with it every app's change),
 * and /proc and /sys hold files that block or never end (refused by name, whether they exist or not).
 * A relative path is HAProxy's, from the directory the controller runs in. Another path that does
 * not exist is HAProxy's to report, at once (`log /dev/log` where no syslog listens is no error).
 */
export function loadedFileVerdict(file: string, asCrt: boolean): string | null {
  const full = path.resolve(file);
  if (SPECIAL.test(full)) return UNDER_PROC;
  let real: string;
  let stat: fs.Stats;
  try {
    real = fs.realpathSync(full);
    stat = fs.statSync(real);
  } catch {
    return null;
  }
  // The path a link leads to is not named: what a label names is its owner's to see, the rest is not.
  if (SPECIAL.test(real)) return UNDER_PROC;
  if (stat.isFile()) return stat.size > MAX_LOADED_FILE_BYTES ? TOO_LARGE : null;
  if (stat.isSocket() || real === '/dev/null') return null;
  if (stat.isDirectory() && !isUnderDev(real)) return asCrt ? crtDirectoryVerdict(real) : null;
  return DEVICE;
}

/** A `crt` directory: HAProxy loads every file in it (FIFOs and devices it refuses at once). */
function crtDirectoryVerdict(dir: string): string | null {
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return null;
  }
  if (names.length > MAX_CRT_DIRECTORY_ENTRIES)
    return `is a directory of more than ${MAX_CRT_DIRECTORY_ENTRIES} files: HAProxy would load each when it loads the config`;
  let total = 0;
  for (const name of names) {
    try {
      const s = fs.statSync(path.join(dir, name));
      if (s.isFile()) total += s.size;
    } catch {
      // gone, or a broken link: HAProxy skips or reports it
    }
    if (total > MAX_LOADED_FILE_BYTES)
      return `is a directory of more than ${MAX_LOADED_FILE_BYTES / 2 ** 20} MiB of files: HAProxy would load each when it loads the config`;
  }
  return null;
}

/** The entries of a directory, null when `path` is not one (then it is read as a file). */
function listDirectory(path: string): readonly string[] | null {
  try {
    return fs.readdirSync(path);
  } catch {
    return null;
  }
}

/** Files HAProxy 2.6 does not load as certificates from a `crt` directory: hidden, and a certificate's companions. */
const NOT_CERTIFICATE = /^\.|\.(key|ocsp|issuer|sctl)$/;

/**
 * `crt` takes a file or a directory: HAProxy then loads every file in it (but hidden ones and
 * companions), and refuses the config when one is no certificate or when there is none.
 */
function certificatesVerdict(
  path: string,
  load: (p: string) => Result<string>,
  list: (p: string) => readonly string[] | null,
): string | null {
  if (!path.startsWith('/')) return `${path} is not an absolute path`;
  const entries = list(path);
  if (entries === null) return certificateVerdict(path, load);
  const files = entries.filter((name) => !NOT_CERTIFICATE.test(name)).sort();
  if (files.length === 0) return `${path} is a directory without a certificate file`;
  // The entry at fault is not named: what a label names is an app owner's to see, the directory's
  // other file names are not.
  for (const name of files) {
    if (certificateVerdict(`${path.replace(/\/+$/, '')}/${name}`, load) !== null)
      return `${path} is a directory with a file that is not a certificate and its private key (HAProxy loads each file there)`;
  }
  return null;
}

/** What HAProxy's `crt` needs: a certificate and its private key, in the file or in `<file>.key`. */
function certificateVerdict(path: string, load: (p: string) => Result<string>): string | null {
  const loaded = load(path);
  if (!loaded.ok) return loaded.error;
  const text = loaded.value;
  if (!text.includes(PEM_CERT)) return `${path} holds no PEM certificate`;
  let cert: Crypto.X509Certificate;
  try {
    cert = new (crypto().X509Certificate)(text.slice(text.indexOf(PEM_CERT)));
  } catch (e) {
    return `${path}: cannot parse the certificate (${(e as Error).message})`;
  }
  const keyFile = /-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(text) ? ok(text) : load(`${path}.key`);
  if (!keyFile.ok) return `${path} holds no private key (nor does ${path}.key)`;
  const keyText = keyFile.value;
  try {
    const key = crypto().createPrivateKey(keyText.slice(keyText.search(/-----BEGIN [A-Z ]*PRIVATE KEY-----/)));
    if (!cert.checkPrivateKey(key)) return `${path}: the private key does not match the certificate`;
  } catch (e) {
    return `${path}: cannot parse the private key (${(e as Error).message})`;
  }
  return null;
}

/** The names in /etc/passwd or /etc/group (the first field of each line), null when it cannot be read. */
function accountNames(file: string, read: (path: string) => string): ReadonlySet<string> | null {
  try {
    return new Set(
      read(file)
        .split('\n')
        .map((line) => line.split(':')[0]!),
    );
  } catch {
    return null;
  }
}

/**
 * Whether OpenSSL (Node's, the same 3.0 series HAProxy links here) takes a bind's list: HAProxy
 * refuses the whole config when none of its entries matches. `ciphers` are TLS 1.2 and older:
 * TLS 1.3 names there match nothing for HAProxy (they belong in `ciphersuites`).
 */
function tlsListVerdict(keyword: 'ciphers' | 'ciphersuites' | 'curves', list: string): string | null {
  const entries = list.split(/[:, ]/).filter((e) => e !== '');
  try {
    if (keyword === 'curves') tls().createSecureContext({ ecdhCurve: list });
    else if (keyword === 'ciphersuites') {
      const known = new Set(tls().getCiphers());
      if (!entries.some((e) => known.has(e.toLowerCase()) && e.startsWith('TLS_')))
        return `ciphersuites ${JSON.stringify(list)}: no TLS 1.3 suite OpenSSL knows (TLS_AES_128_GCM_SHA256, …)`;
    } else {
      const older = entries.filter((e) => !e.startsWith('TLS_')).join(':');
      if (older === '') return `ciphers ${JSON.stringify(list)}: only TLS 1.3 suites, which belong in ciphersuites`;
      tls().createSecureContext({ ciphers: older });
    }
    return null;
  } catch (e) {
    return `${keyword} ${JSON.stringify(list)}: OpenSSL takes none of it (${(e as Error).message.replace(/^error:[0-9A-F]+:/, '')})`;
  }
}
