import type { Action, Source, State } from './types';

/* The closed sets of words the contract names, each written once: checks, documents and pages read them here. */

/** Every state, in the order the console lists them. */
export const STATES: readonly State[] = ['granted', 'denied', 'pending', 'unset', 'expired', 'outdated'];

/** Every action an event records. */
export const ACTIONS: readonly Action[] = ['grant', 'deny', 'withdraw', 'request', 'confirm', 'expire', 'erase'];

/** Every source an event records. */
export const SOURCES: readonly Source[] = ['api', 'form', 'app', 'admin', 'gpc', 'sweep', 'import', 'confirm', 'link'];
