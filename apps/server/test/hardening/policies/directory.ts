import type { ModulePolicy } from '../access-policy.js';

/** The directory module's rows of the authorization matrix (see access-policy.ts). */
export const directoryPolicy: ModulePolicy = {
  rules: {},
};
