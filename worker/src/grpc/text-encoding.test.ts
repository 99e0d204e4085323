import { create, toBinary } from '@bufbuild/protobuf';
import { configureTextEncoding, getTextEncoding } from '@bufbuild/protobuf/wire';
import { InventoryChunkSchema } from '@vigil/proto/v1/worker_pb';
import { describe, expect, it } from 'vitest';
import { toProtoPackage } from '../mapping.js';
import { encodeUtf8, installFastTextEncoding } from './text-encoding.js';

/** A deterministic generator (xorshift32). */
function rng(seed: number) {
  let x = seed;
  return (n: number) => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) % n;
  };
}

// code units of every UTF-8 length, lone and paired surrogates, NUL and DEL
const UNITS = [
  0x00, 0x41, 0x7a, 0x7f, 0x80, 0xe9, 0x7ff, 0x800, 0x65e5, 0xfffd, 0xffff, 0xd83d, 0xde00, 0xd800, 0xdfff,
];

describe('encodeUtf8', () => {
  it("gives TextEncoder's bytes for 20,000 generated strings (ASCII, every UTF-8 length, lone surrogates, both sides of 64 units)", () => {
    const next = rng(0x9e3779b9);
    const te = new TextEncoder();
    const mismatches: string[] = [];
    for (let i = 0; i < 20_000; i++) {
      const length = next(4) === 0 ? 60 + next(10) : next(200);
      const ascii = next(3) !== 0;
      let text = '';
      for (let j = 0; j < length; j++)
        text += String.fromCharCode(ascii ? 0x20 + next(0x5f) : UNITS[next(UNITS.length)]!);
      if (Buffer.compare(Buffer.from(encodeUtf8(text)), Buffer.from(te.encode(text))) !== 0)
        mismatches.push(JSON.stringify(text));
    }
    expect(mismatches).toEqual([]);
  });

  it('makes toBinary produce the same bytes as with the default encoder', () => {
    const packages = [
      { name: '@babel/core', version: '7.29.13', ecosystem: 'npm', foundBy: 'lang/npm', licenses: ['MIT'] },
      {
        name: 'libc6',
        version: '2.36-9+deb12u4',
        ecosystem: 'deb',
        srcName: 'glibc',
        arch: 'amd64',
        foundBy: 'os/dpkg',
      },
      {
        name: 'Jérôme-😀-\ud800',
        version: '1.0',
        ecosystem: 'pypi',
        path: 'x'.repeat(300),
        foundBy: 'lang/python',
      },
    ];
    const chunk = create(InventoryChunkSchema, { seq: 3, packages: packages.map((p) => toProtoPackage(p)) });
    const original = getTextEncoding();
    const before = toBinary(InventoryChunkSchema, chunk);
    installFastTextEncoding();
    try {
      expect({
        same: Buffer.compare(Buffer.from(toBinary(InventoryChunkSchema, chunk)), Buffer.from(before)),
      }).toEqual({
        same: 0,
      });
    } finally {
      configureTextEncoding(original);
    }
  });
});
