/**
 * Roles and what each may do, in one place. Routes declare a permission (`{ permission: 'user:manage' }`);
 * ownership rules ("the teacher who owns this course") live in the services that own the data.
 * A user may hold several roles; their permissions add up.
 */
export const ROLES = ['student', 'teacher', 'admin'] as const;
export type Role = (typeof ROLES)[number];

export const PERMISSIONS = {
  'profile:edit': 'Edit one\'s own profile.',
  'course:enroll': 'Enroll in courses and take their quizzes.',
  'community:post': 'Write posts, comments and messages.',
  'course:create': 'Create courses and manage the ones one owns.',
  'course:grade': 'Grade attempts in the courses one teaches.',
  'directory:manage': 'Import and export the directory.',
  'user:manage': 'List, change, disable, delete and export users; end their sessions.',
  'audit:read': 'Read the security audit log.',
  'course:manage-any': 'Manage every course, whoever owns it.',
  'jobs:manage': 'Inspect and retry background jobs.',
  'metrics:read': 'Read the Prometheus metrics.',
  'learning:statements': 'Read every learner\'s xAPI statements (to forward them to a learning record store).',
} as const;
export type Permission = keyof typeof PERMISSIONS;

const student: Permission[] = ['profile:edit', 'course:enroll', 'community:post'];
const teacher: Permission[] = [...student, 'course:create', 'course:grade'];
const admin: Permission[] = Object.keys(PERMISSIONS) as Permission[];

export const ROLE_PERMISSIONS: Record<Role, readonly Permission[]> = { student, teacher, admin };

export const isRole = (name: string): name is Role => (ROLES as readonly string[]).includes(name);

/** The union of the permissions of `roles`; unknown role names grant nothing. */
export function permissionsOf(roles: readonly string[]): Set<string> {
  const result = new Set<string>();
  for (const role of roles) if (isRole(role)) for (const p of ROLE_PERMISSIONS[role]) result.add(p);
  return result;
}
