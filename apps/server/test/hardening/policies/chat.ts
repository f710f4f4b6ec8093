import type { ModulePolicy } from '../access-policy.js';

/** The chat module's rows of the authorization matrix (see access-policy.ts). */
export const chatPolicy: ModulePolicy = {
  rules: {},
};
