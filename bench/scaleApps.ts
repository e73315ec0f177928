/**
 * The apps of `bench:scale`, named alike by its Marathon and by the bench that drives it. The scaled
 * apps sort first, so their host ACLs come first in the shared HTTP frontend: HAProxy walks those
 * ACLs in order, and a request for the last of 10 000 vhosts costs it ~25 ms of CPU (the bench prints
 * it), which the polls for the scaled apps would otherwise pay and compete for. The bench times the
 * controller; what the routing costs in HAProxy is printed apart.
 */
export const SCALED_PREFIX = '/a-scale/';
export const scaledAppId = (i: number): string => `${SCALED_PREFIX}app-${i}`;
export const vhostOf = (i: number): string => `s${i}.example.com`;
/** The HAProxy backend of a scaled app (its service port is 20000 + i). */
export const backendOf = (i: number): string => `a-scale_app-${i}_${20000 + i}`;
