/**
 * A text cell that a spreadsheet would run as a formula (`=`, `+`, `-`, `@`, tab, carriage return
 * first) is prefixed with `'`, so that it shows as text (OWASP "CSV injection"). Numbers are left alone.
 */
export const neutraliseFormula = (value: string): string => (/^[=+\-@\t\r]/.test(value) ? `'${value}` : value);
