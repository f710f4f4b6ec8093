import { describe, expect, it } from 'vitest';
import { inCompiledParts, inParts } from './parts.js';

const range = (n: number) => Array.from({ length: n }, (_, i) => i);

describe('parts of a multi-row statement', () => {
  it('inParts: up to 500 rows a part, in order', () => {
    expect(inParts(range(1201)).map((p) => p.length)).toEqual([500, 500, 201]);
    expect(inParts([])).toEqual([]);
  });

  it('inCompiledParts: powers of two from 32 to 256, largest first, then what is left below 32 as one part, in order; 35 sizes whatever the counts', () => {
    expect(inCompiledParts(range(300)).map((p) => p.length)).toEqual([256, 32, 12]);
    expect(inCompiledParts(range(600)).map((p) => p.length)).toEqual([256, 256, 64, 24]);
    expect(inCompiledParts(range(31)).map((p) => p.length)).toEqual([31]);
    expect(inCompiledParts(range(32)).map((p) => p.length)).toEqual([32]);
    expect(inCompiledParts([])).toEqual([]);
    const sizes = new Set<number>();
    for (let n = 1; n <= 1000; n++) {
      const parts = inCompiledParts(range(n));
      expect(parts.flat()).toEqual(range(n));
      // A small write stays one statement.
      if (n < 32) expect(parts).toHaveLength(1);
      for (const part of parts) sizes.add(part.length);
    }
    expect([...sizes].sort((a, b) => a - b)).toEqual([...range(32).slice(1), 32, 64, 128, 256]);
  });
});
