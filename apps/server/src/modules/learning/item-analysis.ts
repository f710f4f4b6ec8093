/**
 * Item analysis of a quiz: per question, how many attempts had it, the share with full credit, the
 * mean score, the discrimination, and for choice questions the share of each option. Pure functions
 * over the attempts given (the service passes each student's latest graded attempt).
 */

export interface AnalysedQuestion {
  id: string;
  type: string;
  prompt: string;
  points: number;
  /** Choice questions: the options and which are correct. */
  options?: Array<{ id: string; text: string; correct: boolean }>;
}

export interface AnalysedAttempt {
  /** The attempt's total score. */
  score: number;
  /** Per question the attempt drew: the points given and the response (null when unanswered). */
  answers: Map<string, { points: number; response: unknown }>;
}

export interface ItemStats {
  questionId: string;
  type: string;
  prompt: string;
  points: number;
  attempts: number;
  answered: number;
  correctShare: number | null;
  meanScore: number | null;
  discrimination: number | null;
  options?: Array<{ optionId: string; text: string; correct: boolean; count: number; share: number | null }>;
}

const round = (n: number) => Math.round(n * 10_000) / 10_000;
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

/**
 * Pearson's correlation of x and y; with a right/wrong item this is the point-biserial coefficient.
 * Null when it is undefined: fewer than two pairs, or one side does not vary.
 */
export function correlation(xs: number[], ys: number[]): number | null {
  if (xs.length < 2) return null;
  const mx = mean(xs);
  const my = mean(ys);
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < xs.length; i++) {
    sxy += (xs[i]! - mx) * (ys[i]! - my);
    sxx += (xs[i]! - mx) ** 2;
    syy += (ys[i]! - my) ** 2;
  }
  // Tolerate float noise around zero variance (0.1 + 0.2 …).
  if (sxx < 1e-12 || syy < 1e-12) return null;
  return sxy / Math.sqrt(sxx * syy);
}

/** The options a response chose: `optionId` (single) or `optionIds` (multiple). */
function chosen(response: unknown): string[] {
  if (!response || typeof response !== 'object') return [];
  const r = response as { optionId?: unknown; optionIds?: unknown };
  if (typeof r.optionId === 'string') return [r.optionId];
  if (Array.isArray(r.optionIds)) return r.optionIds.filter((id): id is string => typeof id === 'string');
  return [];
}

export function analyseItems(questions: AnalysedQuestion[], attempts: AnalysedAttempt[]): ItemStats[] {
  return questions.map((q) => {
    const had = attempts.flatMap((a) => {
      const answer = a.answers.get(q.id);
      return answer ? [{ ...answer, rest: a.score - answer.points }] : [];
    });
    const scores = had.map((h) => h.points);
    const stats: ItemStats = {
      questionId: q.id,
      type: q.type,
      prompt: q.prompt,
      points: q.points,
      attempts: had.length,
      answered: had.filter((h) => h.response !== null && h.response !== undefined).length,
      correctShare: had.length ? round(scores.filter((s) => s >= q.points).length / had.length) : null,
      meanScore: had.length ? round(mean(scores)) : null,
      discrimination: (() => {
        const r = correlation(scores, had.map((h) => h.rest));
        return r === null ? null : round(r);
      })(),
    };
    if (q.options) {
      stats.options = q.options.map((o) => {
        const count = had.filter((h) => chosen(h.response).includes(o.id)).length;
        return { optionId: o.id, text: o.text, correct: o.correct, count, share: had.length ? round(count / had.length) : null };
      });
    }
    return stats;
  });
}
