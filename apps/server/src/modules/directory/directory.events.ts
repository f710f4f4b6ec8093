/** The events the directory module appends to the log, with their payloads. */
export const DirectoryEvents = {
  profileCreated: 'directory.profile.created',
  profileUpdated: 'directory.profile.updated',
  profileDeleted: 'directory.profile.deleted',
  exported: 'directory.export.created',
  importCompleted: 'directory.import.completed',
} as const;

export interface ProfileChangedPayload {
  profileId: string;
  userId: string | null;
  version: number;
  /** The API fields that changed (updates only). */
  fields?: string[];
}

export interface ProfileDeletedPayload {
  profileId: string;
  userId: string | null;
}

export interface ExportedPayload {
  exportId: string;
  format: 'csv' | 'json';
  level: 'public' | 'members' | 'all';
}

export interface ImportCompletedPayload {
  importId: string;
  status: 'succeeded' | 'failed';
  created: number;
  updated: number;
  failed: number;
  duplicates: number;
}
