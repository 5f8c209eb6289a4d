// ISO index page + SHA256SUMS parsing and release resolution (fixtures: test/fixtures/iso/).
import { describe, expect, it } from 'vitest';
import { mirrorBase, parseIndexHtml, parseSha256Sums, resolveIso } from '../../lab/iso/index.js';
import { LabError } from '../../lab/core/errors.js';
import { isoFixture, sharedFixture } from './iso-fixtures.js';

const MIRROR = 'https://enterprise.proxmox.com/iso/';
const html = isoFixture('index.html');
const sums = parseSha256Sums(isoFixture('SHA256SUMS'));
const observed = parseSha256Sums(sharedFixture('iso-sha256-observed.txt'));

describe('ISO index parsing', () => {
  it('finds exactly the Proxmox VE ISOs linked from the listing', () => {
    expect(parseIndexHtml(html).sort()).toEqual(['proxmox-ve_8.4-1.iso', 'proxmox-ve_9.0-1.iso', 'proxmox-ve_9.1-1.iso', 'proxmox-ve_9.2-1.iso']);
  });

  it('reads Apache-style tables, quoted/unquoted and absolute/percent-encoded links', () => {
    const apache = `<tr><td><a href='/iso/proxmox-ve_8.3-1.iso'>x</a></td></tr><a href=proxmox-ve_9.3-2.iso?x=1>y</a>
      <a href="proxmox%2Dve_8.2-2.iso">z</a><a href="proxmox-ve_9.1-1.iso.asc">sig</a><a href="proxmox-ve_latest.iso">no</a>`;
    expect(parseIndexHtml(apache).sort()).toEqual(['proxmox-ve_8.2-2.iso', 'proxmox-ve_8.3-1.iso', 'proxmox-ve_9.3-2.iso']);
  });

  it('parses SHA256SUMS: lower-cases digests, drops the binary marker, skips other lines', () => {
    expect(sums.size).toBe(5);
    expect(sums.get('proxmox-ve_9.2-1.iso')).toBe('4e88fe416df9b527624a175f24c9aa07c714d3332afb1ee3dbf3879573ef2c6c');
    const odd = parseSha256Sums(`${'AB'.repeat(32)} *proxmox-ve_9.1-1.iso\r\nnot a line\n${'c'.repeat(63)}  short.iso\n`);
    expect([...odd]).toEqual([['proxmox-ve_9.1-1.iso', 'ab'.repeat(32)]]);
  });

  it('the fixture digests are the observed ones', () => {
    for (const [file, digest] of observed) expect(sums.get(file)).toBe(digest);
  });
});

describe('release resolution', () => {
  const listing = parseIndexHtml(html);
  it('latest-9 and latest-8 pick the newest of their major', () => {
    const r9 = resolveIso('latest-9', sums, listing, MIRROR);
    expect(r9).toMatchObject({ file: 'proxmox-ve_9.2-1.iso', url: `${MIRROR}proxmox-ve_9.2-1.iso`, sha256: observed.get('proxmox-ve_9.2-1.iso') });
    expect(r9.release).toMatchObject({ id: '9.2-1', major: 9, minor: 2, isoRelease: 1 });
    expect(resolveIso('latest-8', sums, listing, MIRROR).file).toBe('proxmox-ve_8.4-1.iso');
  });

  it('orders numerically: 9.10 beats 9.9 and ISO release 2 beats 1', () => {
    const s = new Map([['proxmox-ve_9.9-1.iso', 'a'.repeat(64)], ['proxmox-ve_9.10-1.iso', 'b'.repeat(64)], ['proxmox-ve_9.10-2.iso', 'c'.repeat(64)]]);
    expect(resolveIso('latest-9', s, undefined, 'http://m/iso').url).toBe('http://m/iso/proxmox-ve_9.10-2.iso');
  });

  it('an exact release resolves to its own file', () => {
    expect(resolveIso('9.1-1', sums, listing, MIRROR).sha256).toBe(observed.get('proxmox-ve_9.1-1.iso'));
  });

  it('refuses a release missing from SHA256SUMS, naming the ones offered', () => {
    const err = (() => { try { resolveIso('9.3-1', sums, listing, MIRROR); } catch (e) { return e; } })() as LabError;
    expect(err).toBeInstanceOf(LabError);
    expect(err.message).toContain('proxmox-ve_9.3-1.iso is not in');
    expect(err.hint).toContain('9.2-1, 9.1-1, 9.0-1');
  });

  it('refuses a release in SHA256SUMS that the listing no longer has', () => {
    expect(() => resolveIso('9.0-1', sums, listing.filter((f) => !f.includes('9.0-1')), MIRROR)).toThrow(/in SHA256SUMS but no longer in the directory/);
    expect(resolveIso('9.0-1', sums, undefined, MIRROR).file).toBe('proxmox-ve_9.0-1.iso');
  });

  it('refuses latest-N when the mirror has no ISO of that major, and a non-release spec', () => {
    expect(() => resolveIso('latest-10', sums, listing, MIRROR)).toThrow(/no Proxmox VE 10.x ISO/);
    expect(() => resolveIso('newest', sums, listing, MIRROR)).toThrow(/is not a release/);
  });

  it('needs a trailing slash only once', () => {
    expect(mirrorBase('http://x/iso')).toBe('http://x/iso/');
    expect(mirrorBase('http://x/iso/')).toBe('http://x/iso/');
  });
});
