import { AppError } from '../../core/http/problem.js';

/** Every error code the directory module answers with. */
export const DirectoryErrors = {
  DIRECTORY_PROFILE_NOT_FOUND: 'DIRECTORY_PROFILE_NOT_FOUND',
  DIRECTORY_PROFILE_EXISTS: 'DIRECTORY_PROFILE_EXISTS',
  DIRECTORY_USER_NOT_FOUND: 'DIRECTORY_USER_NOT_FOUND',
  DIRECTORY_EXTERNAL_ID_TAKEN: 'DIRECTORY_EXTERNAL_ID_TAKEN',
  DIRECTORY_IMPORT_INVALID: 'DIRECTORY_IMPORT_INVALID',
  DIRECTORY_IMPORT_NOT_FOUND: 'DIRECTORY_IMPORT_NOT_FOUND',
} as const;

export const profileNotFound = () => new AppError(404, DirectoryErrors.DIRECTORY_PROFILE_NOT_FOUND, 'No such profile.');
