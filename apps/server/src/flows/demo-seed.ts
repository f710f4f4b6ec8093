/**
 * Flow `demo-seed` (`lyceum seed --demo`): a believable school for newcomers to look around in.
 *
 * It spans modules and writes only through their public services (identity, learning, community,
 * chat, directory), each call in that service's own transaction, as the users themselves would act.
 * Activity is spread over past weeks by moving the clock the app was built with (`DemoClock`),
 * which every service reads for its timestamps.
 *
 * Undo: none step by step — demo data belongs in a database of its own; to remove it, start from an
 * empty database (or restore the backup taken before). A run that stops half-way says so and is not
 * retried over the half-written data.
 */
import type { Clock } from '../core/clock.js';
import type { Principal } from '../core/http/access.js';
import type { ChatModule } from '../modules/chat/index.js';
import type { CommunityModule } from '../modules/community/index.js';
import type { DirectoryModule } from '../modules/directory/index.js';
import { permissionsOf, type IdentityModule, type Role } from '../modules/identity/index.js';
import type { LearningModule } from '../modules/learning/index.js';

export const DEMO_DOMAIN = 'demo.lyceum.example';
export const DEMO_ADMIN_EMAIL = `admin@${DEMO_DOMAIN}`;
/** The one password of every demo account (documented in docs/learning.md and printed at the end). */
export const DEMO_PASSWORD = 'lyceum demo 2026';

/** A clock the flow can move into the past; the app is built with it, so services stamp what they write with it. */
export interface DemoClock extends Clock {
  /** From now on `now()` reads `at`, then runs on from there. */
  travelTo(at: Date): void;
  /** Back to the real time. */
  reset(): void;
}

export function createDemoClock(base: Clock = { now: () => new Date() }): DemoClock {
  let offsetMs = 0;
  return {
    now: () => new Date(base.now().getTime() + offsetMs),
    travelTo: (at) => void (offsetMs = at.getTime() - base.now().getTime()),
    reset: () => void (offsetMs = 0),
  };
}

/** The modules the flow writes through: their public faces (index.ts) only. */
export interface DemoSeedDeps {
  identity: IdentityModule;
  learning: LearningModule;
  community: CommunityModule;
  chat: ChatModule;
  directory: DirectoryModule;
  clock: DemoClock;
}

export interface DemoSeedOptions {
  /** Default 3. */
  teachers?: number;
  /** Default 50. */
  students?: number;
  /** Default 8 (at most 8: one per demo subject). */
  courses?: number;
  /** How far back activity goes; default 6 weeks. */
  weeks?: number;
  /** Progress lines (the CLI writes them to stderr); silent by default. */
  log?: (line: string) => void;
}

export interface DemoAccount {
  id: string;
  email: string;
  displayName: string;
  role: Role;
}

export interface DemoSeedResult {
  status: 'created' | 'already-seeded';
  password: string;
  accounts: DemoAccount[];
  counts: { teachers: number; students: number; courses: number; lessons: number; quizzes: number; questions: number; enrollments: number; lessonsCompleted: number; attempts: number; posts: number; comments: number; follows: number; conversations: number; messages: number; profiles: number };
}

const DAY = 86_400_000;

/** A small seeded generator (mulberry32): the same demo every time. */
function random(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
  return {
    next,
    int: (min: number, max: number) => min + Math.floor(next() * (max - min + 1)),
    pick: <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)]!,
    chance: (p: number) => next() < p,
    sample: <T>(items: readonly T[], n: number): T[] => {
      const copy = [...items];
      for (let i = copy.length - 1; i > 0; i--) {
        const j = Math.floor(next() * (i + 1));
        [copy[i], copy[j]] = [copy[j]!, copy[i]!];
      }
      return copy.slice(0, n);
    },
  };
}

const FIRST = ['Ada', 'Bruno', 'Chiara', 'Dmitri', 'Elif', 'Farid', 'Grace', 'Hiro', 'Ines', 'Jonas', 'Kemi', 'Lucía', 'Mateo', 'Nadia', 'Omar', 'Priya', 'Quentin', 'Rosa', 'Sven', 'Tamar', 'Uma', 'Victor', 'Wen', 'Ximena', 'Yusuf', 'Zofia'];
const LAST = ['Okafor', 'Lindqvist', 'Moreau', 'Tanaka', 'Costa', 'Novak', 'Haddad', 'Schmidt', 'Ribeiro', 'Kowalski', 'Nguyen', 'Mensah', 'Rossi', 'Patel', 'Ferreira', 'Ivanova', 'Byrne'];
const TEACHERS = [
  { name: 'Marie Laurent', subject: 'mathematics' },
  { name: 'Kwame Asante', subject: 'programming' },
  { name: 'Sofia Marquez', subject: 'languages' },
  { name: 'Henrik Dahl', subject: 'science' },
];
const CITIES = [['Lisbon', 'Portugal'], ['Nairobi', 'Kenya'], ['Montréal', 'Canada'], ['Osaka', 'Japan'], ['Berlin', 'Germany'], ['Bogotá', 'Colombia'], ['Pune', 'India']] as const;
const PROGRAMS = ['Computer Science', 'Mathematics', 'Biology', 'Linguistics', 'Economics', 'Physics'];
const SKILLS = ['Python', 'Statistics', 'Writing', 'Spanish', 'Public speaking', 'SQL', 'Calculus', 'Research', 'Design', 'TypeScript'];

/** Eight subjects; each becomes a course with lessons and a quiz that uses every question type. */
const COURSES = [
  { title: 'Algebra from the Ground Up', level: 'beginner', tags: ['math', 'algebra'], lessons: ['Numbers and variables', 'Linear equations', 'Systems of equations', 'Quadratics', 'Functions'] },
  { title: 'Introduction to Programming with Python', level: 'beginner', tags: ['programming', 'python'], lessons: ['Your first program', 'Values and types', 'Conditions', 'Loops', 'Functions', 'Lists and dictionaries'] },
  { title: 'Spanish for Travellers', level: 'beginner', tags: ['languages', 'spanish'], lessons: ['Greetings', 'Numbers and prices', 'Asking the way', 'At the restaurant'] },
  { title: 'Cell Biology Essentials', level: 'intermediate', tags: ['science', 'biology'], lessons: ['The cell', 'Membranes', 'Energy in the cell', 'Cell division', 'DNA to protein'] },
  { title: 'Statistics for Everyone', level: 'intermediate', tags: ['math', 'statistics'], lessons: ['Describing data', 'Probability', 'Distributions', 'Sampling', 'Confidence intervals'] },
  { title: 'Web Development Basics', level: 'beginner', tags: ['programming', 'web'], lessons: ['HTML structure', 'Styling with CSS', 'JavaScript in the page', 'Forms', 'Publishing a site'] },
  { title: 'Academic Writing', level: 'all', tags: ['writing', 'languages'], lessons: ['Planning an essay', 'Paragraphs that work', 'Citing sources', 'Revising'] },
  { title: 'Classical Mechanics', level: 'advanced', tags: ['science', 'physics'], lessons: ['Kinematics', 'Newton’s laws', 'Work and energy', 'Momentum', 'Rotation', 'Oscillations'] },
] as const;

type QuestionInput = Parameters<LearningModule['quizzes']['createQuestion']>[2];
type Answer = Parameters<LearningModule['quizzes']['saveAnswers']>[2]['answers'][number]['response'];

/** One question of every type, with the right answer and a typical wrong one. */
const QUESTIONS: Array<{ input: QuestionInput; right: Answer; wrong: Answer }> = [
  {
    input: { type: 'single', prompt: 'Which of these is the best first step?', points: 1, explanation: 'Read the problem before anything else.', options: [{ id: 'a', text: 'Read the problem carefully' }, { id: 'b', text: 'Guess an answer' }, { id: 'c', text: 'Skip it' }], correctOptionIds: ['a'] },
    right: { optionId: 'a' },
    wrong: { optionId: 'b' },
  },
  {
    input: { type: 'multiple', prompt: 'Which habits help you learn? (choose all that apply)', points: 2, options: [{ id: 'a', text: 'Spaced practice' }, { id: 'b', text: 'Cramming the night before' }, { id: 'c', text: 'Testing yourself' }], correctOptionIds: ['a', 'c'] },
    right: { optionIds: ['a', 'c'] },
    wrong: { optionIds: ['a'] },
  },
  {
    input: { type: 'true_false', prompt: 'Mistakes are part of learning.', points: 1, correctBoolean: true },
    right: { value: true },
    wrong: { value: false },
  },
  {
    input: { type: 'short_text', prompt: 'Name the planet we live on.', points: 1, acceptedAnswers: ['Earth', 'the Earth'], match: 'case_insensitive' },
    right: { text: 'earth' },
    wrong: { text: 'Mars' },
  },
  {
    input: { type: 'numeric', prompt: 'What is 7 × 6?', points: 1, correctNumber: 42, tolerance: 0 },
    right: { value: 42 },
    wrong: { value: 36 },
  },
  {
    input: { type: 'ordering', prompt: 'Put the steps in order.', points: 2, options: [{ id: 'plan', text: 'Plan' }, { id: 'do', text: 'Do' }, { id: 'check', text: 'Check' }, { id: 'act', text: 'Act' }] },
    right: { order: ['plan', 'do', 'check', 'act'] },
    wrong: { order: ['do', 'plan', 'check', 'act'] },
  },
  {
    input: { type: 'matching', prompt: 'Match each word with its meaning.', points: 2, pairs: [{ left: { id: 'l1', text: 'Hypothesis' }, right: { id: 'r1', text: 'A testable guess' } }, { left: { id: 'l2', text: 'Evidence' }, right: { id: 'r2', text: 'What the data show' } }, { left: { id: 'l3', text: 'Conclusion' }, right: { id: 'r3', text: 'What follows from the evidence' } }] },
    right: { matches: [{ leftId: 'l1', rightId: 'r1' }, { leftId: 'l2', rightId: 'r2' }, { leftId: 'l3', rightId: 'r3' }] },
    wrong: { matches: [{ leftId: 'l1', rightId: 'r2' }, { leftId: 'l2', rightId: 'r1' }, { leftId: 'l3', rightId: 'r3' }] },
  },
  {
    input: { type: 'free_text', prompt: 'In two or three sentences: what did you find hardest in this course so far, and why?', points: 3 },
    right: { text: 'Keeping a regular schedule was hardest; short daily sessions helped more than long ones.' },
    wrong: { text: 'Not sure yet.' },
  },
];

const principalOf = (userId: string, role: Role): Principal => ({ kind: 'user', userId, roles: [role], permissions: permissionsOf([role]) });

/**
 * Creates the demo school, or does nothing when the demo administrator exists already.
 * Throws when another run stopped half-way (demo teachers exist without the finished marker).
 */
export async function seedDemo(deps: DemoSeedDeps, options: DemoSeedOptions = {}): Promise<DemoSeedResult> {
  const { identity, learning, community, chat, directory, clock } = deps;
  const log = options.log ?? (() => undefined);
  const teacherCount = Math.min(Math.max(options.teachers ?? 3, 1), TEACHERS.length);
  const studentCount = Math.max(options.students ?? 50, 2);
  const courseCount = Math.min(Math.max(options.courses ?? 8, 1), COURSES.length);
  const weeks = Math.max(options.weeks ?? 6, 1);
  const rnd = random(20261201);
  const counts: DemoSeedResult['counts'] = { teachers: 0, students: 0, courses: 0, lessons: 0, quizzes: 0, questions: 0, enrollments: 0, lessonsCompleted: 0, attempts: 0, posts: 0, comments: 0, follows: 0, conversations: 0, messages: 0, profiles: 0 };

  const existing = await identity.admin.listUsers({ q: `@${DEMO_DOMAIN}`, limit: 100 });
  const accountsFrom = (items: typeof existing.items): DemoAccount[] =>
    items.map((u) => ({ id: u.id, email: u.email, displayName: u.displayName, role: (u.roles.includes('admin') ? 'admin' : u.roles.includes('teacher') ? 'teacher' : 'student') as Role }));
  if (existing.items.some((u) => u.email === DEMO_ADMIN_EMAIL && u.roles.includes('admin'))) {
    const rank = { admin: 0, teacher: 1, student: 2 } as const;
    const accounts = accountsFrom(existing.items)
      .filter((a) => a.role !== 'student' || a.email.startsWith('student01@'))
      .sort((a, b) => rank[a.role] - rank[b.role] || a.email.localeCompare(b.email));
    return { status: 'already-seeded', password: DEMO_PASSWORD, accounts, counts };
  }
  if (existing.items.length) {
    throw new Error(`Demo accounts (@${DEMO_DOMAIN}) exist but the demo was not finished: an earlier run stopped half-way. Start from an empty database and run "lyceum seed --demo" again.`);
  }

  const realNow = clock.now().getTime();
  const start = realNow - weeks * 7 * DAY;
  /** Moves the clock to `at` (never into the future) with a random time of day. */
  const at = (t: number) => clock.travelTo(new Date(Math.min(t + rnd.int(8, 20) * 3_600_000 + rnd.int(0, 59) * 60_000, realNow - 60_000)));
  const accounts: DemoAccount[] = [];

  try {
    // ── people ───────────────────────────────────────────────────────────
    at(start - 14 * DAY);
    // Teachers and students are created as verified accounts with their role, as `lyceum create-admin`
    // creates administrators. The demo admin is created last: it is the "finished" marker.
    const createAs = async (email: string, displayName: string, role: Role) => {
      const user = await identity.admin.createAccount({ email, password: DEMO_PASSWORD, displayName }, [role], 'seed --demo');
      accounts.push({ id: user.id, email, displayName, role });
      return { id: user.id, name: displayName, principal: principalOf(user.id, role) };
    };
    const teachers = [];
    for (let i = 0; i < teacherCount; i++) {
      const t = TEACHERS[i]!;
      teachers.push(await createAs(`teacher${i + 1}@${DEMO_DOMAIN}`, t.name, 'teacher'));
      counts.teachers++;
    }
    const students = [];
    for (let i = 0; i < studentCount; i++) {
      const name = `${FIRST[i % FIRST.length]} ${LAST[(i * 7) % LAST.length]}`;
      students.push(await createAs(`student${String(i + 1).padStart(2, '0')}@${DEMO_DOMAIN}`, name, 'student'));
      counts.students++;
    }
    log(`${teachers.length} teachers and ${students.length} students`);

    // ── directory profiles (students' own) ──────────────────────────────
    for (const [i, s] of students.entries()) {
      at(start - 10 * DAY + rnd.int(0, 9) * DAY);
      const [city, country] = rnd.pick(CITIES);
      await directory.service.create(s.principal, {
        name: s.name,
        graduationYear: 2026 + rnd.int(0, 3),
        program: rnd.pick(PROGRAMS),
        city,
        country,
        skills: rnd.sample(SKILLS, rnd.int(1, 4)),
        bio: i % 3 === 0 ? `Learning something new every week. Ask me about ${rnd.pick(SKILLS).toLowerCase()}.` : null,
      });
      counts.profiles++;
    }

    // ── courses, lessons, quizzes ───────────────────────────────────────
    const courses: Array<{ id: string; title: string; teacher: (typeof teachers)[number]; lessonIds: string[]; quizIds: string[] }> = [];
    for (let c = 0; c < courseCount; c++) {
      const spec = COURSES[c]!;
      const teacher = teachers[c % teachers.length]!;
      at(start - 7 * DAY + c * DAY);
      const coTeacher = teachers.length > 1 && c % 3 === 0 ? teachers[(c + 1) % teachers.length]! : null;
      const course = await learning.courses.create(teacher.principal, {
        title: spec.title,
        summary: `${spec.title}: a ${spec.level === 'all' ? 'course for every level' : `${spec.level} course`} with short lessons and a quiz.`,
        description: `# ${spec.title}\n\nWelcome! Work through the lessons in order, then take the quiz. Ask questions in the course channel.\n`,
        level: spec.level,
        tags: [...spec.tags],
        language: 'en',
        status: 'published',
        visibility: 'public',
        ...(coTeacher ? { coTeacherIds: [coTeacher.id] } : {}),
      });
      counts.courses++;
      const lessonIds: string[] = [];
      for (const [l, title] of spec.lessons.entries()) {
        const lesson = await learning.courses.createLesson(teacher.principal, course.id, {
          title,
          content: `## ${title}\n\nRead the notes, try the examples, and write down one question you still have.\n`,
          minutes: 10 + l * 5,
          status: 'published',
          ...(l > 0 ? { prerequisiteLessonIds: [lessonIds[l - 1]!] } : {}),
        });
        lessonIds.push(lesson.id);
        counts.lessons++;
      }
      const quiz = await learning.quizzes.createQuiz(teacher.principal, course.id, {
        title: `${spec.title}: check your understanding`,
        description: 'Eight questions, one of each kind. The free-text answer is graded by your teacher.',
        passingScore: 60,
        maxAttempts: 3,
        feedback: 'explanations',
        shuffleOptions: true,
        required: true,
      });
      for (const q of QUESTIONS) {
        await learning.quizzes.createQuestion(teacher.principal, quiz.id, q.input);
        counts.questions++;
      }
      await learning.quizzes.updateQuiz(teacher.principal, quiz.id, undefined, { status: 'published' });
      counts.quizzes++;
      courses.push({ id: course.id, title: course.title, teacher, lessonIds, quizIds: [quiz.id] });
    }
    log(`${courses.length} courses with ${counts.lessons} lessons and ${counts.quizzes} quizzes`);

    // ── enrollments, lessons completed, attempts: spread over the weeks ──
    const span = weeks * 7 * DAY;
    const enrolled = new Map<string, string[]>(); // course id → student ids
    for (const s of students) {
      const mine = rnd.sample(courses, Math.min(courses.length, rnd.int(1, 3)));
      for (const course of mine) {
        let t = start + Math.floor(rnd.next() * span * 0.7);
        at(t);
        await learning.enrollments.enroll(s.principal, course.id, {});
        counts.enrollments++;
        enrolled.set(course.id, [...(enrolled.get(course.id) ?? []), s.id]);
        const diligence = rnd.next();
        const lessonsDone = Math.round(diligence * course.lessonIds.length);
        for (const lessonId of course.lessonIds.slice(0, lessonsDone)) {
          t += rnd.int(1, 4) * DAY;
          if (t >= realNow) break;
          at(t);
          await learning.progress.completeLesson(s.principal, lessonId);
          counts.lessonsCompleted++;
        }
        if (lessonsDone * 2 >= course.lessonIds.length && t + DAY < realNow) {
          for (const quizId of course.quizIds) {
            const tries = diligence > 0.85 ? 1 : rnd.int(1, 2);
            for (let n = 0; n < tries; n++) {
              t += rnd.int(1, 3) * DAY;
              if (t >= realNow) break;
              at(t);
              const attempt = await learning.quizzes.start(s.principal, quizId);
              // Later tries go better: a student learns from the feedback.
              const skill = Math.min(0.95, diligence * 0.6 + 0.3 + n * 0.25);
              const answers = attempt.questions.map((q) => {
                const spec = QUESTIONS.find((x) => x.input.type === q.type)!;
                return { questionId: q.id, response: rnd.chance(skill) ? spec.right : spec.wrong };
              });
              await learning.quizzes.saveAnswers(s.principal, attempt.id, { answers });
              const submitted = await learning.quizzes.submit(s.principal, attempt.id);
              counts.attempts++;
              // The teacher grades most free-text answers a day or two later; a few wait in the queue.
              const freeText = attempt.questions.find((q) => q.type === 'free_text');
              if (submitted.status === 'submitted' && freeText && rnd.chance(0.8) && t + 2 * DAY < realNow) {
                at(t + rnd.int(1, 2) * DAY);
                await learning.quizzes.grade(course.teacher.principal, attempt.id, { grades: [{ questionId: freeText.id, points: rnd.int(1, 3), comment: rnd.pick(['Good reflection.', 'Clear and honest; keep going.', 'Try to say why next time.']) }] });
              }
            }
          }
        }
      }
    }
    log(`${counts.enrollments} enrollments, ${counts.lessonsCompleted} lessons completed, ${counts.attempts} quiz attempts`);

    // ── community: follows, posts, comments ─────────────────────────────
    for (const s of students) {
      for (const other of rnd.sample([...students.filter((x) => x.id !== s.id), ...teachers], rnd.int(1, 4))) {
        at(start + Math.floor(rnd.next() * span));
        await community.service.follow(s.principal, other.id);
        counts.follows++;
      }
    }
    const POSTS = ['Finished my first lesson today. Small steps!', 'Does anyone want to form a study group for the quiz?', 'Tip: a 20-minute session every day beats one long one on Sunday.', 'Found a great video that explains this week’s topic.', 'Halfway through the course, and it is starting to click.', 'What are you all learning this month?'];
    const COMMENTS = ['Count me in!', 'Thanks for sharing.', 'Same here, keep going!', 'This helped me a lot.', 'Great idea.'];
    const authors = [...teachers, ...rnd.sample(students, Math.min(students.length, 15))];
    for (const author of authors) {
      const t0 = start + Math.floor(rnd.next() * span * 0.9);
      at(t0);
      const taught = courses.filter((c) => c.teacher.id === author.id);
      const post = await community.service.createPost(
        author.principal,
        taught.length && rnd.chance(0.7)
          ? { body: `Welcome to ${taught[0]!.title}! Introduce yourself below and tell us what you hope to learn.`, visibility: 'course', courseId: taught[0]!.id }
          : { body: rnd.pick(POSTS), visibility: 'public' },
      );
      counts.posts++;
      const commenters = post.visibility === 'course' ? students.filter((s) => (enrolled.get(taught[0]!.id) ?? []).includes(s.id)) : students;
      for (const [k, commenter] of rnd.sample(commenters.filter((x) => x.id !== author.id), rnd.int(0, 3)).entries()) {
        at(t0 + (k + 1) * 3_600_000);
        await community.service.createComment(commenter.principal, post.id, { body: rnd.pick(COMMENTS) });
        counts.comments++;
      }
    }
    log(`${counts.posts} posts, ${counts.comments} comments, ${counts.follows} follows`);

    // ── chat: a course channel, a study group, a few direct conversations ──
    const say = async (who: { principal: Principal }, conversationId: string, body: string, t: number) => {
      at(t);
      await chat.service.send(who.principal, conversationId, { body });
      counts.messages++;
    };
    const first = courses[0]!;
    const channelStudents = students.filter((s) => (enrolled.get(first.id) ?? []).includes(s.id));
    if (channelStudents.length) {
      const t = start + span / 2;
      at(t);
      const { conversation } = await chat.service.createConversation(first.teacher.principal, { kind: 'course', courseId: first.id });
      counts.conversations++;
      await say(first.teacher, conversation.id, `Welcome to the ${first.title} channel! Questions about the lessons go here.`, t);
      for (const [k, s] of channelStudents.slice(0, 4).entries()) await say(s, conversation.id, rnd.pick(['Hello everyone!', 'Is the quiz open-book?', 'Lesson 2 was great.', 'Thanks for the welcome!']), t + (k + 1) * 3_600_000);
    }
    const group = students.slice(0, Math.min(4, students.length));
    {
      const t = start + span * 0.6;
      at(t);
      const { conversation } = await chat.service.createConversation(group[0]!.principal, { kind: 'group', title: 'Study group', memberIds: group.slice(1).map((s) => s.id) });
      counts.conversations++;
      const lines = ['Shall we meet on Thursday to revise?', 'Thursday works for me.', 'I will bring my notes on the last lesson.', 'See you then!'];
      for (const [k, line] of lines.entries()) await say(group[k % group.length]!, conversation.id, line, t + k * 1_800_000);
    }
    for (let k = 0; k < Math.min(3, students.length); k++) {
      const s = students[students.length - 1 - k]!;
      const teacher = teachers[k % teachers.length]!;
      const t = start + span * (0.7 + k * 0.05);
      at(t);
      const { conversation } = await chat.service.createConversation(s.principal, { kind: 'direct', userId: teacher.id });
      counts.conversations++;
      await say(s, conversation.id, 'Hello! Could you explain the last question of the quiz again?', t);
      await say(teacher, conversation.id, 'Of course: look at the explanation shown after you submit, then tell me which step is unclear.', t + 2 * 3_600_000);
      await say(s, conversation.id, 'Got it now, thank you!', t + 3 * 3_600_000);
    }
    log(`${counts.conversations} conversations with ${counts.messages} messages`);

    // ── the marker: the demo administrator, created last ─────────────────
    clock.reset();
    const admin = await identity.admin.createAdmin({ email: DEMO_ADMIN_EMAIL, password: DEMO_PASSWORD, displayName: 'Demo Administrator' });
    accounts.unshift({ id: admin.id, email: DEMO_ADMIN_EMAIL, displayName: 'Demo Administrator', role: 'admin' });
    return { status: 'created', password: DEMO_PASSWORD, accounts, counts };
  } finally {
    clock.reset();
  }
}

/** The lines `lyceum seed --demo` prints at the end: the accounts to sign in with. */
export function describeDemoAccounts(result: DemoSeedResult): string {
  const staff = result.accounts.filter((a) => a.role !== 'student');
  const students = result.accounts.filter((a) => a.role === 'student');
  const lines = [result.status === 'already-seeded' ? 'Demo data is already seeded; nothing was added.' : 'Demo data created.', '', 'Demo accounts (all with the password below):'];
  for (const a of staff) lines.push(`  ${a.role.padEnd(8)} ${a.email.padEnd(36)} ${a.displayName}`);
  if (students.length) {
    const firstStudent = students[0]!;
    lines.push(`  student  ${firstStudent.email.padEnd(36)} ${firstStudent.displayName}${result.status === 'created' && students.length > 1 ? ` (and ${students.length - 1} more: student02 … student${String(students.length).padStart(2, '0')}@${DEMO_DOMAIN})` : ''}`);
  }
  lines.push('', `Password: ${result.password}`, '');
  return lines.join('\n');
}
