/** The clock of the `now` option's default: the system's. Compared by identity, so the engine can read `Date.now()` itself. */
export const systemClock = (): Date => new Date();
