import type { Category } from './notifications.schemas.js';

/** What a notification says, whatever the channel. */
export interface Content {
  title: string;
  body: string;
  link: string;
}

export interface EmailLinks {
  /** Absolute link into the app. */
  open: string;
  /** The notification settings page. */
  preferences: string;
  /** One-click unsubscribe from this category (also sent as the List-Unsubscribe header). */
  unsubscribe: string;
}

interface Strings {
  subjectPrefix: Record<Category, string>;
  intro: Record<Category, string>;
  open: string;
  why: (category: string) => string;
  unsubscribe: string;
  preferences: string;
}

/** One set of strings per locale; add a locale by adding an entry (English is the fallback). */
export const LOCALES: Record<string, Strings> = {
  en: {
    subjectPrefix: {
      comment: 'New comment',
      mention: 'You were mentioned',
      message: 'New message',
      reaction: 'New reaction',
      follow: 'New follower',
      enrollment: 'Enrollment',
      grade: 'Quiz graded',
      announcement: 'Announcement',
      security: 'Security notice',
    },
    intro: {
      comment: 'There is a new comment for you.',
      mention: 'Someone mentioned you.',
      message: 'You have a new message.',
      reaction: 'Someone reacted to what you wrote.',
      follow: 'You have a new follower.',
      enrollment: 'Your enrollment changed.',
      grade: 'One of your quiz attempts was graded.',
      announcement: 'Your course has an announcement.',
      security: 'Something changed in your account’s security.',
    },
    open: 'Open in Lyceum',
    why: (category) => `You receive this email because ${category} notifications are on in your settings.`,
    unsubscribe: 'Unsubscribe from these emails',
    preferences: 'Notification settings',
  },
};

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

/** The email of one category: a subject, a plain-text and an HTML body, in `locale` (or English). */
export function renderEmail(category: Category, content: Content, links: EmailLinks, locale = 'en'): { subject: string; text: string; html: string } {
  const s = LOCALES[locale] ?? LOCALES.en!;
  const subject = `${s.subjectPrefix[category]}: ${content.title}`.slice(0, 200);
  const footer = category === 'security' ? s.why(category) : `${s.why(category)}\n${s.unsubscribe}: ${links.unsubscribe}`;
  const text = [s.intro[category], '', content.title, content.body, '', `${s.open}: ${links.open}`, '', '--', footer, `${s.preferences}: ${links.preferences}`]
    .filter((line, i, all) => !(line === '' && all[i - 1] === ''))
    .join('\n');
  const unsubscribe = category === 'security' ? '' : ` · <a href="${escapeHtml(links.unsubscribe)}">${escapeHtml(s.unsubscribe)}</a>`;
  const html = `<!doctype html><html><body style="font-family:sans-serif;line-height:1.5;color:#222">
<p>${escapeHtml(s.intro[category])}</p>
<h2 style="font-size:18px">${escapeHtml(content.title)}</h2>
${content.body ? `<p>${escapeHtml(content.body)}</p>` : ''}
<p><a href="${escapeHtml(links.open)}" style="background:#2b59c3;color:#fff;padding:8px 14px;border-radius:4px;text-decoration:none">${escapeHtml(s.open)}</a></p>
<hr><p style="font-size:12px;color:#666">${escapeHtml(s.why(category))}<br><a href="${escapeHtml(links.preferences)}">${escapeHtml(s.preferences)}</a>${unsubscribe}</p>
</body></html>`;
  return { subject, text, html };
}
