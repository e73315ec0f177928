/** The apps of `bench:scale`, named alike by its Marathon and by the bench that drives it. */
export const scaledAppId = (i: number): string => `/scale/app-${i}`;
export const vhostOf = (i: number): string => `s${i}.example.com`;
/** The HAProxy backend of a scaled app (its service port is 20000 + i). */
export const backendOf = (i: number): string => `scale_app-${i}_${20000 + i}`;
