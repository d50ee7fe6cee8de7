export { idOrNull, numOrNull, textOrNull } from '../tracker/audience-rows';

/** A database row: column name to the value the driver returned or will bind. */
export type Row = Record<string, unknown>;

/** The column that stores a field: `userAgent` in `user_agent`. */
export type ColumnOf<Field extends string> = Field extends `${infer Head}${infer Tail}`
  ? `${Head extends Lowercase<Head> ? Head : `_${Lowercase<Head>}`}${ColumnOf<Tail>}`
  : Field;

type Columns<T> = readonly ColumnOf<keyof T & string>[];

/** `Listed` when it names every column of `T`'s fields; `never` (a type error) otherwise. */
type EveryColumn<T, Listed extends Columns<T>> = [Exclude<ColumnOf<keyof T & string>, Listed[number]>] extends [never] ? Listed : never;

/**
 * How each field of `T` is read back from its column, one entry per field: a field left out,
 * or a column with no field, is a type error rather than a value lost on the way to the store.
 */
export type ColumnReaders<T> = {
  readonly [Field in keyof T & string as ColumnOf<Field>]-?: (value: unknown) => T[Field];
};

/** Reads and writes the rows of one table, each column holding the field of its camelCase name. */
export interface RowCodec<T> {
  /** The columns, in the order of the readers. */
  readonly columns: readonly string[];
  readonly read: (row: Row) => T;
  readonly write: (value: T) => Row;
}

const fieldOf = (column: string): string => column.replace(/_([a-z])/g, (_, letter: string) => letter.toUpperCase());

/** Checks that `columns` names a column for every field of `T`, and returns it as given. */
export function everyColumn<T>(): <const Listed extends Columns<T>>(columns: EveryColumn<T, Listed>) => Listed {
  return (columns) => columns;
}

/** Writes a `T` as the row of `columns`, each holding the field of its camelCase name. */
// eslint-disable-next-line @typescript-eslint/no-unnecessary-type-parameters -- the caller names T so the writer it gets takes only a T
export function rowWriter<T>(columns: readonly string[]): (value: T) => Row {
  const pairs = columns.map((column) => [column, fieldOf(column)] as const);
  return (value) => {
    const row: Row = {};
    for (const [column, field] of pairs) row[column] = (value as Record<string, unknown>)[field];
    return row;
  };
}

/**
 * The codec of the fields `readers` lists. It copies fields in a loop, several times slower
 * than an object literal: the tables read on every lookup or by `verify()` keep hand-written
 * readers.
 */
export function rowCodec<T>(readers: ColumnReaders<T>): RowCodec<T> {
  const spec = Object.entries(readers as Record<string, (value: unknown) => unknown>).map(([column, read]) => ({ column, field: fieldOf(column), read }));
  const columns = spec.map(({ column }) => column);
  return {
    columns,
    read: (row) => {
      const value: Record<string, unknown> = {};
      for (const { column, field, read } of spec) value[field] = read(row[column]);
      return value as T;
    },
    write: rowWriter<T>(columns),
  };
}

// PostgreSQL returns BIGINT as a string; SQLite as a number. Both fit a double (epoch ms).
export const num = (value: unknown): number => Number(value);
// The caller names S (a column of states, actions…): the reader then returns that union.
// eslint-disable-next-line @typescript-eslint/no-unnecessary-type-parameters -- see above
export const text = <S extends string = string>(value: unknown): S => value as S;

/**
 * Digests, pseudonyms and chain keys are stored as bytes and handled as lowercase hex: a
 * driver's Buffer, or the hex a JSON page already selected, becomes hex; null stays null.
 */
export const hexOrNull = (value: unknown): string | null =>
  value === null || value === undefined ? null : Buffer.isBuffer(value) ? value.toString('hex') : (value as string);
/** `hexOrNull` for a column that is never null; a missing value reads as `''`. */
export const hex = (value: unknown): string => hexOrNull(value) ?? '';
// Lowercase hex: in whole bytes, the text `hex` reads back for the bytes it stands for.
const LOWER_HEX = /^[0-9a-f]*$/;

/** `value` (hex) as `hex` reads it back once stored as bytes. */
export const storedHex = (value: string): string => (value.length % 2 === 0 && LOWER_HEX.test(value) ? value : hex(bytes(value)));
/** The bytes a hex value is stored as. */
export const bytes = (value: string): Buffer => Buffer.from(value, 'hex');
