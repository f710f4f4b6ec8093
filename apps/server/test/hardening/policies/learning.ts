import type { ModulePolicy } from '../access-policy.js';

/** The learning module's rows of the authorization matrix (see access-policy.ts). */
export const learningPolicy: ModulePolicy = {
  rules: {},
};
