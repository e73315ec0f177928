/**
 * marathon-lb's 53 named templates. `formatted` ones go through Python's str.format upstream, so
 * user overrides of them use `{placeholder}` syntax; the others are printed verbatim.
 * `label` says whether a per-app `HAPROXY_{n}_<NAME>` label can override it.
 */
export interface TemplateInfo {
  readonly name: string;
  readonly formatted: boolean;
  readonly label: boolean;
}

const GLOBAL_VERBATIM = [
  'HEAD',
  'HTTP_FRONTEND_HEAD',
  'HTTP_FRONTEND_APPID_HEAD',
  'HTTPS_GROUPED_FRONTEND_HEAD',
  'HTTP_BACKEND_ACL_ALLOW_DENY',
  'TCP_BACKEND_ACL_ALLOW_DENY',
];
const GLOBAL_FORMATTED = [
  'HTTPS_FRONTEND_HEAD',
  'HTTPS_GROUPED_VHOST_FRONTEND_HEAD',
  'HTTPS_GROUPED_VHOST_BACKEND_HEAD',
  'HTTPS_GROUPED_VHOST_FRONTEND_ACL',
];
const PER_APP_VERBATIM = ['BACKEND_HSTS_OPTIONS', 'BACKEND_HTTP_OPTIONS', 'BACKEND_STICKY_OPTIONS'];
const PER_APP_FORMATTED = [
  'USERLIST_HEAD',
  'FRONTEND_HEAD',
  'BACKEND_HEAD',
  'BACKEND_REDIRECT_HTTP_TO_HTTPS',
  'BACKEND_REDIRECT_HTTP_TO_HTTPS_WITH_PATH',
  'HTTP_FRONTEND_ACL',
  'MAP_HTTP_FRONTEND_ACL',
  'HTTP_FRONTEND_ACL_WITH_AUTH',
  'HTTP_FRONTEND_ACL_ONLY',
  'MAP_HTTP_FRONTEND_ACL_ONLY',
  'HTTP_FRONTEND_ROUTING_ONLY',
  'HTTP_FRONTEND_ROUTING_ONLY_WITH_AUTH',
  'HTTP_FRONTEND_ACL_WITH_PATH',
  'HTTP_FRONTEND_ACL_WITH_AUTH_AND_PATH',
  'HTTP_FRONTEND_ACL_ONLY_WITH_PATH',
  'HTTP_FRONTEND_ACL_ONLY_WITH_PATH_AND_AUTH',
  'HTTPS_FRONTEND_ACL_ONLY_WITH_PATH',
  'HTTP_FRONTEND_ROUTING_ONLY_WITH_PATH',
  'HTTP_FRONTEND_ROUTING_ONLY_WITH_PATH_AND_AUTH',
  'HTTP_FRONTEND_APPID_ACL',
  'MAP_HTTP_FRONTEND_APPID_ACL',
  'HTTPS_FRONTEND_ACL',
  'MAP_HTTPS_FRONTEND_ACL',
  'HTTPS_FRONTEND_ACL_WITH_AUTH',
  'HTTPS_FRONTEND_ACL_WITH_PATH',
  'HTTPS_FRONTEND_ACL_WITH_AUTH_AND_PATH',
  'HTTP_BACKEND_PROXYPASS_GLUE',
  'HTTP_BACKEND_REVPROXY_GLUE',
  'BACKEND_HTTP_HEALTHCHECK_OPTIONS',
  'BACKEND_TCP_HEALTHCHECK_OPTIONS',
  'BACKEND_SERVER_OPTIONS',
  'BACKEND_SERVER_HTTP_HEALTHCHECK_OPTIONS',
  'BACKEND_SERVER_TCP_HEALTHCHECK_OPTIONS',
  'FRONTEND_BACKEND_GLUE',
  'HTTP_BACKEND_NETWORK_ALLOWED_ACL',
  'TCP_BACKEND_NETWORK_ALLOWED_ACL',
];
/** Defined (and documented) upstream but never used in config generation. */
const UNUSED_FORMATTED = [
  'HTTPS_FRONTEND_ROUTING_ONLY_WITH_PATH_AND_AUTH',
  'HTTPS_FRONTEND_AUTH_ACL_ONLY',
  'HTTPS_FRONTEND_AUTH_REQUEST_ONLY',
];
/** A template whose label name is taken by a routing setting (HAPROXY_{n}_HTTP_BACKEND_REDIR is the redirect path). */
const SHADOWED_BY_SETTING = ['HTTP_BACKEND_REDIR'];

export const TEMPLATES: readonly TemplateInfo[] = [
  ...GLOBAL_VERBATIM.map((name) => ({ name, formatted: false, label: false })),
  ...GLOBAL_FORMATTED.map((name) => ({ name, formatted: true, label: false })),
  ...PER_APP_VERBATIM.map((name) => ({ name, formatted: false, label: true })),
  ...PER_APP_FORMATTED.map((name) => ({ name, formatted: true, label: true })),
  ...UNUSED_FORMATTED.map((name) => ({ name, formatted: true, label: false })),
  ...SHADOWED_BY_SETTING.map((name) => ({ name, formatted: true, label: false })),
];

/** Names accepted as `HAPROXY_{n}_<NAME>` template labels. */
export const TEMPLATE_LABEL_NAMES: ReadonlySet<string> = new Set(TEMPLATES.filter((t) => t.label).map((t) => t.name));
