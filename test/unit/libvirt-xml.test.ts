import { describe, expect, it } from 'vitest';
import { METADATA_NS } from '../../lab/config/names.js';
import { isOurs, markFromMetadata, markFromXml } from '../../lab/libvirt/marks.js';
import { child, elements, parseXml, qualifiedName, serializeXml, textOf, XmlSyntaxError } from '../../lab/libvirt/xml.js';

describe('parseXml', () => {
  it('reads elements, attributes in both quote styles, text and entities', () => {
    const root = parseXml(`<?xml version="1.0"?>\n<!-- c --><a x='1' y="two &amp; &lt;3&gt;"><b>t &#65;&#x42; &apos;q&quot;</b><c/></a>`);
    expect(root.name).toBe('a');
    expect(root.attrs).toEqual({ x: '1', y: 'two & <3>' });
    expect(textOf(child(root, 'b'))).toBe(`t AB 'q"`);
    expect(elements(root).map((e) => e.name)).toEqual(['b', 'c']);
  });

  it('keeps CDATA as text', () => {
    expect(textOf(parseXml('<a><![CDATA[<not a tag> & raw]]></a>'))).toBe('<not a tag> & raw');
  });

  it.each([
    ['<a><b></a>', /unexpected closing tag/],
    ['<a></a><b/>', /second root/],
    ['<a x="1" x="2"/>', /duplicate attribute/],
    ['<a>&nbsp;</a>', /unknown entity/],
    ['<a>fish & chips</a>', /bare "&"/],
    ['<!DOCTYPE a [<!ENTITY e "x">]><a/>', /DOCTYPE/],
    ['<a', /unterminated tag/],
    ['<a><b>', /unclosed element <b>/],
    ['text', /text outside|no root/],
  ])('rejects %s', (text, why) => {
    expect(() => parseXml(text)).toThrow(XmlSyntaxError);
    expect(() => parseXml(text)).toThrow(why);
  });

  it('serializes back to an equivalent document, escaping values', () => {
    const src = `<interface type="network"><mac address="52:54:00:aa:bb:cc"/><x v="a&quot;b&lt;c"/>text &amp; more</interface>`;
    const once = serializeXml(parseXml(src));
    expect(parseXml(once)).toEqual(parseXml(src));
    expect(once).toContain('v="a&quot;b&lt;c"');
  });

  it('resolves namespace prefixes through ancestors', () => {
    const root = parseXml(`<d xmlns:p="urn:x"><metadata><p:lab/><q:lab xmlns:q="urn:y"/><lab/></metadata></d>`);
    const md = child(root, 'metadata')!;
    expect(elements(md).map((e) => qualifiedName(e, [root, md]))).toEqual([
      { local: 'lab', ns: 'urn:x' },
      { local: 'lab', ns: 'urn:y' },
      { local: 'lab', ns: undefined },
    ]);
  });
});

describe('ownership marks', () => {
  const doc = (ns: string, attrs: string, prefix = 'pvelab') =>
    `<network><name>n</name><metadata><other xmlns="urn:other" name="t1" role="network"/><${prefix}:lab xmlns:${prefix}="${ns}" ${attrs}/></metadata></network>`;

  it('reads the mark from a full document whatever the prefix', () => {
    expect(markFromXml(doc(METADATA_NS, 'name="t1" role="network"'))).toEqual({ lab: 't1', role: 'network' });
    expect(markFromXml(doc(METADATA_NS, 'name="t1" role="node" node="pve2"', 'z'))).toEqual({ lab: 't1', role: 'node', node: 'pve2' });
  });

  it('ignores a lookalike element in a foreign namespace, and documents without metadata', () => {
    expect(markFromXml(doc('https://example.com/other', 'name="t1" role="network"'))).toBeUndefined();
    expect(markFromXml('<network><name>pvelab-t1</name></network>')).toBeUndefined();
    expect(markFromXml('<network><metadata><lab name="t1" role="network"/></metadata></network>')).toBeUndefined();
  });

  it('rejects marks with a missing name or an unknown role', () => {
    expect(markFromXml(doc(METADATA_NS, 'role="network"'))).toBeUndefined();
    expect(markFromXml(doc(METADATA_NS, 'name="t1" role="router"'))).toBeUndefined();
  });

  it('reads virDomainGetMetadata output (element without namespace declaration)', () => {
    expect(markFromMetadata('<lab name="t1" role="node" node="pve1"/>')).toEqual({ lab: 't1', role: 'node', node: 'pve1' });
    expect(markFromMetadata('<pvelab:lab xmlns:pvelab="x" name="t1" role="node"/>')).toEqual({ lab: 't1', role: 'node' });
    expect(markFromMetadata(null)).toBeUndefined();
    expect(markFromMetadata('<lab name="t1"')).toBeUndefined();
  });

  it('isOurs compares lab and role', () => {
    const m = { lab: 't1', role: 'node' as const, node: 'pve1' };
    expect(isOurs(m, 't1')).toBe(true);
    expect(isOurs(m, 't1', 'node')).toBe(true);
    expect(isOurs(m, 't1', 'network')).toBe(false);
    expect(isOurs(m, 't2')).toBe(false);
    expect(isOurs(undefined, 't1')).toBe(false);
  });
});
