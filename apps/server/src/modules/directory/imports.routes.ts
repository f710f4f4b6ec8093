import { Type } from '@sinclair/typebox';
import { requirePrincipal } from '../../core/http/access.js';
import { Page, PageQuery } from '../../core/http/pagination.js';
import { AppError } from '../../core/http/problem.js';
import type { AppInstance } from '../../core/module.js';
import { IMPORT_MAX_BYTES, type DirectoryImports } from './directory.import.js';
import { Duplicate, Import, ImportParams } from './directory.schemas.js';

const tags = ['directory'];
const manage = { permission: 'directory:manage' } as const;

export function importRoutes(imports: DirectoryImports) {
  return async (app: AppInstance) => {
    app.addSchema(Import);
    app.addSchema(Duplicate);

    // Only this scope reads CSV bodies.
    await app.register(async (scope) => {
      scope.addContentTypeParser('text/csv', { parseAs: 'string', bodyLimit: IMPORT_MAX_BYTES }, (_request, body, done) => done(null, body));
      scope.post(
        '/directory/import',
        {
          bodyLimit: IMPORT_MAX_BYTES,
          config: { access: manage },
          schema: {
            tags,
            summary: 'Import profiles from CSV',
            description:
              'Body: a `text/csv` file (UTF-8, header row, at most 32 MiB) with at least the columns `externalId` and `name`; also read: email, graduationYear, program, department, company, jobTitle, industry, city, country, skills (separated by `;`), bio, links (URLs separated by spaces). Other columns are ignored. The import runs as a job: follow it at the `Location`. Rows are upserted by externalId (a re-import updates); rows that fail are reported at /directory/imports/{id}/errors; likely duplicates are listed at /directory/duplicates.',
            body: { content: { 'text/csv': { schema: Type.String({ minLength: 1, maxLength: IMPORT_MAX_BYTES }) } } },
            response: { 201: Type.Ref(Import) },
          },
        },
        async (request, reply) => {
          if (typeof request.body !== 'string') throw new AppError(415, 'UNSUPPORTED_MEDIA_TYPE', 'Send the file as a text/csv body.');
          const view = await imports.start(requirePrincipal(request), request.body);
          return reply.code(201).header('location', `/api/v1/directory/imports/${view.id}`).send(view);
        },
      );
    });

    app.get(
      '/directory/imports/:id',
      { config: { access: manage }, schema: { tags, summary: 'Follow an import', description: 'Status and progress counts.', params: ImportParams, response: { 200: Type.Ref(Import) } } },
      async (request) => imports.get(request.params.id),
    );

    app.get(
      '/directory/imports/:id/errors',
      {
        config: { access: manage },
        schema: {
          tags,
          summary: 'Download the rows an import could not store',
          description: 'CSV: `row` (1 = the first data row), `errors` (separated by `; `), then the row as it was in the file.',
          params: ImportParams,
          response: { 200: { description: 'The failed rows.', content: { 'text/csv': { schema: Type.String() } } } },
        },
      },
      async (request, reply) => {
        const stream = await imports.errorReport(request.params.id);
        return reply
          .header('content-type', 'text/csv; charset=utf-8')
          .header('content-disposition', `attachment; filename="${request.params.id.replace(/[^\w-]/g, '')}-errors.csv"`)
          .send(stream as never);
      },
    );

    app.get(
      '/directory/duplicates',
      {
        config: { access: manage },
        schema: { tags, summary: 'Likely duplicate profiles', description: 'Pairs flagged by imports (same email, or same name and graduation year), newest first. Nothing is merged automatically.', querystring: PageQuery, response: { 200: Page(Type.Ref(Duplicate)) } },
      },
      async (request) => imports.duplicates(request.query),
    );
  };
}
