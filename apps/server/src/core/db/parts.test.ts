import { describe, expect, it } from 'vitest';
import { inCompiledParts, inParts } from './parts.js';

const range = (n: number) => Array.from({ length: n }, (_, i) => i);

describe('parts of a multi-row statement', () => {
  it('inParts: up to 500 rows a part, in order', () => {
    expect(inParts(range(1201)).map((p) => p.length)).toEqual([500, 500, 201]);
    expect(inParts([])).toEqual([]);
  });

  it('inCompiledParts: powers of two up to 256, largest first, in order; nine sizes whatever the counts', () => {
    expect(inCompiledParts(range(300)).map((p) => p.length)).toEqual([256, 32, 8, 4]);
    expect(inCompiledParts(range(600)).map((p) => p.length)).toEqual([256, 256, 64, 16, 8]);
    expect(inCompiledParts(range(1)).map((p) => p.length)).toEqual([1]);
    expect(inCompiledParts([])).toEqual([]);
    const sizes = new Set<number>();
    for (let n = 1; n <= 1000; n++) {
      const parts = inCompiledParts(range(n));
      expect(parts.flat()).toEqual(range(n));
      for (const part of parts) sizes.add(part.length);
    }
    expect([...sizes].sort((a, b) => a - b)).toEqual([1, 2, 4, 8, 16, 32, 64, 128, 256]);
  });
});
