// The TOML reader/writer used for answer files.
import { describe, expect, it } from 'vitest';
import { parseToml, TomlError } from '../../lab/iso/toml.js';
import { stringifyToml } from '../../lab/iso/toml-write.js';
import { upstreamAnswers } from './iso-fixtures.js';

describe('TOML reader', () => {
  it('reads every upstream answer fixture', () => {
    const all = upstreamAnswers();
    expect(all.size).toBe(8);
    for (const [name, text] of all) expect(() => parseToml(text), name).not.toThrow();
    const zfs = parseToml(all.get('zfs')!);
    expect(zfs['disk-setup']).toEqual({
      filesystem: 'zfs',
      zfs: { raid: 'raid1', ashift: 12n, checksum: 'on', compress: 'lz4', copies: 2n, hdsize: 80n, 'arc-max': 2048n },
      'disk-list': ['sda', 'sdb'],
    });
    const pin = parseToml(all.get('network-interface-pinning')!);
    expect(pin['network']).toEqual({
      source: 'from-dhcp',
      'interface-name-pinning': { enabled: true, mapping: { '24:8a:07:1e:05:bc': 'lan0', '24:8a:07:1e:05:bd': 'lan1', 'b4:2e:99:ac:ad:b4': 'mgmt' } },
    });
    expect(parseToml(all.get('fqdn-from-dhcp')!)['global']).toMatchObject({ fqdn: { source: 'from-dhcp' } });
    expect(parseToml(all.get('hashed-root-password')!)['global']).toMatchObject({ 'root-password-hashed': '$y$j9T$VgMv8lsz/TEvzesCZU3xD.$SK.h4QW51Jr/EmjuaTz5Bt4kYiX2Iezz6omzoqVEwj9' });
  });

  it('reads values: escapes, literal strings, numbers, multi-line arrays, inline tables', () => {
    const t = parseToml(`a = "x\\"y\\\\z\\u00e9\\n" # c\nb = 'C:\\path'\nc = [\n 1,\n 2, # two\n]\nd = 1.5e3\ne = -0.25\nf = { g = "h", i.j = false }\n"k.l" = 1_000\nm = 0x1F\n`);
    expect(t).toEqual({ a: 'x"y\\zé\n', b: 'C:\\path', c: [1n, 2n], d: 1500, e: -0.25, f: { g: 'h', i: { j: false } }, 'k.l': 1000n, m: 31n });
  });

  it('refuses malformed or unsupported input with the line number', () => {
    const bad: [string, RegExp][] = [
      ['a = 1\na = 2\n', /line 2: duplicate key "a"/],
      ['[x]\n[x]\n', /line 2: table \[x\] is defined twice/],
      ['a = bare\n', /not a TOML value/],
      ['a = "open\n', /unterminated string/],
      ['a = 1 b = 2\n', /unexpected "b"/],
      ['[[t]]\n', /arrays of tables/],
      ['a = """x"""\n', /multi-line strings/],
      ['a = 2024-01-01\n', /dates and times/],
      ['a = [1, 2\n', /expected "," or "\]"/],
      ['x.y.z = 1\n[x.y]\n', /defined twice/],
      ['x.y = 1\n[x.y]\n', /"y" is already a value/],
      ['a = "\\q"\n', /unknown escape/],
    ];
    for (const [text, re] of bad) {
      const err = (() => { try { parseToml(text); } catch (e) { return e; } })();
      expect(err, text).toBeInstanceOf(TomlError);
      expect((err as Error).message, text).toMatch(re);
    }
  });
});

describe('TOML writer', () => {
  it('writes sections with dotted sub-keys and round-trips', () => {
    const doc = {
      global: { keyboard: 'en-us', 'root-ssh-keys': ['ssh-ed25519 AAAA k'], 'reboot-on-error': false },
      network: { filter: { ID_NET_NAME_MAC: '*525400aabbcc' } },
      'disk-setup': { zfs: { raid: 'raid0', 'arc-max': 2048n, hdsize: 30 }, 'disk-list': ['vda'] },
    };
    const text = stringifyToml(doc);
    expect(text).toBe(
      '[global]\nkeyboard = "en-us"\nroot-ssh-keys = ["ssh-ed25519 AAAA k"]\nreboot-on-error = false\n\n' +
        '[network]\nfilter.ID_NET_NAME_MAC = "*525400aabbcc"\n\n' +
        '[disk-setup]\nzfs.raid = "raid0"\nzfs.arc-max = 2048\nzfs.hdsize = 30.0\ndisk-list = ["vda"]\n',
    );
    expect(parseToml(text)).toEqual(doc);
  });

  it('quotes keys and escapes strings so that they read back identically', () => {
    const doc = { t: { 'a b': 'q"\\\n\t\u0001é', 'mac:1': 'x' } };
    expect(parseToml(stringifyToml(doc))).toEqual(doc);
  });
});
