import { Type, type Static } from '@sinclair/typebox';

const Share = Type.Union([Type.Number({ minimum: 0, maximum: 1 }), Type.Null()]);

export const ItemAnalysis = Type.Object(
  {
    quizId: Type.String(),
    title: Type.String(),
    attemptsAnalysed: Type.Integer({ description: 'Students with a graded attempt: the latest of each is analysed.' }),
    method: Type.Literal('point-biserial', { description: 'Discrimination: Pearson correlation of the item score with the rest of the attempt’s score (item-rest, point-biserial for right/wrong items).' }),
    items: Type.Array(
      Type.Object(
        {
          questionId: Type.String(),
          type: Type.String(),
          prompt: Type.String(),
          points: Type.Number(),
          attempts: Type.Integer({ description: 'Analysed attempts that drew this question.' }),
          answered: Type.Integer({ description: 'Of those, how many gave an answer.' }),
          correctShare: Type.Union([Type.Number(), Type.Null()], { description: 'Share with full credit (unanswered counts as not correct); null without attempts.' }),
          meanScore: Type.Union([Type.Number(), Type.Null()], { description: 'Mean points.' }),
          discrimination: Type.Union([Type.Number({ minimum: -1, maximum: 1 }), Type.Null()], { description: 'Item-rest correlation, −1..1; null when fewer than two attempts or no variation.' }),
          options: Type.Optional(
            Type.Array(
              Type.Object(
                { optionId: Type.String(), text: Type.String(), correct: Type.Boolean(), count: Type.Integer(), share: Share },
                { additionalProperties: false },
              ),
              { description: 'Choice questions: how many attempts chose each option, and the share of `attempts`.' },
            ),
          ),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { $id: 'LearningItemAnalysis', additionalProperties: false },
);
export type ItemAnalysisView = Static<typeof ItemAnalysis>;
