import { Type, type Static } from '@sinclair/typebox';

const LanguageMap = Type.Record(Type.String(), Type.String());
const Activity = Type.Object(
  {
    objectType: Type.Literal('Activity'),
    id: Type.String({ description: 'An IRI under PUBLIC_URL: the resource’s API URL.' }),
    definition: Type.Object({ type: Type.String(), name: Type.Optional(LanguageMap) }, { additionalProperties: false }),
  },
  { additionalProperties: false },
);

/** An xAPI 1.0.3 statement (the subset Lyceum emits). */
export const Statement = Type.Object(
  {
    id: Type.String({ format: 'uuid', description: 'UUID v5 of the event id: the same on every read.' }),
    actor: Type.Object(
      {
        objectType: Type.Literal('Agent'),
        account: Type.Object({ homePage: Type.String(), name: Type.String({ description: 'The learner’s user id.' }) }, { additionalProperties: false }),
      },
      { additionalProperties: false },
    ),
    verb: Type.Object({ id: Type.String(), display: LanguageMap }, { additionalProperties: false }),
    object: Activity,
    result: Type.Optional(
      Type.Object(
        {
          score: Type.Optional(Type.Object({ scaled: Type.Number(), raw: Type.Number(), min: Type.Number(), max: Type.Number() }, { additionalProperties: false })),
          success: Type.Optional(Type.Boolean()),
          completion: Type.Optional(Type.Boolean()),
        },
        { additionalProperties: false },
      ),
    ),
    context: Type.Optional(Type.Object({ contextActivities: Type.Object({ parent: Type.Array(Activity) }, { additionalProperties: false }) }, { additionalProperties: false })),
    timestamp: Type.String({ format: 'date-time' }),
    version: Type.Literal('1.0.3'),
  },
  { $id: 'LearningXapiStatement', additionalProperties: false },
);
export type Statement = Static<typeof Statement>;

export const StatementsQuery = Type.Object(
  {
    since: Type.Optional(Type.String({ minLength: 1, maxLength: 1024, description: 'The `nextCursor` of the previous call; omit to start from the oldest event kept.' })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 20 })),
  },
  { additionalProperties: false },
);
export type StatementsQuery = Static<typeof StatementsQuery>;
