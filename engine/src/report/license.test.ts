import { describe, expect, it } from 'vitest';
import { normalizeSpdxExpression, spdxLicenseExpression } from './license.js';

describe('normalizeSpdxExpression', () => {
  it.each([
    ['MIT', 'MIT'],
    ['mit', 'MIT'],
    ['apache-2.0 or mit', 'Apache-2.0 OR MIT'],
    ['GPL-2.0-or-later WITH Classpath-exception-2.0', 'GPL-2.0-or-later WITH Classpath-exception-2.0'],
    ['(MIT OR Apache-2.0) AND BSD-3-Clause', '(MIT OR Apache-2.0) AND BSD-3-Clause'],
    ['((MIT))', '((MIT))'],
    // `+` on a listed id: the deprecated `GPL-2.0+` is itself on the list; `LGPL-2.1-only+` is id + operator
    ['GPL-2.0+', 'GPL-2.0+'],
    ['LGPL-2.1-only+', 'LGPL-2.1-only+'],
    ['LicenseRef-acme-proprietary', 'LicenseRef-acme-proprietary'],
    ['DocumentRef-spdx-tool-1.2:LicenseRef-MIT-Style-2', 'DocumentRef-spdx-tool-1.2:LicenseRef-MIT-Style-2'],
  ])('%s → %s', (input, expected) => {
    expect(normalizeSpdxExpression(input)).toBe(expected);
  });

  it.each([
    [''],
    ['   '],
    ['GPL-2+ with Bison exception'],
    ['MIT AND'],
    ['OR MIT'],
    ['(MIT'],
    ['MIT)'],
    ['MIT Apache-2.0'],
    ['MIT WITH'],
    ['MIT WITH Nonexistent-exception'],
    ['Public Domain'],
    ['BSD'],
    ['LicenseRef-'],
  ])('rejects %j', (input) => {
    expect(normalizeSpdxExpression(input)).toBeUndefined();
  });
});

describe('spdxLicenseExpression', () => {
  it.each([
    [undefined, undefined],
    [[], undefined],
    [['MIT'], 'MIT'],
    [['MIT', 'mit'], 'MIT'],
    [['LGPL-2.1-or-later', 'GPL-2.0-or-later'], 'LGPL-2.1-or-later AND GPL-2.0-or-later'],
    [['MIT OR Apache-2.0'], 'MIT OR Apache-2.0'],
    [['MIT OR Apache-2.0', 'BSD-2-Clause'], '(MIT OR Apache-2.0) AND BSD-2-Clause'],
    [['(MIT OR Apache-2.0)', 'Zlib'], '(MIT OR Apache-2.0) AND Zlib'],
    [['(MIT) OR (Apache-2.0)', 'Zlib'], '((MIT) OR (Apache-2.0)) AND Zlib'],
    [['GPL-3.0-or-later', 'GPL-2+ with Bison exception'], undefined],
  ] as const)('%j → %j', (input, expected) => {
    expect(spdxLicenseExpression(input)).toBe(expected);
  });
});
