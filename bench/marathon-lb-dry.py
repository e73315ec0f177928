"""marathon-lb's own figures for bench:dry: upstream marathon_lb.py renders an apps file the way
`marathon_lb.py --dry` does after its GET /v2/apps (get_apps + config, templates from the source
tree), with the same functions the compatibility corpus was made with.

python3 bench/marathon-lb-dry.py MARATHON_LB_SOURCE_DIR APPS_JSON [--runs N] [--group G ...]
    [--min-serv-port-ip-per-task N] [--max-serv-port-ip-per-task N]
Prints the config to stdout unless --runs is given; then prints the in-process render times
(ms, one per line, the first is cold) and nothing else. Run it under /usr/bin/time for wall and RSS.
Other flags are refused (exit 2): passed to our side only, they would compare different renders.
"""
import json
import sys
import time

src, apps_file = sys.argv[1], sys.argv[2]
rest = sys.argv[3:]
runs = 0
groups = []
# upstream's defaults, which its main() gives the IP-per-task port assigner (without them, such apps
# without a service port were never rendered).
port_range = {'--min-serv-port-ip-per-task': 10050, '--max-serv-port-ip-per-task': 10100}
i = 0
while i < len(rest):
    if rest[i] not in ('--runs', '--group', *port_range):
        print('marathon-lb-dry.py: %s is not passed to upstream here; only --group and the '
              'IP-per-task port range are' % rest[i], file=sys.stderr)
        sys.exit(2)
    if i + 1 >= len(rest):
        sys.exit('marathon-lb-dry.py: %s needs a value' % rest[i])
    if rest[i] == '--runs':
        runs = int(rest[i + 1])
    elif rest[i] == '--group':
        groups.append(rest[i + 1])
    else:
        port_range[rest[i]] = int(rest[i + 1])
    i += 2
groups = groups or ['external']
sys.argv = [sys.argv[0]]
sys.path.insert(0, src)
import marathon_lb  # noqa: E402
from config import ConfigTemplater  # noqa: E402

with open(apps_file) as f:
    raw = json.load(f)['apps']
# Marathon answers "container": null for apps without one; upstream's get_app_networking_mode reads
# app.get('container', {}).get(...) and fails on null, so such keys are dropped (same meaning).
for app in raw:
    if 'container' in app and app['container'] is None:
        del app['container']
templater = ConfigTemplater(directory=src + '/templates')


class Flags:
    """What get_apps asks of its Marathon object besides list(): the --strict-mode and -H flags."""
    def strict_mode(self):
        return False

    def health_check(self):
        return False


marathon_lb.SERVICE_PORT_ASSIGNER.set_ports(port_range['--min-serv-port-ip-per-task'],
                                           port_range['--max-serv-port-ip-per-task'])


def render():
    apps = marathon_lb.get_apps(Flags(), raw)
    return marathon_lb.config(apps, groups, True, None, templater, False, [], [], '/etc/haproxy/haproxy.cfg', False)


if runs == 0:
    print(render())
else:
    for _ in range(runs):
        t0 = time.perf_counter()
        render()
        print(round((time.perf_counter() - t0) * 1000, 2))
