import { invalid } from './learning.errors.js';
import type { QuestionCreate, QuestionType, QuestionView, ResponseValue } from './quizzes.schemas.js';

/**
 * Question types: what students see (`content`), the answer key, validation of both, and scoring.
 * Scoring happens on the server only; the key leaves it only in staff views and in feedback after
 * submission, when the quiz's feedback level allows.
 */
interface Item {
  id: string;
  text: string;
}
export interface QuestionContent {
  options?: Item[];
  left?: Item[];
  right?: Item[];
}
export interface AnswerKey {
  optionIds?: string[];
  value?: boolean | number;
  tolerance?: number;
  accepted?: string[];
  match?: 'exact' | 'case_insensitive' | 'pattern';
  order?: string[];
  pairs?: Array<[string, string]>;
}

export const SHORT_TEXT_MAX = 500;
const PATTERN_MAX = 200;

/** Refuses patterns that can backtrack catastrophically: nested quantifiers and back-references. */
export function checkPattern(pattern: string): RegExp {
  const path = '/body/acceptedAnswers';
  if (pattern.length > PATTERN_MAX) throw invalid(`A pattern may be ${PATTERN_MAX} characters at most.`, path);
  if (/\\[1-9]|\\k</.test(pattern)) throw invalid('Patterns may not use back-references.', path);
  // A quantified group that itself contains a quantifier: (a+)+, (a|aa)*, (\w*)* …
  if (/\((?:[^()\\]|\\.)*(?:[*+?}]|\|)(?:[^()\\]|\\.)*\)\s*(?:[*+{]|\?(?!\?))/.test(pattern) || /[*+}]\s*[*+{]/.test(pattern)) {
    throw invalid('Patterns may not nest quantifiers (like (a+)+): they can take exponential time.', path);
  }
  try {
    return new RegExp(`^(?:${pattern})$`, 'iu');
  } catch {
    throw invalid('The pattern is not a valid regular expression.', path);
  }
}

const ids = (items: Item[] | undefined) => (items ?? []).map((i) => i.id);
const unique = (values: string[]) => new Set(values).size === values.length;

/** Validates an authored question and splits it into what students see and the answer key. */
export function buildQuestion(q: Pick<QuestionCreate, 'type'> & Partial<QuestionCreate>): { content: QuestionContent; key: AnswerKey } {
  const need = (ok: unknown, message: string, path: string) => {
    if (!ok) throw invalid(message, `/body/${path}`);
  };
  switch (q.type) {
    case 'single':
    case 'multiple': {
      need(q.options, 'Choice questions need `options`.', 'options');
      need(unique(ids(q.options)), 'Option ids must be unique.', 'options');
      need(q.correctOptionIds, 'Choice questions need `correctOptionIds`.', 'correctOptionIds');
      need(q.correctOptionIds!.every((id) => ids(q.options).includes(id)), 'Every correct option must be one of the options.', 'correctOptionIds');
      need(q.type === 'multiple' || q.correctOptionIds!.length === 1, 'A single-choice question has exactly one correct option.', 'correctOptionIds');
      return { content: { options: q.options }, key: { optionIds: q.correctOptionIds } };
    }
    case 'true_false':
      need(q.correctBoolean !== undefined, 'True/false questions need `correctBoolean`.', 'correctBoolean');
      return { content: {}, key: { value: q.correctBoolean } };
    case 'short_text': {
      need(q.acceptedAnswers, 'Short-text questions need `acceptedAnswers`.', 'acceptedAnswers');
      const match = q.match ?? 'case_insensitive';
      if (match === 'pattern') for (const p of q.acceptedAnswers!) checkPattern(p);
      return { content: {}, key: { accepted: q.acceptedAnswers, match } };
    }
    case 'numeric':
      need(q.correctNumber !== undefined, 'Numeric questions need `correctNumber`.', 'correctNumber');
      return { content: {}, key: { value: q.correctNumber, tolerance: q.tolerance ?? 0 } };
    case 'ordering':
      need(q.options, 'Ordering questions need `options`, in the correct order.', 'options');
      need(unique(ids(q.options)), 'Item ids must be unique.', 'options');
      return { content: { options: q.options }, key: { order: ids(q.options) } };
    case 'matching': {
      need(q.pairs, 'Matching questions need `pairs`.', 'pairs');
      const left = q.pairs!.map((p) => p.left);
      const right = q.pairs!.map((p) => p.right);
      need(unique(ids(left)) && unique(ids(right)), 'Item ids must be unique on each side.', 'pairs');
      return { content: { left, right }, key: { pairs: q.pairs!.map((p) => [p.left.id, p.right.id]) } };
    }
    case 'free_text':
      return { content: {}, key: {} };
  }
}

/** The author's fields back from content and key (the staff view). */
export function authoredFields(type: QuestionType, content: QuestionContent, key: AnswerKey): Partial<QuestionView> {
  switch (type) {
    case 'single':
    case 'multiple':
      return { options: content.options ?? [], correctOptionIds: key.optionIds ?? [] };
    case 'true_false':
      return { correctBoolean: Boolean(key.value) };
    case 'short_text':
      return { acceptedAnswers: key.accepted ?? [], match: key.match ?? 'case_insensitive' };
    case 'numeric':
      return { correctNumber: Number(key.value ?? 0), tolerance: key.tolerance ?? 0 };
    case 'ordering':
      return { options: content.options ?? [] };
    case 'matching': {
      const left = new Map((content.left ?? []).map((i) => [i.id, i]));
      const right = new Map((content.right ?? []).map((i) => [i.id, i]));
      return { pairs: (key.pairs ?? []).map(([l, r]) => ({ left: left.get(l)!, right: right.get(r)! })).filter((p) => p.left && p.right) };
    }
    case 'free_text':
      return {};
  }
}

/** Refuses a response of the wrong shape for the question (422), so that what is stored can be scored. */
export function checkResponse(type: QuestionType, content: QuestionContent, r: ResponseValue, path: string): void {
  const fail = (message: string) => {
    throw invalid(message, path);
  };
  const optionIds = ids(content.options);
  switch (type) {
    case 'single':
      if (r.optionId === undefined || !optionIds.includes(r.optionId)) fail('Answer with `optionId`, one of the options.');
      return;
    case 'multiple':
      if (!r.optionIds || !r.optionIds.every((id) => optionIds.includes(id))) fail('Answer with `optionIds`, among the options.');
      return;
    case 'true_false':
      if (typeof r.value !== 'boolean') fail('Answer with `value`: true or false.');
      return;
    case 'numeric':
      if (typeof r.value !== 'number') fail('Answer with `value`: a number.');
      return;
    case 'short_text':
      if (typeof r.text !== 'string' || r.text.length > SHORT_TEXT_MAX) fail(`Answer with \`text\` (${SHORT_TEXT_MAX} characters at most).`);
      return;
    case 'free_text':
      if (typeof r.text !== 'string') fail('Answer with `text`.');
      return;
    case 'ordering':
      if (!r.order || r.order.length !== optionIds.length || !r.order.every((id) => optionIds.includes(id))) fail('Answer with `order`: every item id once.');
      return;
    case 'matching': {
      const left = ids(content.left);
      const right = ids(content.right);
      if (!r.matches || !r.matches.every((m) => left.includes(m.leftId) && right.includes(m.rightId)) || !unique(r.matches.map((m) => m.leftId))) {
        fail('Answer with `matches`: pairs of left and right ids, each left item once.');
      }
      return;
    }
  }
}

const round = (n: number) => Math.round(n * 100) / 100;
const normalize = (s: string) => s.normalize('NFKC').trim().replace(/\s+/g, ' ');

/**
 * Points for a response: null for free text (a teacher grades it).
 * - single, true/false, numeric (within tolerance), short text: all or nothing.
 * - multiple: partial credit, (right choices − wrong choices) / correct options, never below 0.
 * - ordering: share of items in their correct place. matching: share of correct pairs.
 */
export function scoreResponse(type: QuestionType, key: AnswerKey, points: number, r: ResponseValue | null): number | null {
  if (type === 'free_text') return null;
  if (!r) return 0;
  switch (type) {
    case 'single':
      return r.optionId !== undefined && key.optionIds?.[0] === r.optionId ? points : 0;
    case 'multiple': {
      const correct = new Set(key.optionIds ?? []);
      const chosen = r.optionIds ?? [];
      const right = chosen.filter((id) => correct.has(id)).length;
      const wrong = chosen.length - right;
      return correct.size ? round(points * Math.max(0, (right - wrong) / correct.size)) : 0;
    }
    case 'true_false':
      return r.value === key.value ? points : 0;
    case 'numeric':
      return typeof r.value === 'number' && typeof key.value === 'number' && Math.abs(r.value - key.value) <= (key.tolerance ?? 0) + 1e-9 ? points : 0;
    case 'short_text': {
      if (typeof r.text !== 'string' || r.text.length > SHORT_TEXT_MAX) return 0;
      const given = normalize(r.text);
      const accepted = key.accepted ?? [];
      const ok =
        key.match === 'exact'
          ? accepted.some((a) => normalize(a) === given)
          : key.match === 'pattern'
            ? accepted.some((p) => {
                try {
                  return checkPattern(p).test(given);
                } catch {
                  return false;
                }
              })
            : accepted.some((a) => normalize(a).toLocaleLowerCase() === given.toLocaleLowerCase());
      return ok ? points : 0;
    }
    case 'ordering': {
      const order = key.order ?? [];
      if (!order.length) return 0;
      const placed = order.filter((id, i) => r.order?.[i] === id).length;
      return round((points * placed) / order.length);
    }
    case 'matching': {
      const pairs = key.pairs ?? [];
      if (!pairs.length) return 0;
      const given = new Map((r.matches ?? []).map((m) => [m.leftId, m.rightId]));
      const right = pairs.filter(([l, rr]) => given.get(l) === rr).length;
      return round((points * right) / pairs.length);
    }
  }
}

/** The correct answer as a response, for feedback at the `answers` level. */
export function correctResponse(type: QuestionType, key: AnswerKey): ResponseValue | undefined {
  switch (type) {
    case 'single':
      return { optionId: key.optionIds?.[0] };
    case 'multiple':
      return { optionIds: key.optionIds ?? [] };
    case 'true_false':
    case 'numeric':
      return { value: key.value as boolean | number };
    case 'short_text':
      return key.match === 'pattern' ? undefined : { text: key.accepted?.[0] ?? '' };
    case 'ordering':
      return { order: key.order ?? [] };
    case 'matching':
      return { matches: (key.pairs ?? []).map(([leftId, rightId]) => ({ leftId, rightId })) };
    case 'free_text':
      return undefined;
  }
}
