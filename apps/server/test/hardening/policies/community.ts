import type { ModulePolicy } from '../access-policy.js';

/** The community module's rows of the authorization matrix (see access-policy.ts). */
export const communityPolicy: ModulePolicy = {
  rules: {},
};
