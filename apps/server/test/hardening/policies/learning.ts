import type { ModulePolicy } from '../access-policy.js';

const owners = ['teacherOwner', 'admin'] as const;
const teachers = ['teacherOwner', 'teacherOther', 'admin'] as const;
const signedIn = ['studentA', 'studentB', 'teacherOwner', 'teacherOther', 'admin'] as const;
const SINGLE = { type: 'single', prompt: '2+2?', options: [{ id: 'a', text: '3' }, { id: 'b', text: '4' }], correctOptionIds: ['b'] };

/**
 * The learning module's rows of the authorization matrix (see access-policy.ts).
 * Fixtures: `course` (teacherOwner's, published, public, studentA enrolled) with `lesson`;
 * `privateCourse` (teacherOwner's, studentB's request pending); `adminCourse` (admin's, to delete)
 * and `adminLesson` (in another admin course): deletions that only one actor may make.
 * Quizzes: `quiz` (published, one `question`) in `quizCourse` (teacherOwner's, only studentA enrolled),
 * studentA's open `attempt`; `adminQuiz` and `adminQuestion` (admin's) to delete; `quizLesson` (in
 * quizCourse) to complete; `certificate`: studentA's, for a course of one lesson.
 * Invitations: in `inviteCourse` (teacherOwner's, private), studentA's by id (to accept) and by email
 * (to decline), studentB's (to revoke).
 */
export const learningPolicy: ModulePolicy = {
  async setup({ call, users }) {
    const course = await call('teacherOwner', 'POST', '/courses', { title: 'Matrix algebra', status: 'published', visibility: 'public' });
    const lesson = await call('teacherOwner', 'POST', `/courses/${course.id}/lessons`, { title: 'First lesson', status: 'published' });
    await call('studentA', 'POST', `/courses/${course.id}/enrollments`, {});
    const privateCourse = await call('teacherOwner', 'POST', '/courses', { title: 'Matrix seminar', status: 'published', visibility: 'private' });
    await call('studentB', 'POST', `/courses/${privateCourse.id}/enrollments`, {});
    const adminCourse = await call('admin', 'POST', '/courses', { title: 'Admin course to delete', status: 'published' });
    const adminLessonCourse = await call('admin', 'POST', '/courses', { title: 'Admin lessons', status: 'published' });
    const adminLesson = await call('admin', 'POST', `/courses/${adminLessonCourse.id}/lessons`, { title: 'To delete', status: 'published' });
    // Quizzes live in a course of their own, so that enrollments made by other rows do not change who may take them.
    const quizCourse = await call('teacherOwner', 'POST', '/courses', { title: 'Matrix quizzes', status: 'published' });
    await call('studentA', 'POST', `/courses/${quizCourse.id}/enrollments`, {});
    const quiz = await call('teacherOwner', 'POST', `/courses/${quizCourse.id}/quizzes`, { title: 'Matrix quiz', status: 'published' });
    const question = await call('teacherOwner', 'POST', `/quizzes/${quiz.id}/questions`, SINGLE);
    const attempt = await call('studentA', 'POST', `/quizzes/${quiz.id}/attempts`);
    const adminQuiz = await call('admin', 'POST', `/courses/${adminLessonCourse.id}/quizzes`, { title: 'Admin quiz to delete', status: 'published' });
    const adminQuiz2 = await call('admin', 'POST', `/courses/${adminLessonCourse.id}/quizzes`, { title: 'Admin quiz', status: 'published' });
    const adminQuestion = await call('admin', 'POST', `/quizzes/${adminQuiz2.id}/questions`, SINGLE);
    const quizLesson = await call('teacherOwner', 'POST', `/courses/${quizCourse.id}/lessons`, { title: 'Quiz course lesson', status: 'published', required: false });
    const certCourse = await call('teacherOwner', 'POST', '/courses', { title: 'Matrix certificate', status: 'published' });
    const certLesson = await call('teacherOwner', 'POST', `/courses/${certCourse.id}/lessons`, { title: 'Only lesson', status: 'published' });
    await call('studentA', 'POST', `/courses/${certCourse.id}/enrollments`, {});
    const { certificateCode } = await call('studentA', 'POST', `/lessons/${certLesson.id}/complete`);
    const goal = await call('studentA', 'POST', '/learning/goals', { kind: 'minutes_per_week', target: 30 });
    const goalToDelete = await call('studentA', 'POST', '/learning/goals', { kind: 'lessons_per_week', target: 2 });
    const studySession = await call('studentA', 'POST', '/learning/sessions', { courseId: course.id });
    const inviteCourse = await call('teacherOwner', 'POST', '/courses', { title: 'Matrix invitations', status: 'published', visibility: 'private' });
    const invitationToAccept = await call('teacherOwner', 'POST', `/courses/${inviteCourse.id}/invitations`, { userId: users.studentA.userId });
    const invitationToDecline = await call('teacherOwner', 'POST', `/courses/${inviteCourse.id}/invitations`, { email: users.studentA.email });
    const invitationToRevoke = await call('teacherOwner', 'POST', `/courses/${inviteCourse.id}/invitations`, { userId: users.studentB.userId });
    return {
      inviteCourse: inviteCourse.id,
      invitationToAccept: invitationToAccept.id,
      invitationToDecline: invitationToDecline.id,
      invitationToRevoke: invitationToRevoke.id,
      goal: goal.id,
      goalToDelete: goalToDelete.id,
      studySession: studySession.id,
      quizLesson: quizLesson.id,
      certificate: certificateCode,
      quizCourse: quizCourse.id,
      quiz: quiz.id,
      question: question.id,
      attempt: attempt.id,
      adminQuiz: adminQuiz.id,
      adminQuestion: adminQuestion.id,
      course: course.id, lesson: lesson.id, privateCourse: privateCourse.id, adminCourse: adminCourse.id, adminLesson: adminLesson.id, studentAId: users.studentA.userId, studentBId: users.studentB.userId };
  },
  rules: {
    'GET /api/v1/courses': { allow: 'everyone' },
    'POST /api/v1/courses': { allow: teachers, body: (_f, actor) => ({ title: `Course by ${actor}` }) },
    'GET /api/v1/courses/{id}': { allow: 'everyone', params: (f) => ({ id: f.ids.course! }) },
    'PATCH /api/v1/courses/{id}': { allow: owners, params: (f) => ({ id: f.ids.course! }), body: () => ({ summary: 'Changed by the matrix' }) },
    'DELETE /api/v1/courses/{id}': { allow: ['admin'], params: (f) => ({ id: f.ids.adminCourse! }) },
    'GET /api/v1/courses/{id}/lessons': { allow: 'everyone', params: (f) => ({ id: f.ids.course! }) },
    'POST /api/v1/courses/{id}/lessons': { allow: owners, params: (f) => ({ id: f.ids.course! }), body: () => ({ title: 'Matrix lesson' }) },
    'GET /api/v1/lessons/{id}': { allow: 'everyone', params: (f) => ({ id: f.ids.lesson! }) },
    'PATCH /api/v1/lessons/{id}': { allow: owners, params: (f) => ({ id: f.ids.lesson! }), body: () => ({ title: 'Renamed lesson' }) },
    'DELETE /api/v1/lessons/{id}': { allow: ['admin'], params: (f) => ({ id: f.ids.adminLesson! }) },
    'GET /api/v1/courses/{id}/enrollments': { allow: owners, params: (f) => ({ id: f.ids.course! }) },
    'POST /api/v1/courses/{id}/enrollments': { allow: ['studentA', 'studentB', 'teacherOwner', 'teacherOther', 'admin'], params: (f) => ({ id: f.ids.course! }), body: () => ({}) },
    'GET /api/v1/courses/{id}/enrollments/{userId}': { allow: ['studentA', ...owners], params: (f) => ({ id: f.ids.course!, userId: f.ids.studentAId! }) },
    'PATCH /api/v1/courses/{id}/enrollments/{userId}': { allow: owners, params: (f) => ({ id: f.ids.privateCourse!, userId: f.ids.studentBId! }), body: () => ({ status: 'active' }) },
    'DELETE /api/v1/courses/{id}/enrollments/{userId}': { allow: ['studentA', ...owners], params: (f) => ({ id: f.ids.course!, userId: f.ids.studentAId! }) },
    'GET /api/v1/courses/{id}/quizzes': { allow: 'everyone', params: (f) => ({ id: f.ids.quizCourse! }) },
    'POST /api/v1/courses/{id}/quizzes': { allow: owners, params: (f) => ({ id: f.ids.quizCourse! }), body: () => ({ title: 'Another quiz' }) },
    'GET /api/v1/quizzes/{id}': { allow: 'everyone', params: (f) => ({ id: f.ids.quiz! }) },
    'PATCH /api/v1/quizzes/{id}': { allow: owners, params: (f) => ({ id: f.ids.quiz! }), body: () => ({ description: 'Changed by the matrix' }) },
    'DELETE /api/v1/quizzes/{id}': { allow: ['admin'], params: (f) => ({ id: f.ids.adminQuiz! }) },
    'GET /api/v1/quizzes/{id}/questions': { allow: owners, params: (f) => ({ id: f.ids.quiz! }) },
    'POST /api/v1/quizzes/{id}/questions': { allow: owners, params: (f) => ({ id: f.ids.quiz! }), body: () => SINGLE },
    'PATCH /api/v1/questions/{id}': { allow: owners, params: (f) => ({ id: f.ids.question! }), body: () => ({ prompt: 'Two plus two?' }) },
    'DELETE /api/v1/questions/{id}': { allow: ['admin'], params: (f) => ({ id: f.ids.adminQuestion! }) },
    // studentA already has an open attempt (409); staff may try their own quizzes; others are not enrolled.
    'POST /api/v1/quizzes/{id}/attempts': { allow: ['studentA', ...owners], params: (f) => ({ id: f.ids.quiz! }) },
    'GET /api/v1/quizzes/{id}/attempts': { allow: signedIn, params: (f) => ({ id: f.ids.quiz! }) },
    'GET /api/v1/attempts/{id}': { allow: ['studentA', ...owners], params: (f) => ({ id: f.ids.attempt! }) },
    'PATCH /api/v1/attempts/{id}': { allow: ['studentA'], params: (f) => ({ id: f.ids.attempt! }), body: (f) => ({ answers: [{ questionId: f.ids.question!, response: { optionId: 'b' } }] }) },
    'POST /api/v1/attempts/{id}/submit': { allow: ['studentA'], params: (f) => ({ id: f.ids.attempt! }) },
    'POST /api/v1/attempts/{id}/grade': { allow: owners, params: (f) => ({ id: f.ids.attempt! }), body: (f) => ({ grades: [{ questionId: f.ids.question!, points: 1 }] }) },
    'POST /api/v1/lessons/{id}/complete': { allow: ['studentA'], params: (f) => ({ id: f.ids.quizLesson! }) },
    'GET /api/v1/me/progress': { allow: signedIn },
    'GET /api/v1/certificates/{code}': { allow: 'everyone', params: (f) => ({ code: f.ids.certificate! }) },
    // Goals, study sessions, streaks and achievements are the caller's own: other users get 404.
    'POST /api/v1/learning/goals': { allow: signedIn, body: () => ({ kind: 'minutes_per_week', target: 30 }) },
    'GET /api/v1/learning/goals': { allow: signedIn },
    'GET /api/v1/learning/goals/{id}': { allow: ['studentA'], params: (f) => ({ id: f.ids.goal! }) },
    'PATCH /api/v1/learning/goals/{id}': { allow: ['studentA'], params: (f) => ({ id: f.ids.goal! }), body: () => ({ target: 45 }) },
    'DELETE /api/v1/learning/goals/{id}': { allow: ['studentA'], params: (f) => ({ id: f.ids.goalToDelete! }) },
    // A new session ends the caller's open one: studentA's heartbeat may then answer 409 (past the access rules).
    'POST /api/v1/learning/sessions': { allow: signedIn, body: () => ({}) },
    'GET /api/v1/learning/sessions': { allow: signedIn },
    'POST /api/v1/learning/sessions/{id}/heartbeat': { allow: ['studentA'], params: (f) => ({ id: f.ids.studySession! }) },
    'POST /api/v1/learning/sessions/{id}/stop': { allow: ['studentA'], params: (f) => ({ id: f.ids.studySession! }) },
    'GET /api/v1/me/streak': { allow: signedIn },
    'GET /api/v1/me/achievements': { allow: signedIn },
    // Invitations: teachers of the course invite, list and revoke; only the invitee answers (others: 404).
    'POST /api/v1/courses/{id}/invitations': { allow: owners, params: (f) => ({ id: f.ids.inviteCourse! }), body: (_f, actor) => ({ email: `invitee-${actor}@matrix.example` }) },
    'GET /api/v1/courses/{id}/invitations': { allow: owners, params: (f) => ({ id: f.ids.inviteCourse! }) },
    'DELETE /api/v1/courses/{id}/invitations/{invitationId}': { allow: owners, params: (f) => ({ id: f.ids.inviteCourse!, invitationId: f.ids.invitationToRevoke! }) },
    'GET /api/v1/me/course-invitations': { allow: signedIn },
    'GET /api/v1/courses/{id}/gradebook': { allow: owners, params: (f) => ({ id: f.ids.quizCourse! }) },
    'GET /api/v1/quizzes/{id}/item-analysis': { allow: owners, params: (f) => ({ id: f.ids.quiz! }) },
    // Everyone signed in reads statements: their own, or with learning:statements (admins) everyone's.
    'GET /api/v1/learning/statements': { allow: signedIn },
    'POST /api/v1/me/course-invitations/{id}/accept': { allow: ['studentA'], params: (f) => ({ id: f.ids.invitationToAccept! }) },
    'POST /api/v1/me/course-invitations/{id}/decline': { allow: ['studentA'], params: (f) => ({ id: f.ids.invitationToDecline! }) },
  },
};
