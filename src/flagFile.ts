import { NotRegularFileError, readRegularFileBounded, TooLargeError } from './boundedRead';
import { err, ok, type Result } from './result';
import { fileErrorText } from './fileErrorText';

/** Credential and CA files are small: a bound far above any, far below what would hurt. */
const MAX_FLAG_FILE_BYTES = 1 << 20;

/**
 * The text of a file an operator's flag names (`--marathon-ca-cert`, `--marathon-auth-credential-file`),
 * or one message naming the flag. Only a regular file, read with a bound: `/dev/zero` there crashed
 * the command with std::bad_alloc, and a FIFO held it.
 */
export function readFlagFile(flag: string, path: string): Result<string> {
  try {
    return ok(readRegularFileBounded(path, MAX_FLAG_FILE_BYTES).toString('utf8'));
  } catch (e) {
    if (e instanceof NotRegularFileError || e instanceof TooLargeError) return err(`${flag} ${path}: ${e.message}`);
    return err(`${flag} ${path}: ${fileErrorText(e)}`);
  }
}

/**
 * `--marathon-ca-cert`: a file with at least one PEM certificate. An empty one, or a key alone, was
 * taken, and every fetch then failed with "give the CA with --marathon-ca-cert", which had been given.
 */
export function readCaCertFlag(path: string): Result<string> {
  const text = readFlagFile('--marathon-ca-cert', path);
  if (text.ok && !text.value.includes('-----BEGIN CERTIFICATE-----'))
    return err(`--marathon-ca-cert ${path}: holds no PEM certificate (-----BEGIN CERTIFICATE-----)`);
  return text;
}
