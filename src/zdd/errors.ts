/**
 * zdd.py's failures and their exit statuses (zdd_exceptions.py): scripts that call zdd branch on
 * them. 0 done, 1 declined at a prompt, 2 anything else (bad flags, a failed pre-kill hook, an
 * unexpected error), 3..9 as below.
 */
import { err, type Err, type Result } from '../result';

export type ZddErrorKind =
  | 'invalid-arg' // 3: flags that do not fit the state found (e.g. --complete-cur without a hybrid)
  | 'missing-field' // 4: the app JSON lacks id, labels or a HAPROXY_DEPLOYMENT_* label
  | 'marathon-lb-endpoint' // 5: marathon-lb's stats endpoint could not be read
  | 'marathon-endpoint' // 6: Marathon could not be read
  | 'app-create' // 7
  | 'app-delete' // 8
  | 'app-scale' // 9: scaling up the new app or killing old tasks failed
  | 'other'; // 2

export const EXIT_STATUS: Readonly<Record<ZddErrorKind, number>> = {
  'invalid-arg': 3,
  'missing-field': 4,
  'marathon-lb-endpoint': 5,
  'marathon-endpoint': 6,
  'app-create': 7,
  'app-delete': 8,
  'app-scale': 9,
  other: 2,
};

/** A failure as a value: what went wrong, in one line naming the app or URL concerned. */
export interface ZddFailure {
  readonly kind: ZddErrorKind;
  readonly message: string;
}

export const fail = (kind: ZddErrorKind, message: string): Err<ZddFailure> => err({ kind, message });

/**
 * How effects report a failure to the orchestrator: thrown by the io edge (src/zdd/io.ts) and turned
 * back into a ZddFailure value in one place (run.ts), so each step reads top to bottom.
 */
export class ZddError extends Error {
  constructor(readonly failure: ZddFailure) {
    super(failure.message);
    this.name = 'ZddError';
  }
}

export function unwrap<T>(r: Result<T, ZddFailure>): T {
  if (!r.ok) throw new ZddError(r.error);
  return r.value;
}
