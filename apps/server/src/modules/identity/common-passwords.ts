import { dictionary } from '@zxcvbn-ts/language-common';

/**
 * The common-password list of zxcvbn-ts (`@zxcvbn-ts/language-common`, `passwords-common`): about
 * 49,000 of the most frequent passwords in public breach corpora, kept by the zxcvbn-ts project.
 * Compared case-insensitively, so "Password123" counts as "password123".
 */
let list: Set<string> | undefined;

export function isCommonPassword(password: string): boolean {
  list ??= new Set((dictionary['passwords-common'] as string[]).map((p) => p.toLowerCase()));
  return list.has(password.toLowerCase());
}
