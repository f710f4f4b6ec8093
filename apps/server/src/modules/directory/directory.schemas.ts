import { Type, type Static, type TOptional } from '@sinclair/typebox';

/** The fields whose visibility the person chooses (the name is always public: it is what a directory lists). */
export const VISIBLE_FIELDS = ['email', 'graduationYear', 'program', 'department', 'company', 'jobTitle', 'industry', 'city', 'country', 'skills', 'bio', 'links'] as const;
export type VisibleField = (typeof VISIBLE_FIELDS)[number];

export const Visibility = Type.Union([Type.Literal('public'), Type.Literal('members'), Type.Literal('hidden')], {
  description: '`public`: anyone; `members`: signed-in callers; `hidden`: only the person and directory admins.',
});
export type Visibility = Static<typeof Visibility>;

/** Defaults when the person does not choose: email hidden, everything else for members. */
export const DEFAULT_VISIBILITY: Record<VisibleField, Visibility> = {
  email: 'hidden',
  graduationYear: 'members',
  program: 'members',
  department: 'members',
  company: 'members',
  jobTitle: 'members',
  industry: 'members',
  city: 'members',
  country: 'members',
  skills: 'members',
  bio: 'members',
  links: 'members',
};

const Text = (maxLength: number, description?: string) => Type.String({ minLength: 1, maxLength, pattern: '\\S', ...(description ? { description } : {}) });
const Nullable = <T extends ReturnType<typeof Type.String> | ReturnType<typeof Type.Integer>>(schema: T) => Type.Union([schema, Type.Null()]);

export const Name = Text(200);
export const Email = Type.String({ format: 'email', minLength: 3, maxLength: 254 });
export const GraduationYear = Type.Integer({ minimum: 1900, maximum: 2100 });
export const Skill = Text(60);
export const Skills = Type.Array(Skill, { maxItems: 50, description: 'Compared exactly; duplicates (ignoring case) are dropped.' });
export const Link = Type.Object(
  { label: Text(100), url: Type.String({ format: 'uri', pattern: '^https?://', minLength: 8, maxLength: 2048 }) },
  { additionalProperties: false },
);
export const Links = Type.Array(Link, { maxItems: 20 });
export const VisibilityMap = Type.Object(
  Object.fromEntries(VISIBLE_FIELDS.map((f) => [f, Type.Optional(Visibility)])) as Record<VisibleField, TOptional<typeof Visibility>>,
  { additionalProperties: false, description: 'Per-field visibility; fields left out keep their current (or default) value.' },
);

const editable = {
  email: Type.Optional(Nullable(Email)),
  graduationYear: Type.Optional(Nullable(GraduationYear)),
  program: Type.Optional(Nullable(Text(200, 'Program or degree.'))),
  department: Type.Optional(Nullable(Text(200))),
  company: Type.Optional(Nullable(Text(200))),
  jobTitle: Type.Optional(Nullable(Text(200))),
  industry: Type.Optional(Nullable(Text(100))),
  city: Type.Optional(Nullable(Text(100))),
  country: Type.Optional(Nullable(Text(100))),
  skills: Type.Optional(Skills),
  bio: Type.Optional(Nullable(Type.String({ maxLength: 5000 }))),
  links: Type.Optional(Links),
  visibility: Type.Optional(VisibilityMap),
};

export const ProfileCreate = Type.Object(
  {
    name: Name,
    ...editable,
    userId: Type.Optional(
      Type.Union([Type.String({ minLength: 1, maxLength: 64 }), Type.Null()], {
        description: 'Directory admins only: the account to link the profile to, or null for an unlinked profile (the default for admins). Others always create their own.',
      }),
    ),
    externalId: Type.Optional(Type.Union([Text(200), Type.Null()], { description: 'Directory admins only: the id in the school’s own records (import key).' })),
  },
  { additionalProperties: false },
);
export type ProfileCreate = Static<typeof ProfileCreate>;

export const ProfilePatch = Type.Object(
  {
    name: Type.Optional(Name),
    ...editable,
    version: Type.Optional(Type.Integer({ minimum: 1, maximum: 1_000_000_000, description: 'The version being changed; the same as If-Match.' })),
  },
  { additionalProperties: false, minProperties: 1, description: 'JSON merge patch: null clears a field, absent leaves it.' },
);
export type ProfilePatch = Static<typeof ProfilePatch>;

export const Profile = Type.Object(
  {
    id: Type.String(),
    userId: Type.Union([Type.String(), Type.Null()]),
    name: Type.String(),
    email: Type.Optional(Type.Union([Type.String(), Type.Null()])),
    graduationYear: Type.Optional(Type.Union([Type.Integer(), Type.Null()])),
    program: Type.Optional(Type.Union([Type.String(), Type.Null()])),
    department: Type.Optional(Type.Union([Type.String(), Type.Null()])),
    company: Type.Optional(Type.Union([Type.String(), Type.Null()])),
    jobTitle: Type.Optional(Type.Union([Type.String(), Type.Null()])),
    industry: Type.Optional(Type.Union([Type.String(), Type.Null()])),
    city: Type.Optional(Type.Union([Type.String(), Type.Null()])),
    country: Type.Optional(Type.Union([Type.String(), Type.Null()])),
    skills: Type.Optional(Type.Array(Type.String())),
    bio: Type.Optional(Type.Union([Type.String(), Type.Null()])),
    links: Type.Optional(Type.Array(Type.Object({ label: Type.String(), url: Type.String() }, { additionalProperties: false }))),
    externalId: Type.Optional(Type.Union([Type.String(), Type.Null()], { description: 'Shown to directory admins only.' })),
    visibility: Type.Optional(
      Type.Object(Object.fromEntries(VISIBLE_FIELDS.map((f) => [f, Visibility])) as Record<VisibleField, typeof Visibility>, {
        additionalProperties: false,
        description: 'Shown to the person and to directory admins only.',
      }),
    ),
    version: Type.Integer(),
    createdAt: Type.String({ format: 'date-time' }),
    updatedAt: Type.String({ format: 'date-time' }),
  },
  {
    $id: 'DirectoryProfile',
    title: 'DirectoryProfile',
    additionalProperties: false,
    description: 'A field the caller may not see is absent. Guests see public fields, signed-in callers public and members fields, the person and directory admins everything.',
  },
);
export type ProfileView = Static<typeof Profile>;

export const ProfileParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) });

export const SORTS = ['name', '-name', 'graduationYear', '-graduationYear'] as const;
export type Sort = (typeof SORTS)[number];

const Facet = Type.String({ minLength: 1, maxLength: 200, pattern: '\\S', description: 'Exact value, as shown in the facet counts.' });
export const SearchQuery = Type.Object(
  {
    q: Type.Optional(Type.String({ maxLength: 200, description: 'Words to find (all must match), in the fields the caller may see.' })),
    yearFrom: Type.Optional(Type.Integer({ minimum: 1900, maximum: 2100, description: 'Graduation year at least.' })),
    yearTo: Type.Optional(Type.Integer({ minimum: 1900, maximum: 2100, description: 'Graduation year at most.' })),
    program: Type.Optional(Facet),
    department: Type.Optional(Facet),
    industry: Type.Optional(Facet),
    country: Type.Optional(Facet),
    skills: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 60, pattern: '\\S' }), { maxItems: 10, description: 'Every skill listed must be present (repeat the parameter).' })),
    sort: Type.Optional(Type.Union(SORTS.map((s) => Type.Literal(s)), { default: 'name', description: 'A field the caller may not see sorts as if empty.' })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 20, description: 'Items per page (1–100).' })),
    cursor: Type.Optional(Type.String({ minLength: 1, maxLength: 1024, description: 'Opaque `nextCursor` of the previous page.' })),
  },
  { additionalProperties: false },
);
export type SearchQuery = Static<typeof SearchQuery>;

export const FACETS = ['graduationYear', 'program', 'department', 'industry', 'country', 'skills'] as const;
export type FacetName = (typeof FACETS)[number];

const FacetCounts = Type.Array(Type.Object({ value: Type.Union([Type.String(), Type.Integer()]), count: Type.Integer({ minimum: 0 }) }, { additionalProperties: false }), {
  description: 'The 20 most frequent values among the matching profiles, counting only values the caller may see.',
});

export const SearchResult = Type.Object(
  {
    items: Type.Array(Type.Ref(Profile)),
    nextCursor: Type.Union([Type.String(), Type.Null()], { description: 'Pass as `cursor` for the next page; null on the last page.' }),
    total: Type.Integer({ minimum: 0, description: 'How many profiles match.' }),
    facets: Type.Object(Object.fromEntries(FACETS.map((f) => [f, FacetCounts])) as Record<FacetName, typeof FacetCounts>, { additionalProperties: false }),
  },
  { additionalProperties: false },
);
export type SearchResultView = Static<typeof SearchResult>;

export const ListQuery = Type.Object(
  {
    sort: SearchQuery.properties.sort,
    limit: SearchQuery.properties.limit,
    cursor: SearchQuery.properties.cursor,
  },
  { additionalProperties: false },
);

export const ExportQuery = Type.Object(
  { format: Type.Optional(Type.Union([Type.Literal('csv'), Type.Literal('json')], { default: 'csv' })) },
  { additionalProperties: false },
);

export const ImportParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) });

export const Import = Type.Object(
  {
    id: Type.String(),
    status: Type.Union([Type.Literal('queued'), Type.Literal('running'), Type.Literal('succeeded'), Type.Literal('failed')]),
    columns: Type.Array(Type.String(), { description: 'The header row of the file.' }),
    totalRows: Type.Union([Type.Integer(), Type.Null()], { description: 'Data rows in the file; null until the job has counted them.' }),
    processedRows: Type.Integer({ description: 'Rows handled so far (stored or failed).' }),
    created: Type.Integer(),
    updated: Type.Integer(),
    failed: Type.Integer({ description: 'Rows that were not stored; see GET /directory/imports/{id}/errors.' }),
    duplicates: Type.Integer({ description: 'Likely duplicates flagged for review (GET /directory/duplicates).' }),
    error: Type.Union([Type.String(), Type.Null()], { description: 'Why the whole import failed (a malformed file).' }),
    createdAt: Type.String({ format: 'date-time' }),
    updatedAt: Type.String({ format: 'date-time' }),
    finishedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  },
  { $id: 'DirectoryImport', title: 'DirectoryImport', additionalProperties: false },
);
export type ImportView = Static<typeof Import>;

export const Duplicate = Type.Object(
  {
    id: Type.String(),
    reason: Type.Union([Type.Literal('email'), Type.Literal('nameAndYear')]),
    importId: Type.Union([Type.String(), Type.Null()]),
    createdAt: Type.String({ format: 'date-time' }),
    profiles: Type.Array(Type.Ref(Profile), { minItems: 2, maxItems: 2 }),
  },
  { $id: 'DirectoryDuplicate', title: 'DirectoryDuplicate', additionalProperties: false },
);
export type DuplicateView = Static<typeof Duplicate>;

export const DuplicateParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) });

/** What a merge may take from either profile: every visible field, the name and the externalId. */
export const MERGE_FIELDS = ['name', ...VISIBLE_FIELDS, 'externalId'] as const;
export type MergeField = (typeof MERGE_FIELDS)[number];
const Choice = Type.Union([Type.Literal('keep'), Type.Literal('other')]);

export const MergeRequest = Type.Object(
  {
    keep: Type.String({ minLength: 1, maxLength: 64, description: 'The id of the profile that survives (one of the pair); the other is deleted.' }),
    keepVersion: Type.Integer({ minimum: 1, maximum: 1_000_000_000, description: 'The version of the kept profile you reviewed (412 when it changed since).' }),
    otherVersion: Type.Integer({ minimum: 1, maximum: 1_000_000_000, description: 'The version of the other profile you reviewed (412 when it changed since).' }),
    choices: Type.Optional(
      Type.Object(Object.fromEntries(MERGE_FIELDS.map((f) => [f, Type.Optional(Choice)])) as Record<MergeField, TOptional<typeof Choice>>, {
        additionalProperties: false,
        description: 'Per field: `other` takes the other profile’s value, `keep` keeps the kept one’s (even when empty). Without a choice, the other’s value fills only an empty field.',
      }),
    ),
  },
  { additionalProperties: false },
);
export type MergeRequest = Static<typeof MergeRequest>;
