import type { ModulePolicy } from '../access-policy.js';

/** The notifications module's rows of the authorization matrix (see access-policy.ts). */
export const notificationsPolicy: ModulePolicy = {
  rules: {},
};
