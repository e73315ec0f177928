import { configListeners } from '../../src/haproxy/configBinds';

describe('configListeners: the TCP addresses and ports of bind lines', () => {
  test('host:port, [v6]:port, a family prefix, comma lists; the options kept', () => {
    const config = [
      'frontend a',
      '  bind *:80',
      '  bind :8080',
      '  bind 127.0.0.1:10001,127.0.0.2:10002 ssl crt /x.pem',
      '\tbind [::1]:443 v4v6',
      'listen b',
      '  bind ipv4@10.0.0.1:9090',
      '  # bind 1.2.3.4:5',
      '  bind unix@/run/h.sock',
      '  bind /run/h2.sock',
      '  bind abns@x',
      '  bind fd@3',
      '  bind 127.0.0.1:2000-2010',
      '  mode http',
      'backend c',
      '  bind 127.0.0.1:1',
    ].join('\n');
    expect(configListeners(config)).toEqual([
      { section: 'a', address: '*', port: 80, options: '' },
      { section: 'a', address: '', port: 8080, options: '' },
      { section: 'a', address: '127.0.0.1', port: 10001, options: 'ssl crt /x.pem' },
      { section: 'a', address: '127.0.0.2', port: 10002, options: 'ssl crt /x.pem' },
      { section: 'a', address: '[::1]', port: 443, options: 'v4v6' },
      { section: 'b', address: 'ipv4@10.0.0.1', port: 9090, options: '' },
    ]);
  });
});
