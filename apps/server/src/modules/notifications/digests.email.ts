import type { DigestCadence } from './digests.windows.js';

/** One line of a digest: an inbox entry (or group of similar ones). */
export interface DigestItem {
  title: string;
  body: string;
  /** Absolute link into the app. */
  url: string;
}

interface DigestStrings {
  subject: (cadence: DigestCadence, total: number) => string;
  intro: (cadence: DigestCadence, total: number) => string;
  more: (n: number) => string;
  open: string;
  why: (cadence: DigestCadence) => string;
  preferences: string;
  unsubscribe: string;
}

const plural = (n: number, one: string, many: string) => `${n} ${n === 1 ? one : many}`;

/** One set of strings per locale (English is the fallback), as in email-templates.ts. */
export const DIGEST_LOCALES: Record<string, DigestStrings> = {
  en: {
    subject: (cadence, total) => `Your ${cadence} digest: ${plural(total, 'new notification', 'new notifications')}`,
    intro: (cadence, total) => `Here is what you have not seen ${cadence === 'daily' ? 'since yesterday' : 'this week'}: ${plural(total, 'notification', 'notifications')}.`,
    more: (n) => `…and ${n} more in the app.`,
    open: 'Open your notifications',
    why: (cadence) => `You receive this ${cadence} digest because you chose it in your notification settings.`,
    preferences: 'Notification settings',
    unsubscribe: 'Unsubscribe from this digest',
  },
};

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

/** The digest email: a subject, a plain-text and an HTML body listing `items` (`total` may be more). */
export function renderDigest(cadence: DigestCadence, items: DigestItem[], total: number, links: { inbox: string; preferences: string; unsubscribe: string }, locale = 'en'): { subject: string; text: string; html: string } {
  const s = DIGEST_LOCALES[locale] ?? DIGEST_LOCALES.en!;
  const rest = total - items.length;
  const text = [
    s.intro(cadence, total),
    '',
    ...items.flatMap((i) => [`* ${i.title}`, ...(i.body ? [`  ${i.body}`] : []), `  ${i.url}`]),
    ...(rest > 0 ? ['', s.more(rest)] : []),
    '',
    `${s.open}: ${links.inbox}`,
    '',
    '--',
    s.why(cadence),
    `${s.preferences}: ${links.preferences}`,
    `${s.unsubscribe}: ${links.unsubscribe}`,
  ].join('\n');
  const list = items
    .map((i) => `<li style="margin-bottom:10px"><a href="${escapeHtml(i.url)}"><strong>${escapeHtml(i.title)}</strong></a>${i.body ? `<br>${escapeHtml(i.body)}` : ''}</li>`)
    .join('\n');
  const html = `<!doctype html><html><body style="font-family:sans-serif;line-height:1.5;color:#222">
<p>${escapeHtml(s.intro(cadence, total))}</p>
<ul>
${list}
</ul>
${rest > 0 ? `<p>${escapeHtml(s.more(rest))}</p>` : ''}
<p><a href="${escapeHtml(links.inbox)}" style="background:#2b59c3;color:#fff;padding:8px 14px;border-radius:4px;text-decoration:none">${escapeHtml(s.open)}</a></p>
<hr><p style="font-size:12px;color:#666">${escapeHtml(s.why(cadence))}<br><a href="${escapeHtml(links.preferences)}">${escapeHtml(s.preferences)}</a> · <a href="${escapeHtml(links.unsubscribe)}">${escapeHtml(s.unsubscribe)}</a></p>
</body></html>`;
  return { subject: s.subject(cadence, total).slice(0, 200), text, html };
}
