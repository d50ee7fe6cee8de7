/**
 * A quoted SQL identifier: SQLite and PostgreSQL both take standard double quotes, and an
 * embedded double quote is doubled (table names carry the host's prefix).
 */
export function quote(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}
