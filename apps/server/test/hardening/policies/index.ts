/** Every module's rows of the authorization matrix, in the order their setups run (a later one may use an earlier one's ids). */
import type { ModulePolicy } from '../access-policy.js';
import { learningPolicy } from './learning.js';
import { chatPolicy } from './chat.js';
import { communityPolicy } from './community.js';
import { directoryPolicy } from './directory.js';
import { notificationsPolicy } from './notifications.js';

export const MODULE_POLICIES: ModulePolicy[] = [learningPolicy, chatPolicy, communityPolicy, directoryPolicy, notificationsPolicy];
