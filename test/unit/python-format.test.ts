import { compilePythonFormat, renderTemplate, type TemplateContext } from '../../src/render/format';

/**
 * Python's str.format beyond `{name}`, as marathon-lb's users write it in template labels. Each
 * expected text is what Python 3 printed for the same template and values (`t.format(**ctx)`).
 */
const PYTHON_PRINTED: readonly (readonly [string, TemplateContext, string])[] = [
  ['{servicePort:d}', { servicePort: 10805 }, '10805'],
  ['{servicePort:>8}', { servicePort: 80 }, '      80'],
  ['{servicePort:<8}|', { servicePort: 80 }, '80      |'],
  ['{servicePort:^9}|', { servicePort: 80 }, '   80    |'],
  ['{servicePort:*^9}|', { servicePort: 80 }, '***80****|'],
  ['{servicePort:08d}', { servicePort: -80 }, '-0000080'],
  ['{servicePort:+d}', { servicePort: 80 }, '+80'],
  ['{servicePort: d}', { servicePort: 80 }, ' 80'],
  ['{servicePort:x} {servicePort:#X} {servicePort:#o} {servicePort:b}', { servicePort: 255 }, 'ff 0XFF 0o377 11111111'],
  ['{servicePort:,} {servicePort:_} {servicePort:_x}', { servicePort: 1234567 }, '1,234,567 1_234_567 12_d687'],
  ['{servicePort:=+8}', { servicePort: 42 }, '+     42'],
  [
    '{servicePort:.2f} {servicePort:e} {servicePort:.3g} {servicePort:%}',
    { servicePort: 1234 },
    '1234.00 1.234000e+03 1.23e+03 123400.000000%',
  ],
  ['{port!s} {port!r} {port:}', { port: 31000 }, '31000 31000 31000'],
  ['{backend!r} {backend!s:>12}|', { backend: 'web_80' }, "'web_80'       web_80|"],
  ['{backend:.3} {backend:05}', { backend: 'web_80' }, 'web web_80'],
  ['{host!r} {host!a}', { host: "it's é\n" }, `"it's é\\n" "it's \\xe9\\n"`],
  ['{flag} {flag:d} {flag:>5} {flag!r}', { flag: true }, 'True 1     1 True'],
  ['{none} {none!r}', { none: null }, 'None None'],
  [
    '{healthCheck[path]} {healthCheck[timeoutSeconds]:d}s {healthCheck[portIndex]}',
    { healthCheck: { path: '/hc', timeoutSeconds: 20, portIndex: null } },
    '/hc 20s None',
  ],
  [
    '{healthCheck}',
    { healthCheck: { protocol: 'HTTP', path: '/hc', portIndex: 0, port: null } },
    "{'protocol': 'HTTP', 'path': '/hc', 'portIndex': 0, 'port': None}",
  ],
  ['{backend[0]}{backend[4]}', { backend: 'web_80' }, 'w8'],
  ['{ratio} {ratio:.1f} {small}', { ratio: 2.5, small: 0.00001 }, '2.5 2.5 1e-05'],
];

describe('Python format fields in templates (items, conversions, format specs)', () => {
  test.each(PYTHON_PRINTED)('%s prints what Python printed', (template, ctx, printed) => {
    expect(renderTemplate(compilePythonFormat('X', template), ctx)).toBe(printed);
  });

  test('what Python raises on is a fault naming the field, not a text', () => {
    const ctx = { backend: 'web_80', servicePort: 80, none: null, healthCheck: { path: '/' } };
    for (const [field, why] of [
      ['{backend:d}', /unknown format code 'd' for a string/],
      ['{servicePort:.2}', /precision is not allowed for an integer/],
      ['{servicePort:s}', /unknown format code 's' for an integer/],
      ['{none:>4}', /a None takes no format spec/],
      ['{healthCheck[nope]}', /\{healthCheck\[nope\]\}: \{'path': '\/'\} has no item \[nope\]/],
      ['{servicePort:,x}', /cannot use ',' with 'x'/],
      ['{backend:+}', /a string takes no sign/],
      ['{backend[9]}', /'web_80' has no item \[9\]/],
    ] as const) {
      const out = renderTemplate(compilePythonFormat('X', field), ctx);
      expect(out).toEqual({ invalid: expect.stringMatching(why) as unknown });
    }
  });

  test('fields Python takes but that print nothing useful, or cannot be bounded, are refused when compiled', () => {
    expect(() => compilePythonFormat('X', '{backend.upper}')).toThrow(
      /unsupported placeholder \{backend\.upper\} \(attribute access/,
    );
    expect(() => compilePythonFormat('X', '{port:{width}}')).toThrow(/nested fields/);
    expect(() => compilePythonFormat('X', '{port!x}')).toThrow(/!r, !s or !a/);
    expect(() => compilePythonFormat('X', '{port:>99999}')).toThrow(/at most 4096/);
    expect(() => compilePythonFormat('X', '{port:q}')).toThrow(/invalid format spec "q"/);
    expect(() => compilePythonFormat('X', '{0}')).toThrow(/use \{name\}/);
  });
});
