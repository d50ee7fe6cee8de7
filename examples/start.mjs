// `npm start`: runs the TypeScript example through tsx (a devDependency), nothing to build.
import { register } from 'tsx/esm/api';

register();
await import('./app/main.ts');
